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
                        EXTRACT(year FROM `t1`.`__day`) * 12
                      ) + EXTRACT(month FROM `t1`.`__day`)
                    ) - 1
                  ) - 3
                ) / (
                  3
                )
              ) AS SIGNED) * 3
            ) + 3
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
                        EXTRACT(year FROM `t1`.`__day`) * 12
                      ) + EXTRACT(month FROM `t1`.`__day`)
                    ) - 1
                  ) - 3
                ) / (
                  3
                )
              ) AS SIGNED) * 3
            ) + 3
          ) % 12
        ) + 1,
        2,
        '0'
      ),
      LPAD(1, 2, '0')
    ),
    '%Y%m%d'
  ) AS `__period`,
  SUM(`t1`.`m__paid_share__sum`) AS `m__paid_share__sum`,
  SUM(`t1`.`m__paid_share__n`) AS `m__paid_share__n`
FROM (
  SELECT
    DATE(CONVERT_TZ(`t0`.`ordered_at`, 'UTC', 'Asia/Jakarta')) AS `__day`,
    SUM(CASE WHEN CAST(`t0`.`status` AS BINARY) = 'paid' THEN 1 ELSE 0 END) AS `m__paid_share__sum`,
    COUNT(CASE WHEN CAST(`t0`.`status` AS BINARY) = 'paid' THEN 1 ELSE 0 END) AS `m__paid_share__n`
  FROM `orders` AS `t0`
  GROUP BY
    1
) AS `t1`
GROUP BY
  1
;
SELECT
  `t4`.`__period`,
  MIN(`t4`.`__v`) + (
    (
      MAX(`t4`.`__v`) - MIN(`t4`.`__v`)
    ) * MAX(
      (
        (
          `t4`.`__n` - 1
        ) * 0.5
      ) - CAST(FLOOR((
        `t4`.`__n` - 1
      ) * 0.5) AS SIGNED)
    )
  ) AS `m__median_amount`
FROM (
  SELECT
    *
  FROM (
    SELECT
      `t2`.`__period`,
      `t2`.`__v`,
      ROW_NUMBER() OVER (
        PARTITION BY `t2`.`__period`
        ORDER BY CASE WHEN `t2`.`__v` IS NULL THEN 1 ELSE 0 END, `t2`.`__v` ASC
      ) - 1 AS `__rank`,
      COUNT(`t2`.`__v`) OVER (
        PARTITION BY `t2`.`__period`
        ORDER BY CASE WHEN NULL IS NULL THEN 1 ELSE 0 END, NULL ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      ) AS `__n`
    FROM (
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
                              EXTRACT(year FROM DATE(CONVERT_TZ(`t1`.`ordered_at`, 'UTC', 'Asia/Jakarta'))) * 12
                            ) + EXTRACT(month FROM DATE(CONVERT_TZ(`t1`.`ordered_at`, 'UTC', 'Asia/Jakarta')))
                          ) - 1
                        ) - 3
                      ) / (
                        3
                      )
                    ) AS SIGNED) * 3
                  ) + 3
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
                              EXTRACT(year FROM DATE(CONVERT_TZ(`t1`.`ordered_at`, 'UTC', 'Asia/Jakarta'))) * 12
                            ) + EXTRACT(month FROM DATE(CONVERT_TZ(`t1`.`ordered_at`, 'UTC', 'Asia/Jakarta')))
                          ) - 1
                        ) - 3
                      ) / (
                        3
                      )
                    ) AS SIGNED) * 3
                  ) + 3
                ) % 12
              ) + 1,
              2,
              '0'
            ),
            LPAD(1, 2, '0')
          ),
          '%Y%m%d'
        ) AS `__period`,
        `t1`.`amount` AS `__v`
      FROM (
        SELECT
          *
        FROM `orders` AS `t0`
        WHERE
          `t0`.`amount` IS NOT NULL
      ) AS `t1`
    ) AS `t2`
  ) AS `t3`
  WHERE
    (
      `t3`.`__rank` = CAST(FLOOR((
        `t3`.`__n` - 1
      ) * 0.5) AS SIGNED)
    )
    OR (
      `t3`.`__rank` = CAST(CEIL((
        `t3`.`__n` - 1
      ) * 0.5) AS SIGNED)
    )
) AS `t4`
GROUP BY
  1
