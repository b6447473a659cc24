-- Incident evidence: every backend of the server, with what it waits on and who blocks it.
SELECT pid, datname AS database, usename AS "user", application_name AS application,
       client_addr::text AS client, backend_type, state,
       to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS backend_start,
       to_char(xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS xact_start,
       to_char(query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS query_start,
       to_char(state_change AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS state_change,
       extract(epoch FROM now() - xact_start)::float8 AS transaction_seconds,
       wait_event_type, wait_event, pg_blocking_pids(pid) AS blocked_by,
       backend_xid::text AS xid, backend_xmin::text AS xmin, left(query, 2000) AS query
  FROM pg_stat_activity
 WHERE pid <> pg_backend_pid()
 ORDER BY pid
