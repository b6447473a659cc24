-- Live-only: sizes, estimates and activity counters per table.
SELECT s.schemaname AS schema,
       s.relname AS name,
       c.reltuples::bigint AS row_estimate,
       pg_total_relation_size(s.relid) AS total_bytes,
       COALESCE(s.seq_scan, 0) AS seq_scan,
       COALESCE(s.idx_scan, 0) AS idx_scan,
       s.n_tup_ins AS inserts,
       s.n_tup_upd AS updates,
       s.n_tup_del AS deletes
  FROM pg_stat_user_tables s
  JOIN pg_class c ON c.oid = s.relid
