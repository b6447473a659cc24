-- The same case-management domain, built the way the playbook warns against: one catch-all
-- activity table with status soup and boolean flags, naive timestamps, an editable audit log,
-- references without foreign keys and no tenant boundary in the database.
CREATE TABLE organization (
    id   serial PRIMARY KEY,
    name varchar(200)
);

CREATE TABLE users (
    id     serial PRIMARY KEY,
    org_id integer REFERENCES organization (id),
    email  varchar(200) UNIQUE,
    name   varchar(200)
);

CREATE TABLE cases (
    id          serial PRIMARY KEY,
    org_id      integer REFERENCES organization (id),
    title       text,
    status      varchar(30),
    priority    integer,
    assignee_id integer,
    is_active   boolean DEFAULT true,
    is_closed   boolean DEFAULT false,
    is_escalated boolean DEFAULT false,
    is_deleted  boolean DEFAULT false,
    created     timestamp DEFAULT now(),
    updated_at  timestamp
);

CREATE TABLE case_activity (
    id              serial PRIMARY KEY,
    org_id          integer,
    case_id         integer REFERENCES cases (id),
    activity_type   varchar(30),
    status          varchar(30),
    note_body       text,
    task_title      text,
    task_due        date,
    decision_code   varchar(20),
    decision_reason text,
    email_to        text,
    email_subject   text,
    email_body      text,
    escalated_to    integer,
    escalation_level integer,
    assigned_user_id integer,
    amount          double precision,
    is_approved     boolean,
    is_rejected     boolean,
    is_pending      boolean,
    created_at      timestamp DEFAULT now(),
    updated_at      timestamp
);

CREATE TABLE case_attribute (
    case_id        integer REFERENCES cases (id),
    attribute_name varchar(100),
    value          text
);

CREATE TABLE comment (
    id               serial PRIMARY KEY,
    commentable_type varchar(50),
    commentable_id   integer,
    body             text
);

CREATE TABLE audit_log (
    id         serial PRIMARY KEY,
    case_id    integer REFERENCES cases (id) ON DELETE CASCADE,
    user_id    integer,
    action     varchar(50),
    details    text,
    created_at timestamp DEFAULT now()
);

CREATE TABLE case_assignment (
    id          serial PRIMARY KEY,
    org_id      integer,
    case_id     bigint REFERENCES cases (id),
    user_id     integer REFERENCES users (id),
    valid_from  timestamp,
    valid_to    timestamp,
    UNIQUE (org_id, case_id)
);

CREATE INDEX cases_status_idx ON cases (status);
CREATE INDEX cases_status_idx2 ON cases (status);
CREATE INDEX case_activity_case_idx ON case_activity (case_id);
CREATE INDEX case_activity_case_type_idx ON case_activity (case_id, activity_type);

CREATE VIEW open_cases AS SELECT * FROM cases WHERE status = 'open';

CREATE FUNCTION close_case(case_id integer) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    AS $$ UPDATE cases SET status = 'closed', is_closed = true WHERE id = case_id $$;

GRANT SELECT, UPDATE, DELETE ON audit_log TO PUBLIC;
GRANT SELECT ON cases TO PUBLIC;
