SELECT
  "t2"."__day" - TO_DAYS(
    (
      (
        (
          (
            DAYOFWEEK("t2"."__day") + 6
          ) % 7
        ) - 0
      ) + 7
    ) % 7
  ) AS "__period",
  "t2"."region",
  SUM("t2"."m__revenue") AS "m__revenue",
  SUM("t2"."m__orders") AS "m__orders"
FROM (
  SELECT
    CAST(TIMEZONE('Asia/Jakarta', "t1"."ordered_at") AS DATE) AS "__day",
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
) AS "t2"
GROUP BY
  1,
  2
