-- Sequences with the column that owns them (serial and identity columns). last_value is read
-- the way the pg_sequences view reads it: only when this session may, else NULL.
SELECT n.nspname AS schema,
       c.relname AS name,
       format_type(s.seqtypid, NULL) AS data_type,
       s.seqstart AS start,
       s.seqincrement AS increment,
       s.seqmin AS min_value,
       s.seqmax AS max_value,
       s.seqcycle AS cycle,
       (SELECT tn.nspname || '.' || tc.relname || '.' || a.attname
          FROM pg_depend d
          JOIN pg_class tc ON tc.oid = d.refobjid
          JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
           AND d.deptype IN ('a', 'i')
         LIMIT 1) AS owned_by,
       -- Live targets only: the reader drops this expression (up to the alias) for scratch
       -- databases, whose sequence values say nothing about production.
       /*live*/CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE'::text)
            THEN pg_sequence_last_value(c.oid::regclass) END/*end live*/ AS last_value
  FROM pg_sequence s
  JOIN pg_class c ON c.oid = s.seqrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY 1, 2
