-- Live-only: how often each index was scanned since the counters were last reset.
SELECT s.schemaname AS schema,
       s.relname AS "table",
       s.indexrelname AS name,
       s.idx_scan AS idx_scan,
       pg_relation_size(s.indexrelid) AS size_bytes
  FROM pg_stat_user_indexes s
