-- Live-only: settings that later operational checks read, as the server configures them.
-- dbtruth's own session sets statement_timeout, lock_timeout, idle_in_transaction_session_timeout
-- and default_transaction_read_only with SET (source 'session'); for those, reset_val is what the
-- server gives this database and role (configuration file, ALTER SYSTEM, ALTER DATABASE/ROLE),
-- which is the configuration a review describes.
SELECT name,
       CASE WHEN source = 'session' THEN reset_val ELSE setting END AS setting
  FROM pg_settings
 WHERE name IN ('shared_preload_libraries', 'statement_timeout', 'lock_timeout',
                'idle_in_transaction_session_timeout', 'log_min_duration_statement',
                'data_checksums', 'archive_mode', 'wal_level', 'max_connections', 'track_io_timing')
 ORDER BY 1
