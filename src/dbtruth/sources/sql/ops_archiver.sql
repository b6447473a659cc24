-- Operations: WAL archiving, as the archiver process counts it.
SELECT archived_count, last_archived_wal,
       to_char(last_archived_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           AS last_archived_time,
       failed_count, last_failed_wal,
       to_char(last_failed_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           AS last_failed_time
  FROM pg_stat_archiver
