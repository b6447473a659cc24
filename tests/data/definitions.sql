-- Index and key shapes whose displayed definitions dbtruth composes from catalog facts.
CREATE SCHEMA other;
CREATE COLLATION other.c_copy (locale = 'C');
CREATE TABLE parent (id bigint PRIMARY KEY, code text NOT NULL, "timestamp" timestamptz,
                     "Mixed" text, "user" text, UNIQUE (code));
CREATE TABLE child (
    id bigint GENERATED ALWAYS AS IDENTITY,
    parent_id bigint,
    code text,
    note text COLLATE "C",
    PRIMARY KEY (id),
    FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE RESTRICT
        DEFERRABLE,
    CONSTRAINT child_code_fk FOREIGN KEY (code) REFERENCES parent (code) ON DELETE SET NULL,
    CHECK (length(code) > 1)
);
ALTER TABLE child ADD CONSTRAINT child_note_check CHECK (note <> '') NOT VALID;
ALTER TABLE child ADD CONSTRAINT child_parent_nv FOREIGN KEY (parent_id) REFERENCES parent (id)
    NOT VALID;
CREATE INDEX child_desc ON child (parent_id DESC, code NULLS FIRST, id DESC NULLS LAST);
CREATE INDEX child_ops ON child (code text_pattern_ops, note COLLATE other.c_copy);
CREATE INDEX child_expr ON child (lower(code), (parent_id + 1)) INCLUDE (note)
    WHERE parent_id IS NOT NULL AND code <> 'x';
CREATE INDEX child_expr_coll ON child (lower(code) COLLATE "C");
CREATE INDEX child_hash ON child USING hash (code);
-- Collations the reader's shortcut must tell apart: the column's own (none printed), the
-- database default on a column that has another, and the default opclass named explicitly.
CREATE INDEX child_note ON child (note, code);
CREATE INDEX child_note_default ON child (note COLLATE "default", code text_ops);
CREATE INDEX child_code_c ON child (code COLLATE "C") INCLUDE (note);
CREATE INDEX parent_keywords ON parent ("timestamp", "Mixed", "user");
CREATE TABLE part (id bigint, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE part_2026 PARTITION OF part FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
-- Defaults are deparsed without their table, generation expressions with it.
CREATE TABLE defaults (
    id serial PRIMARY KEY,
    at timestamptz DEFAULT now(),
    label text DEFAULT 'new'::text COLLATE "C",
    amount numeric(10, 2) DEFAULT (1.5 * 2),
    doubled numeric GENERATED ALWAYS AS (amount * 2) STORED
);
