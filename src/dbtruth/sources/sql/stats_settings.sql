-- Live-only: settings that later operational checks read.
SELECT name, setting
  FROM pg_settings
 WHERE name IN ('shared_preload_libraries', 'statement_timeout', 'lock_timeout',
                'idle_in_transaction_session_timeout', 'log_min_duration_statement',
                'data_checksums', 'archive_mode', 'wal_level', 'max_connections', 'track_io_timing')
 ORDER BY 1
