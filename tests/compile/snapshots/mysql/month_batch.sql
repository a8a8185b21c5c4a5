SELECT
  STR_TO_DATE(
    CONCAT(
      LPAD(
        CAST(FLOOR(
          (
            (
              CAST(FLOOR(
                (
                  (
                    (
                      (
                        EXTRACT(year FROM DATE(CONVERT_TZ(`t0`.`ordered_at`, 'UTC', 'Asia/Jakarta'))) * 12
                      ) + EXTRACT(month FROM DATE(CONVERT_TZ(`t0`.`ordered_at`, 'UTC', 'Asia/Jakarta')))
                    ) - 1
                  ) - 0
                ) / (
                  1
                )
              ) AS SIGNED) * 1
            ) + 0
          ) / (
            12
          )
        ) AS SIGNED),
        4,
        '0'
      ),
      LPAD(
        (
          (
            (
              CAST(FLOOR(
                (
                  (
                    (
                      (
                        EXTRACT(year FROM DATE(CONVERT_TZ(`t0`.`ordered_at`, 'UTC', 'Asia/Jakarta'))) * 12
                      ) + EXTRACT(month FROM DATE(CONVERT_TZ(`t0`.`ordered_at`, 'UTC', 'Asia/Jakarta')))
                    ) - 1
                  ) - 0
                ) / (
                  1
                )
              ) AS SIGNED) * 1
            ) + 0
          ) % 12
        ) + 1,
        2,
        '0'
      ),
      LPAD(1, 2, '0')
    ),
    '%Y%m%d'
  ) AS `__period`,
  SUM(
    CASE WHEN CAST(`t0`.`status` AS BINARY) = 'paid' THEN `t0`.`amount` ELSE NULL END
  ) AS `m__revenue`,
  SUM(CAST(CAST(`t0`.`status` AS BINARY) = 'paid' AS SIGNED)) AS `m__orders`,
  COUNT(DISTINCT `t0`.`customer_id`) AS `m__buyers`
FROM `orders` AS `t0`
GROUP BY
  1
