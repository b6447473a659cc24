-- Operations: each table's live and dead rows, size, transaction-ID age and vacuum history.
SELECT n.nspname AS schema, c.relname AS name,
       coalesce(s.n_live_tup, 0)::bigint AS live_rows,
       coalesce(s.n_dead_tup, 0)::bigint AS dead_rows,
       pg_total_relation_size(c.oid)::bigint AS total_bytes,
       age(c.relfrozenxid)::bigint AS xid_age,
       mxid_age(c.relminmxid)::bigint AS mxid_age,
       to_char(greatest(s.last_vacuum, s.last_autovacuum) AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_vacuum,
       to_char(greatest(s.last_analyze, s.last_autoanalyze) AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_analyze
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.relkind IN ('r', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_toast'
 ORDER BY 1, 2
