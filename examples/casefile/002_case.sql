-- case_file holds the current state for fast reads; case_state_transition holds every legal
-- transition, append-only (the playbook's mini ADR).
CREATE TABLE casework.case_state (
    code        text PRIMARY KEY,
    description text NOT NULL
);

CREATE TABLE casework.case_file (
    tenant_id     bigint NOT NULL REFERENCES casework.tenant (id),
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference     text NOT NULL,
    title         text NOT NULL,
    current_state text NOT NULL REFERENCES casework.case_state (code),
    opened_at     timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, reference),
    UNIQUE (tenant_id, id)
);
CREATE INDEX case_file_tenant_state_idx ON casework.case_file (tenant_id, current_state);

CREATE FUNCTION casework.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER case_file_touch BEFORE UPDATE ON casework.case_file
    FOR EACH ROW EXECUTE FUNCTION casework.touch_updated_at();

-- A case moves only along its state machine: OPEN <-> REVIEW, either to CLOSED, never back.
CREATE FUNCTION casework.guard_state_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.current_state IS DISTINCT FROM OLD.current_state
       AND (OLD.current_state, NEW.current_state) NOT IN
           (('OPEN', 'REVIEW'), ('REVIEW', 'OPEN'), ('OPEN', 'CLOSED'), ('REVIEW', 'CLOSED')) THEN
        RAISE EXCEPTION 'a case cannot move from % to %', OLD.current_state, NEW.current_state;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER case_file_state_guard
    BEFORE UPDATE OF current_state ON casework.case_file
    FOR EACH ROW EXECUTE FUNCTION casework.guard_state_change();

CREATE FUNCTION casework.forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;

CREATE TABLE casework.case_state_transition (
    tenant_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_file_id bigint NOT NULL,
    from_state   text REFERENCES casework.case_state (code),
    to_state     text NOT NULL REFERENCES casework.case_state (code),
    reason       text NOT NULL,
    changed_by   bigint NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, case_file_id) REFERENCES casework.case_file (tenant_id, id),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES casework.investigator (tenant_id, id)
);
CREATE INDEX case_state_transition_case_idx
    ON casework.case_state_transition (tenant_id, case_file_id, changed_at);
CREATE INDEX case_state_transition_changed_by_idx
    ON casework.case_state_transition (tenant_id, changed_by);
CREATE TRIGGER case_state_transition_append_only
    BEFORE UPDATE OR DELETE ON casework.case_state_transition
    FOR EACH ROW EXECUTE FUNCTION casework.forbid_change();
-- TRUNCATE fires no row trigger: evidence is kept from it by a statement trigger of its own.
CREATE TRIGGER case_state_transition_no_truncate
    BEFORE TRUNCATE ON casework.case_state_transition
    FOR EACH STATEMENT EXECUTE FUNCTION casework.forbid_change();
