SELECT
  MAKE_DATE(
    CAST(CAST(FLOOR(
      CAST((
        (
          CAST(FLOOR(
            CAST((
              (
                (
                  (
                    EXTRACT(year FROM DATE(TIMEZONE('Asia/Jakarta', "t0"."ordered_at"))) * 12
                  ) + EXTRACT(month FROM DATE(TIMEZONE('Asia/Jakarta', "t0"."ordered_at")))
                ) - 1
              ) - 3
            ) AS DOUBLE PRECISION) / (
              3
            )
          ) AS BIGINT) * 3
        ) + 3
      ) AS DOUBLE PRECISION) / (
        12
      )
    ) AS BIGINT) AS INT),
    CAST((
      (
        (
          CAST(FLOOR(
            CAST((
              (
                (
                  (
                    EXTRACT(year FROM DATE(TIMEZONE('Asia/Jakarta', "t0"."ordered_at"))) * 12
                  ) + EXTRACT(month FROM DATE(TIMEZONE('Asia/Jakarta', "t0"."ordered_at")))
                ) - 1
              ) - 3
            ) AS DOUBLE PRECISION) / (
              3
            )
          ) AS BIGINT) * 3
        ) + 3
      ) % 12
    ) + 1 AS INT),
    CAST(1 AS INT)
  ) AS "__period",
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    "t0"."amount") AS "m__median_amount",
  SUM(CASE WHEN "t0"."status" = 'paid' THEN 1 ELSE 0 END) AS "m__paid_share__sum",
  COUNT(CASE WHEN "t0"."status" = 'paid' THEN 1 ELSE 0 END) AS "m__paid_share__n"
FROM "orders" AS "t0"
GROUP BY
  1
