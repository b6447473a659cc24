-- Indexes with one text per key column (a column name or an expression), so that duplicate and
-- prefix comparisons see what the planner sees, collations and opclasses aside.
SELECT n.nspname AS schema,
       t.relname AS "table",
       ic.relname AS name,
       am.amname AS method,
       -- Plain columns by name (quoted as the definition quotes them); only expressions need
       -- pg_get_indexdef, which deparses and is the slow part on large schemas.
       ARRAY(SELECT CASE WHEN (i.indkey::int2[])[k - 1] <> 0
                         THEN (SELECT quote_ident(a.attname) FROM pg_attribute a
                                WHERE a.attrelid = i.indrelid
                                  AND a.attnum = (i.indkey::int2[])[k - 1])
                         ELSE pg_get_indexdef(i.indexrelid, k, true) END
               FROM generate_series(1, i.indnkeyatts) AS k
              ORDER BY k) AS keys,
       ARRAY(SELECT (i.indkey::int2[])[k - 1] <> 0
               FROM generate_series(1, i.indnkeyatts) AS k
              ORDER BY k) AS key_is_column,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
               FROM generate_series(i.indnkeyatts + 1, i.indnatts) AS k
              ORDER BY k) AS include,
       pg_get_indexdef(i.indexrelid) AS definition,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       i.indisunique AS "unique",
       i.indisprimary AS "primary",
       i.indisvalid AS valid,
       con.conname AS "constraint"
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_am am ON am.oid = ic.relam
  LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                             AND con.contype IN ('p', 'u', 'x')
 WHERE t.relkind IN ('r', 'p', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2, 3
