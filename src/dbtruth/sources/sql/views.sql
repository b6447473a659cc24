-- Views and materialized views with the relations their rewrite rule reads.
SELECT n.nspname AS schema,
       c.relname AS name,
       c.relkind = 'm' AS materialized,
       pg_get_viewdef(c.oid) AS definition,
       COALESCE((SELECT lower(split_part(o, '=', 2)) IN ('true', 'on', '1', 'yes')
                   FROM unnest(c.reloptions) AS o
                  WHERE split_part(o, '=', 1) = 'security_invoker'), false) AS security_invoker,
       ARRAY(SELECT DISTINCT rn.nspname || '.' || rc.relname
               FROM pg_rewrite r
               JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                               AND d.refclassid = 'pg_class'::regclass
               JOIN pg_class rc ON rc.oid = d.refobjid
               JOIN pg_namespace rn ON rn.oid = rc.relnamespace
              WHERE r.ev_class = c.oid AND rc.oid <> c.oid) AS depends_on,
       pg_get_userbyid(c.relowner) AS owner,
       obj_description(c.oid, 'pg_class') AS comment
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2
