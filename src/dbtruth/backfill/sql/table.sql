-- The backfill's table as the session's search_path resolves the spec's name: its size as the
-- planner knows it, and how many indexes each changed row may have to update.
SELECT c.oid::int8, n.nspname, c.relname, c.relkind::text, c.reltuples::float8,
       pg_relation_size(c.oid), c.relpages::int8,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(%(table)s)
