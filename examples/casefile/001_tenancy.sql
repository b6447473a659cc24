-- The case-management domain of the playbook, built the way it recommends.
-- Tenancy first: every tenant-scoped table carries tenant_id, is protected by forced row-level
-- security, and references other tenant tables through (tenant_id, id) so that a row can never
-- point into another tenant.
CREATE SCHEMA casework;

CREATE TABLE casework.tenant (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE casework.investigator (
    tenant_id  bigint NOT NULL REFERENCES casework.tenant (id),
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL,
    full_name  text NOT NULL,
    UNIQUE (tenant_id, email),
    UNIQUE (tenant_id, id)
);
