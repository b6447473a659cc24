-- Operations: the settings readiness is judged by, with where each comes from. dbtruth's own
-- session sets statement_timeout, lock_timeout, idle_in_transaction_session_timeout and
-- default_transaction_read_only; for those the server's own value is reset_val.
SELECT name,
       CASE WHEN source = 'session' THEN reset_val ELSE setting END AS setting,
       CASE WHEN source = 'session' THEN 'the value this role''s sessions start with'
            ELSE source END AS source,
       unit
  FROM pg_settings
 WHERE name IN ('shared_preload_libraries', 'log_min_duration_statement', 'log_lock_waits',
                'deadlock_timeout', 'statement_timeout', 'idle_in_transaction_session_timeout',
                'lock_timeout', 'data_checksums', 'archive_mode', 'archive_command',
                'archive_library', 'wal_level', 'max_connections',
                'superuser_reserved_connections', 'reserved_connections', 'autovacuum',
                'log_autovacuum_min_duration', 'track_io_timing', 'max_slot_wal_keep_size')
 ORDER BY 1
