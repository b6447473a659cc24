-- After a lock timeout: the relations of this database that other sessions hold in ACCESS
-- EXCLUSIVE mode, the one mode that blocks the ACCESS SHARE locks a catalog read takes (sizes,
-- sequence values). A relation created in the holder's open transaction has no visible name
-- yet: its OID stands in.
SELECT CASE WHEN c.oid IS NULL THEN l.relation::text
            ELSE format('%I.%I', n.nspname, c.relname) END AS relation,
       l.pid
  FROM pg_locks l
  LEFT JOIN pg_class c ON c.oid = l.relation
  LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.locktype = 'relation' AND l.granted AND l.mode = 'AccessExclusiveLock'
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.pid <> pg_backend_pid()
 ORDER BY 1, 2
 LIMIT 6
