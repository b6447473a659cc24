-- User triggers (constraint-enforcement triggers that PostgreSQL creates itself are internal),
-- on the relations the other queries return (not an extension's).
-- tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate, 64 instead of.
SELECT n.nspname AS schema,
       c.relname AS "table",
       tg.tgname AS name,
       fn.nspname || '.' || p.proname AS function,
       CASE WHEN tg.tgtype & 64 <> 0 THEN 'instead of'
            WHEN tg.tgtype & 2 <> 0 THEN 'before'
            ELSE 'after' END AS timing,
       tg.tgtype::int AS tgtype,
       tg.tgenabled <> 'D' AS enabled,
       ARRAY(SELECT a.attname
               FROM unnest(tg.tgattr::int2[]) AS k(attnum)
               JOIN pg_attribute a ON a.attrelid = tg.tgrelid AND a.attnum = k.attnum) AS columns,
       pg_get_triggerdef(tg.oid) AS definition
  FROM pg_trigger tg
  JOIN pg_class c ON c.oid = tg.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_proc p ON p.oid = tg.tgfoid
  JOIN pg_namespace fn ON fn.oid = p.pronamespace
 WHERE NOT tg.tgisinternal
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2, 3
