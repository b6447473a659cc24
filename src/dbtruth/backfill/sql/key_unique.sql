-- Whether the key is unique: some unique index without a predicate or expression covers only
-- columns of the key.
SELECT EXISTS (
    SELECT 1
    FROM pg_index i
    WHERE i.indrelid = %(oid)s AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      AND NOT EXISTS (
          SELECT 1
          FROM unnest(i.indkey[0:i.indnkeyatts - 1]) AS k(attnum)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
          WHERE a.attname <> ALL (%(names)s::text[])
      )
)
