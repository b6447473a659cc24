-- Incident evidence: prepared transactions (two-phase commit), which hold locks and the xmin
-- horizon until someone commits or rolls them back.
SELECT gid, to_char(prepared AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS prepared,
       owner, database
  FROM pg_prepared_xacts
 ORDER BY prepared
