-- Columns of the relations tables.sql and views.sql return. Domains resolve to their base type
-- so that a rule asking "is this a timestamp without time zone" sees through them. Extensions'
-- relations are read too: a key to one (PostGIS's spatial_ref_sys) names its columns.
SELECT n.nspname AS schema,
       c.relname AS relation,
       a.attname AS name,
       a.attnum AS position,
       format_type(a.atttypid, a.atttypmod) AS type,
       COALESCE(bt.typname, t.typname) AS type_name,
       COALESCE(bt.typcategory, t.typcategory) AS type_category,
       COALESCE(bt.typtype, t.typtype) = 'e' AS is_enum,
       a.attnotnull AS not_null,
       -- A default cannot refer to columns, so it is deparsed without its table: given the
       -- table, pg_get_expr() opens it (PostgreSQL 16+), building a relation cache entry per
       -- table. Generation expressions refer to columns and need it.
       pg_get_expr(ad.adbin, CASE WHEN a.attgenerated = '' THEN 0 ELSE ad.adrelid END)
           AS "default",
       a.attidentity AS identity,
       a.attgenerated AS generated,
       dsc.description AS comment,
       CASE WHEN t.typtype = 'd'
            THEN (SELECT tn.nspname FROM pg_namespace tn WHERE tn.oid = t.typnamespace)
                 || '.' || t.typname END AS domain
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  -- A join rather than col_description() per column: one pass instead of 30,000 lookups.
  LEFT JOIN pg_description dsc ON dsc.objoid = a.attrelid AND dsc.objsubid = a.attnum
                              AND dsc.classoid = 'pg_class'::regclass
 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')
   AND a.attnum > 0
   AND NOT a.attisdropped
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND n.nspname NOT LIKE 'pg\_temp\_%'
 ORDER BY 1, 2, 4
