-- The signals a backfill backs off on, read in one statement: the standbys' replay lag (NULL
-- lag with rows present: not visible to this role, or caught up), the WAL waiting for the
-- archiver, and autovacuum working on the table (relid is NULL for another role's backend
-- unless this role has pg_read_all_stats).
SELECT
    (SELECT count(*) FROM pg_stat_replication),
    (SELECT max(extract(epoch FROM replay_lag))::float8 FROM pg_stat_replication),
    (SELECT count(*) FROM pg_stat_replication WHERE replay_lsn IS NULL),
    current_setting('archive_mode'),
    (SELECT last_archived_wal FROM pg_stat_archiver),
    CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END,
    pg_size_bytes(current_setting('wal_segment_size')),
    (SELECT count(*) FROM pg_stat_progress_vacuum WHERE relid = %(oid)s),
    (SELECT count(*) FROM pg_stat_progress_vacuum WHERE relid IS NULL)
