-- Primary key, unique, check, foreign key and exclusion constraints. PostgreSQL 18 also stores
-- NOT NULL as constraints (contype 'n'); nullability is read from pg_attribute instead, which
-- every supported version has. Column numbers are resolved to names in Python from the columns
-- already read, and only CHECK and EXCLUDE need pg_get_constraintdef(): per-row subqueries and
-- deparsing dominated the time to read schemas of thousands of tables. The columns an ON DELETE
-- SET NULL / SET DEFAULT clears (confdelsetcols) exist from PostgreSQL 15 on: introspect.py
-- reads them there in place of the NULL.
SELECT n.nspname AS schema,
       c.relname AS "table",
       con.conname AS name,
       con.contype AS contype,
       con.conkey AS column_numbers,
       CASE WHEN con.contype IN ('c', 'x') THEN pg_get_constraintdef(con.oid) END AS definition,
       con.convalidated AS validated,
       con.condeferrable AS deferrable,
       (con.conparentid <> 0 OR NOT con.conislocal) AS inherited,
       ic.relname AS index,
       rn.nspname AS ref_schema,
       rc.relname AS ref_table,
       con.confkey AS ref_column_numbers,
       con.confdeltype AS on_delete,
       /*delete_set_columns*/NULL::int2[] AS delete_set_column_numbers,
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
