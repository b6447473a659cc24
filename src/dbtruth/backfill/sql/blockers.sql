-- The sessions the backfill's session waits for (a row lock, a table lock), and what they are:
-- named in the retry when a chunk gives up waiting.
SELECT a.pid, coalesce(nullif(a.application_name, ''), a.backend_type, '?'), coalesce(a.state, '?'),
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8
FROM pg_stat_activity a
WHERE a.pid = ANY (pg_blocking_pids(%(pid)s))
