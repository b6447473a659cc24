-- Incident evidence: standbys streaming from this server, and how far behind each is.
SELECT pid, usename AS "user", application_name AS application, client_addr::text AS client,
       state, sync_state, write_lag::text, flush_lag::text, replay_lag::text,
       CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END AS replay_bytes
  FROM pg_stat_replication
 ORDER BY pid
