-- What each extension's script created (pg_depend deptype 'e'): relations, functions, types
-- and schemas, named as findings name them (a function with its identity arguments). The other
-- catalog queries leave these objects out; this list keeps what the extension owns.
SELECT e.extname AS extension,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                      WHEN 'f' THEN 'foreign table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                      WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'
                      ELSE 'relation' END AS kind,
       n.nspname AS schema,
       c.relname AS name
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid
  JOIN pg_class c ON c.oid = d.objid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.classid = 'pg_class'::regclass
UNION ALL
SELECT e.extname,
       CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       n.nspname,
       p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid
  JOIN pg_proc p ON p.oid = d.objid
  JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.classid = 'pg_proc'::regclass
UNION ALL
SELECT e.extname, 'type', n.nspname, t.typname
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid
  JOIN pg_type t ON t.oid = d.objid
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.classid = 'pg_type'::regclass
UNION ALL
SELECT e.extname, 'schema', n.nspname, n.nspname
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid
  JOIN pg_namespace n ON n.oid = d.objid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.classid = 'pg_namespace'::regclass
 ORDER BY 1, 3, 4, 2
