-- Operations: the standbys streaming from this server, and how far behind each replays.
SELECT coalesce(application_name, '') AS application, client_addr::text AS client,
       coalesce(state, '?') AS state,
       extract(epoch FROM replay_lag)::float8 AS replay_lag_seconds,
       CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END AS replay_bytes
  FROM pg_stat_replication
 ORDER BY 1
