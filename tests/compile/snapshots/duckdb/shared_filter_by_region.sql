SELECT
  CAST(TIMEZONE('Asia/Jakarta', "t1"."ordered_at") AS DATE) - TO_DAYS(
    (
      (
        (
          (
            DAYOFWEEK(CAST(TIMEZONE('Asia/Jakarta', "t1"."ordered_at") AS DATE)) + 6
          ) % 7
        ) - 0
      ) + 7
    ) % 7
  ) AS "__period",
  "t1"."region",
  SUM("t1"."amount") AS "m__revenue",
  COUNT(*) AS "m__orders"
FROM (
  SELECT
    *
  FROM "orders" AS "t0"
  WHERE
    "t0"."status" = 'paid'
) AS "t1"
GROUP BY
  1,
  2
