-- Durable trace and reliable side effects: the audit event is append-only, the outbox event is
-- written in the same transaction as the change it announces and consumed by a relay.
CREATE TABLE casework.audit_event (
    tenant_id    bigint NOT NULL REFERENCES casework.tenant (id),
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id     bigint NOT NULL,
    action       text NOT NULL,
    subject      text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}',
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, actor_id) REFERENCES casework.investigator (tenant_id, id)
);
CREATE INDEX audit_event_tenant_time_idx ON casework.audit_event (tenant_id, occurred_at);
CREATE INDEX audit_event_actor_idx ON casework.audit_event (tenant_id, actor_id);
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON casework.audit_event
    FOR EACH ROW EXECUTE FUNCTION casework.forbid_change();

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
