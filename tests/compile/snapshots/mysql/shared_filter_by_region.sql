SELECT
  DATE(CONVERT_TZ(`t1`.`ordered_at`, 'UTC', 'Asia/Jakarta')) - INTERVAL ((
    (
      (
        (
          DAYOFWEEK(DATE(CONVERT_TZ(`t1`.`ordered_at`, 'UTC', 'Asia/Jakarta'))) + 5
        ) % 7
      ) - 0
    ) + 7
  ) % 7) DAY AS `__period`,
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
