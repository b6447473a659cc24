-- One row per assignment interval. Three invariants live in the database: the interval never
-- ends before it starts (CHECK); a case has at most one active primary investigator (partial
-- unique index, the playbook's Principle 1 verbatim); and one investigator's assignments to
-- one case never overlap in time (exclusion constraint).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE casework.case_assignment (
    tenant_id       bigint NOT NULL,
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_file_id    bigint NOT NULL,
    investigator_id bigint NOT NULL,
    role_code       text NOT NULL CHECK (role_code IN ('PRIMARY', 'SECONDARY', 'REVIEWER')),
    assigned_at     timestamptz NOT NULL DEFAULT now(),
    unassigned_at   timestamptz,
    FOREIGN KEY (tenant_id, case_file_id) REFERENCES casework.case_file (tenant_id, id),
    FOREIGN KEY (tenant_id, investigator_id) REFERENCES casework.investigator (tenant_id, id),
    CONSTRAINT chk_assignment_interval
        CHECK (unassigned_at IS NULL OR unassigned_at >= assigned_at),
    CONSTRAINT no_overlapping_assignment EXCLUDE USING gist (
        tenant_id WITH =, case_file_id WITH =, investigator_id WITH =,
        tstzrange(assigned_at, unassigned_at) WITH &&)
);
CREATE UNIQUE INDEX uq_one_active_primary_assignment
    ON casework.case_assignment (tenant_id, case_file_id)
    WHERE role_code = 'PRIMARY' AND unassigned_at IS NULL;
CREATE INDEX case_assignment_case_idx ON casework.case_assignment (tenant_id, case_file_id);
CREATE INDEX case_assignment_investigator_idx
    ON casework.case_assignment (tenant_id, investigator_id);
