SELECT
  DATE(TIMEZONE('Asia/Jakarta', "t1"."ordered_at")) - MAKE_INTERVAL(
    days => CAST((
      (
        (
          CAST(EXTRACT('dow' FROM DATE(TIMEZONE('Asia/Jakarta', "t1"."ordered_at"))) + 6 AS SMALLINT) % 7
        ) - 0
      ) + 7
    ) % 7 AS INT)
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
