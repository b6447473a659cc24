-- Durable trace and reliable side effects: the audit event is append-only, the outbox event is
-- written in the same transaction as the change it announces and consumed by a relay.
-- Audit events are kept ten years and never edited, so they are partitioned by the year they
-- occurred in: retention detaches and archives a whole year (dbtruth.yaml `retention`) instead
-- of deleting rows the append-only trigger refuses to delete. The yearly job creates next
-- year's partition ahead of time. Partitions are read through casework.audit_event, whose
-- row-level security applies; the application role has no privileges on the partitions.
CREATE TABLE casework.audit_event (
    tenant_id    bigint NOT NULL REFERENCES casework.tenant (id),
    id           bigint GENERATED ALWAYS AS IDENTITY,
    actor_id     bigint NOT NULL,
    action       text NOT NULL,
    subject      text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}',
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, occurred_at),
    FOREIGN KEY (tenant_id, actor_id) REFERENCES casework.investigator (tenant_id, id)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE casework.audit_event_2026 PARTITION OF casework.audit_event
    FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2027-01-01 00:00+00');
CREATE TABLE casework.audit_event_2027 PARTITION OF casework.audit_event
    FOR VALUES FROM ('2027-01-01 00:00+00') TO ('2028-01-01 00:00+00');
CREATE INDEX audit_event_tenant_time_idx ON casework.audit_event (tenant_id, occurred_at);
CREATE INDEX audit_event_actor_idx ON casework.audit_event (tenant_id, actor_id);
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON casework.audit_event
    FOR EACH ROW EXECUTE FUNCTION casework.forbid_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON casework.audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION casework.forbid_change();

CREATE TABLE casework.outbox_event (
    tenant_id      bigint NOT NULL REFERENCES casework.tenant (id),
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    aggregate_id   bigint NOT NULL,
    event_name     text NOT NULL,
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,
    idempotency_key uuid NOT NULL,
    UNIQUE (tenant_id, idempotency_key),
    FOREIGN KEY (tenant_id, aggregate_id) REFERENCES casework.case_file (tenant_id, id)
);
CREATE INDEX outbox_event_unpublished_idx ON casework.outbox_event (created_at)
    WHERE published_at IS NULL;
CREATE INDEX outbox_event_aggregate_idx ON casework.outbox_event (tenant_id, aggregate_id);
