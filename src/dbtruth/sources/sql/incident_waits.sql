-- Incident evidence: one sample of what the client sessions are doing and waiting on.
SELECT coalesce(state, '?') AS state, coalesce(wait_event_type, 'CPU or running') AS wait_type,
       coalesce(wait_event, '') AS wait_event, count(*)::int AS sessions
  FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
 GROUP BY 1, 2, 3
