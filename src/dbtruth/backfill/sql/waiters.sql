-- Sessions waiting for a lock the backfill's session holds (a row a chunk changed, most
-- often), and how long each has waited. pg_locks.waitstart exists from PostgreSQL 14.
SELECT l.pid, max(extract(epoch FROM clock_timestamp() - l.waitstart))::float8
FROM pg_locks l
WHERE NOT l.granted AND %(pid)s = ANY (pg_blocking_pids(l.pid))
GROUP BY l.pid
