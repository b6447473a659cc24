-- Incident evidence: every lock held or awaited, with the relation it is on.
SELECT l.pid, l.locktype, l.mode, l.granted, l.fastpath,
       CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text END AS relation,
       l.transactionid::text AS transaction, l.virtualxid, l.virtualtransaction
  FROM pg_locks l
 WHERE l.pid IS DISTINCT FROM pg_backend_pid()
 ORDER BY l.granted, l.pid
