SELECT
  `t2`.`__period`,
  `t2`.`region`,
  SUM(`t2`.`amount`) AS `m__revenue`,
  COUNT(*) AS `m__orders`
FROM (
  SELECT
    `t1`.`ordered_at`,
    `t1`.`customer_id`,
    `t1`.`region`,
    `t1`.`amount`,
    `t1`.`status`,
    DATE(CONVERT_TZ(`t1`.`ordered_at`, 'UTC', 'Asia/Jakarta')) - INTERVAL ((
      (
        (
          (
            DAYOFWEEK(DATE(CONVERT_TZ(`t1`.`ordered_at`, 'UTC', 'Asia/Jakarta'))) + 5
          ) % 7
        ) - 0
      ) + 7
    ) % 7) DAY AS `__period`
  FROM (
    SELECT
      *
    FROM `orders` AS `t0`
    WHERE
      CAST(`t0`.`status` AS BINARY) = 'paid'
  ) AS `t1`
) AS `t2`
GROUP BY
  1,
  2
