SELECT
  MAKE_DATE(
    CAST(FLOOR(
      (
        (
          CAST(FLOOR(
            (
              (
                (
                  (
                    EXTRACT(year FROM CAST(TIMEZONE('Asia/Jakarta', "t0"."ordered_at") AS DATE)) * 12
                  ) + EXTRACT(month FROM CAST(TIMEZONE('Asia/Jakarta', "t0"."ordered_at") AS DATE))
                ) - 1
              ) - 3
            ) / (
              3
            )
          ) AS BIGINT) * 3
        ) + 3
      ) / (
        12
      )
    ) AS BIGINT),
    (
      (
        (
          CAST(FLOOR(
            (
              (
                (
                  (
                    EXTRACT(year FROM CAST(TIMEZONE('Asia/Jakarta', "t0"."ordered_at") AS DATE)) * 12
                  ) + EXTRACT(month FROM CAST(TIMEZONE('Asia/Jakarta', "t0"."ordered_at") AS DATE))
                ) - 1
              ) - 3
            ) / (
              3
            )
          ) AS BIGINT) * 3
        ) + 3
      ) % 12
    ) + 1,
    1
  ) AS "__period",
  QUANTILE_CONT("t0"."amount", 0.5) AS "m__median_amount",
  SUM(CASE WHEN "t0"."status" = 'paid' THEN 1 ELSE 0 END) AS "m__paid_share__sum",
  COUNT(CASE WHEN "t0"."status" = 'paid' THEN 1 ELSE 0 END) AS "m__paid_share__n"
FROM "orders" AS "t0"
GROUP BY
  1
