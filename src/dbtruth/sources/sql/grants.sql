-- Explicit privileges on relations (a NULL ACL means the owner-only default and grants nothing).
-- An extension's own relations and the grants its script made (pg_stat_statements to PUBLIC)
-- are the extension's business, left out like the relations themselves.
SELECT n.nspname AS schema,
       c.relname AS object,
       c.relkind AS relkind,
       CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(acl.grantee) END AS grantee,
       acl.privilege_type AS privilege,
       acl.is_grantable AS grantable
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL aclexplode(c.relacl) AS acl
 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')
   AND c.relacl IS NOT NULL
   AND acl.grantee <> c.relowner
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2, 4, 5
