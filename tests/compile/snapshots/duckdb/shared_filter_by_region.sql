SELECT
  "t2"."__period",
  "t2"."region",
  SUM("t2"."amount") AS "m__revenue",
  COUNT(*) AS "m__orders"
FROM (
  SELECT
    "t1"."ordered_at",
    "t1"."customer_id",
    "t1"."region",
    "t1"."amount",
    "t1"."status",
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
    ) AS "__period"
  FROM (
    SELECT
      *
    FROM "orders" AS "t0"
    WHERE
      "t0"."status" = 'paid'
  ) AS "t1"
) AS "t2"
GROUP BY
  1,
  2
