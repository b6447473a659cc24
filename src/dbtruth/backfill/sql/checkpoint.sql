-- The one place dbtruth writes on a target besides the backfill's own statement: the state of
-- each backfill, its chunks, and every decision the runner made. Created by
-- `dbtruth backfill run` only.
CREATE SCHEMA IF NOT EXISTS dbtruth_backfill;
COMMENT ON SCHEMA dbtruth_backfill IS 'dbtruth backfill: checkpoints of chunked backfills';
CREATE TABLE IF NOT EXISTS dbtruth_backfill.backfill (
    name text PRIMARY KEY,
    table_name text NOT NULL,
    key_columns text[] NOT NULL,
    statement_digest text NOT NULL,
    statement text,             -- as dbtruth normalised it: what a resumed run must repeat
    status text NOT NULL
        CHECK (status IN ('running', 'paused', 'aborted', 'failed', 'done')),
    reason text,
    last_key text[],            -- the last chunk's upper bound: the next chunk starts after it
    high_key text[],            -- the key range's end when the backfill started
    rows_estimate float8,
    rows_visited int8 NOT NULL DEFAULT 0,
    rows_changed int8 NOT NULL DEFAULT 0,
    chunks int8 NOT NULL DEFAULT 0,
    chunk_rows int NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE TABLE IF NOT EXISTS dbtruth_backfill.chunk (
    name text NOT NULL REFERENCES dbtruth_backfill.backfill ON DELETE CASCADE,
    chunk int8 NOT NULL,
    low_key text[],
    high_key text[] NOT NULL,
    rows_visited int NOT NULL,
    rows_changed int8 NOT NULL,
    seconds float8 NOT NULL,
    wal_bytes int8,
    sessions_waiting int NOT NULL DEFAULT 0,
    longest_wait float8 NOT NULL DEFAULT 0,
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, chunk)
);
CREATE TABLE IF NOT EXISTS dbtruth_backfill.event (
    name text NOT NULL REFERENCES dbtruth_backfill.backfill ON DELETE CASCADE,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind text NOT NULL,
    signal text,
    detail text NOT NULL
);
CREATE INDEX IF NOT EXISTS event_name_at ON dbtruth_backfill.event (name, at);
