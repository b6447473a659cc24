-- Primary key, unique, check, foreign key and exclusion constraints. PostgreSQL 18 also stores
-- NOT NULL as constraints (contype 'n'); nullability is read from pg_attribute instead, which
-- every supported version has.
SELECT n.nspname AS schema,
       c.relname AS "table",
       con.conname AS name,
       con.contype AS contype,
       ARRAY(SELECT a.attname
               FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.ord) AS columns,
       pg_get_constraintdef(con.oid) AS definition,
       con.convalidated AS validated,
       con.condeferrable AS deferrable,
       (con.conparentid <> 0 OR NOT con.conislocal) AS inherited,
       ic.relname AS index,
       rn.nspname AS ref_schema,
       rc.relname AS ref_table,
       ARRAY(SELECT a.attname
               FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
              ORDER BY k.ord) AS ref_columns,
       con.confdeltype AS on_delete,
       con.confupdtype AS on_update
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class ic ON ic.oid = con.conindid AND con.contype IN ('p', 'u', 'x')
  LEFT JOIN pg_class rc ON rc.oid = con.confrelid
  LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
 WHERE con.contype IN ('p', 'u', 'c', 'f', 'x')
   AND c.relkind IN ('r', 'p', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2, 3
