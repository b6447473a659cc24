-- Operations: the server's client sessions but dbtruth's own, with how long their transaction
-- and state have lasted and which sessions block each (pg_blocking_pids). Other roles' query
-- texts are visible only with pg_read_all_stats.
SELECT pid, usename AS "user", coalesce(application_name, '') AS application, state,
       extract(epoch FROM now() - xact_start)::float8 AS transaction_seconds,
       extract(epoch FROM now() - state_change)::float8 AS state_seconds,
       CASE WHEN wait_event IS NOT NULL THEN wait_event_type || ': ' || wait_event END AS wait,
       left(coalesce(query, ''), 300) AS query,
       pg_blocking_pids(pid) AS blocked_by
  FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
 ORDER BY pid
