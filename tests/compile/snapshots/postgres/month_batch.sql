SELECT
  "t1"."__period",
  SUM("t1"."amount") FILTER(WHERE
    "t1"."status" = 'paid') AS "m__revenue",
  COUNT(*) FILTER(WHERE
    "t1"."status" = 'paid') AS "m__orders",
  COUNT(DISTINCT "t1"."customer_id") AS "m__buyers"
FROM (
  SELECT
    "t0"."ordered_at",
    "t0"."customer_id",
    "t0"."region",
    "t0"."amount",
    "t0"."status",
    DATE_TRUNC('MONTH', DATE(TIMEZONE('Asia/Jakarta', "t0"."ordered_at"))) AS "__period"
  FROM "orders" AS "t0"
) AS "t1"
GROUP BY
  1
