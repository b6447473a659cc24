-- Operations: replication slots and the WAL each keeps on the server (bytes from its
-- restart_lsn to the current position; on a standby, to the last replayed one).
SELECT slot_name AS name, slot_type AS kind, active,
       coalesce(pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                                     ELSE pg_current_wal_lsn() END, restart_lsn), 0)::bigint
           AS retained_bytes,
       wal_status
  FROM pg_replication_slots
 ORDER BY 1
