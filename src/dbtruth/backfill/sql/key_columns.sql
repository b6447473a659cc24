-- The key's columns (the spec's, or the primary key's when it names none), in key order,
-- with their types as SQL spells them and whether they may be NULL.
WITH wanted AS (
    SELECT name, ord FROM unnest(%(names)s::text[]) WITH ORDINALITY AS w(name, ord)
    UNION ALL
    SELECT a.attname::text, k.ord
    FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = %(oid)s AND i.indisprimary AND cardinality(%(names)s::text[]) = 0
)
SELECT w.name, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM wanted w
LEFT JOIN pg_attribute a
       ON a.attrelid = %(oid)s AND a.attname = w.name AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY w.ord
