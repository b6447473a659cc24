-- Operations: this database's transaction-ID age, the server's connections and role in
-- replication, the settings ALTER DATABASE … SET gives every role here.
SELECT current_database() AS database,
       current_setting('server_version_num')::int AS server_version_num,
       to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS collected_at,
       age(d.datfrozenxid)::bigint AS xid_age,
       mxid_age(d.datminmxid)::bigint AS mxid_age,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
           AS connections,
       pg_is_in_recovery() AS in_recovery,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END
           AS current_lsn,
       coalesce((SELECT array_agg(cfg) FROM pg_db_role_setting s, unnest(s.setconfig) cfg
                  WHERE s.setrole = 0 AND s.setdatabase = d.oid), '{}') AS database_settings,
       ARRAY(SELECT extname::text FROM pg_extension ORDER BY 1) AS extensions
  FROM pg_database d
 WHERE d.datname = current_database()
