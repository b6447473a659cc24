-- Indexes as catalog facts: key column numbers, per-key options, non-default operator classes
-- and collations, predicate. The definition shown to users is composed from these in Python:
-- pg_get_indexdef() deparses every index and was the slowest part of reading a large schema,
-- so it is called only for expression keys.
SELECT n.nspname AS schema,
       t.relname AS "table",
       ic.relname AS name,
       am.amname AS method,
       am.amname = 'btree' AS ordered,
       t.relkind = 'p' AS on_partitioned_table,
       i.indkey::int2[] AS column_numbers,
       i.indnkeyatts AS key_count,
       -- Expression keys (attnum 0), deparsed; most indexes have none.
       CASE WHEN 0 = ANY (i.indkey::int2[])
            THEN ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                         FROM generate_series(1, i.indnkeyatts) AS k
                        WHERE (i.indkey::int2[])[k - 1] = 0
                        ORDER BY k)
            ELSE '{}'::text[] END AS expressions,
       i.indoption::int2[] AS options,
       -- Per key, what the definition adds after it: a collation other than the column's and
       -- an operator class other than the type's default. Most indexes have neither, and
       -- composing them key by key took most of this query's time, so a cheap test of the
       -- catalog arrays comes first: every operator class a default one, and every collation
       -- none (0) or the database default (100) on a column that has it too.
       CASE WHEN i.indclass::oid[] <@ (SELECT array_agg(oc.oid) FROM pg_opclass oc
                                        WHERE oc.opcdefault)
                 AND i.indcollation::oid[] <@ '{0,100}'::oid[]
                 AND (NOT 100 = ANY (i.indcollation::oid[])
                      OR NOT EXISTS (SELECT 1 FROM pg_attribute a
                                      WHERE a.attrelid = i.indrelid
                                        AND a.attnum = ANY (i.indkey::int2[])
                                        AND a.attcollation NOT IN (0, 100)))
            THEN array_fill(''::text, ARRAY[i.indnkeyatts::int])
            ELSE ARRAY(SELECT concat_ws(' ',
                   -- An expression's own collation is not in the catalog: the database
                   -- default (oid 100) stands for it.
                   CASE WHEN x.coll <> 0 AND x.coll <> COALESCE(a.attcollation, 100)
                        THEN 'COLLATE ' || CASE WHEN cn.nspname = 'pg_catalog' THEN ''
                                                ELSE quote_ident(cn.nspname) || '.' END
                             || quote_ident(co.collname) END,
                   CASE WHEN NOT oc.opcdefault
                        THEN CASE WHEN ocn.nspname = 'pg_catalog' THEN ''
                                  ELSE quote_ident(ocn.nspname) || '.' END
                             || quote_ident(oc.opcname) END)
               FROM generate_series(1, i.indnkeyatts) AS k
              CROSS JOIN LATERAL (SELECT (i.indcollation::oid[])[k - 1] AS coll,
                                         (i.indclass::oid[])[k - 1] AS opc,
                                         (i.indkey::int2[])[k - 1] AS attnum) AS x
               JOIN pg_opclass oc ON oc.oid = x.opc
               JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.attnum
               LEFT JOIN pg_collation co ON co.oid = x.coll
               LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
              ORDER BY k) END AS key_extras,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       i.indisunique AS "unique",
       i.indisprimary AS "primary",
       i.indisvalid AS valid,
       i.indisclustered AS clustered,
       -- indnullsnotdistinct exists from PostgreSQL 15; the reader substitutes it there.
       /*nulls_not_distinct*/false AS nulls_not_distinct,
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
                    WHERE d.classid = 'pg_class'::regclass AND d.objid IN (t.oid, i.indexrelid)
                      AND d.deptype = 'e')
 ORDER BY 1, 2, 3
