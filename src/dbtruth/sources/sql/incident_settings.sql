-- Incident evidence: every setting not at PostgreSQL's default, and where it comes from.
SELECT name, setting, unit, source
  FROM pg_settings
 WHERE source NOT IN ('default', 'override', 'session', 'client')
 ORDER BY name
