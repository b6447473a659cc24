-- Operations: roles, and the settings ALTER ROLE … SET (and ALTER ROLE … IN DATABASE … SET for
-- this database) gives each; pg_db_role_setting is readable by every role.
SELECT r.rolname AS name, r.rolcanlogin AS login, r.rolsuper AS superuser,
       r.rolbypassrls AS bypassrls, r.rolreplication AS replication,
       coalesce((SELECT array_agg(cfg ORDER BY s.setdatabase DESC)
                   FROM pg_db_role_setting s, unnest(s.setconfig) cfg
                  WHERE s.setrole = r.oid
                    AND s.setdatabase IN (0, (SELECT oid FROM pg_database
                                               WHERE datname = current_database()))),
                '{}') AS settings
  FROM pg_roles r
 WHERE r.rolname !~ '^pg_'
 ORDER BY 1
