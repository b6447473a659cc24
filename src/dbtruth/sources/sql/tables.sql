-- Tables, partitioned tables and foreign tables outside the system schemas, skipping objects
-- that belong to an extension (they are the extension's business, not the schema's).
SELECT n.nspname AS schema,
       c.relname AS name,
       c.relkind AS relkind,
       pg_get_userbyid(c.relowner) AS owner,
       c.relpersistence AS persistence,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       c.relispartition AS is_partition,
       ARRAY(SELECT pn.nspname || '.' || pc.relname
               FROM pg_inherits i
               JOIN pg_class pc ON pc.oid = i.inhparent
               JOIN pg_namespace pn ON pn.oid = pc.relnamespace
              WHERE i.inhrelid = c.oid
              ORDER BY i.inhseqno) AS parents,
       obj_description(c.oid, 'pg_class') AS comment
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND n.nspname NOT LIKE 'pg\_temp\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2
