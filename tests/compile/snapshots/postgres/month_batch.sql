SELECT
  DATE_TRUNC('MONTH', DATE(TIMEZONE('Asia/Jakarta', "t0"."ordered_at"))) AS "__period",
  SUM("t0"."amount") FILTER(WHERE
    "t0"."status" = 'paid') AS "m__revenue",
  COUNT(*) FILTER(WHERE
    "t0"."status" = 'paid') AS "m__orders",
  COUNT(DISTINCT "t0"."customer_id") AS "m__buyers"
FROM "orders" AS "t0"
GROUP BY
  1
