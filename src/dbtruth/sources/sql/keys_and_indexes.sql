-- Foreign keys and indexes of the scratch database, by object id: read before and after a
-- statement that drops one, so the loader knows what the statement removed (and of which
-- table, on which columns) without parsing it. An index's columns are its leading plain key
-- columns, up to the first expression.
SELECT 'foreign key' AS kind, con.oid::bigint AS oid, n.nspname AS schema, c.relname AS "table",
       con.conname AS name,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(num, pos)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
              ORDER BY k.pos) AS columns
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE con.contype = 'f'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'index', i.indexrelid::bigint, n.nspname, t.relname, ic.relname,
       ARRAY(SELECT a.attname::text
               FROM generate_subscripts(i.indkey::int2[], 1) AS k(pos)
               JOIN pg_attribute a ON a.attrelid = i.indrelid
                                  AND a.attnum = (i.indkey::int2[])[k.pos]
              WHERE k.pos < i.indnkeyatts
                AND NOT 0 = ANY ((i.indkey::int2[])[0:k.pos])
              ORDER BY k.pos)
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
