-- SQL-file targets: the plain tables with any storage after loading, the only ones whose rows
-- are worth counting. pg_relation_size() asks the file system, not statistics (reltuples is
-- -1 until the first ANALYZE), so a schema-only load of 10,000 tables names none of them.
-- Tables whose owner is made to obey row-level security are left out: counting their rows
-- would run the policies' expressions.
SELECT n.nspname AS schema,
       c.relname AS name
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r'
   AND NOT c.relforcerowsecurity
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND n.nspname NOT LIKE 'pg\_temp\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
   AND pg_relation_size(c.oid) > 0
 ORDER BY 1, 2
