-- Tenant isolation in the database: every tenant-scoped table enables and forces RLS, and the
-- application role sees only the tenant its session names in app.tenant_id.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['investigator', 'case_file', 'case_state_transition',
                             'case_assignment', 'audit_event', 'outbox_event'] LOOP
        EXECUTE format('ALTER TABLE casework.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE casework.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY %I ON casework.%I '
            'USING (tenant_id = current_setting(''app.tenant_id'')::bigint) '
            'WITH CHECK (tenant_id = current_setting(''app.tenant_id'')::bigint)',
            t || '_tenant_isolation', t);
    END LOOP;
END $$;

CREATE VIEW casework.open_case WITH (security_invoker = true) AS
    SELECT tenant_id, id, reference, title, opened_at
      FROM casework.case_file
     WHERE current_state <> 'CLOSED';
