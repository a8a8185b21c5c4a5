SELECT
  `t2`.`__day` - INTERVAL ((
    (
      (
        (
          DAYOFWEEK(`t2`.`__day`) + 5
        ) % 7
      ) - 0
    ) + 7
  ) % 7) DAY AS `__period`,
  `t2`.`region`,
  SUM(`t2`.`m__revenue`) AS `m__revenue`,
  SUM(`t2`.`m__orders`) AS `m__orders`
FROM (
  SELECT
    DATE(CONVERT_TZ(`t1`.`ordered_at`, 'UTC', 'Asia/Jakarta')) AS `__day`,
    `t1`.`region`,
    SUM(`t1`.`amount`) AS `m__revenue`,
    COUNT(*) AS `m__orders`
  FROM (
    SELECT
      *
    FROM `orders` AS `t0`
    WHERE
      CAST(`t0`.`status` AS BINARY) = 'paid'
  ) AS `t1`
  GROUP BY
    1,
    2
) AS `t2`
GROUP BY
  1,
  2
