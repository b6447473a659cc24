"""Synthetic schemas of any size, shaped like real ones: keyed tables referencing earlier ones,
a mix of indexed and unindexed foreign keys, status columns, timestamps, some RLS."""

from __future__ import annotations

import random


def schema_sql(tables: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    out = ["CREATE SCHEMA app;"]
    for n in range(tables):
        columns = [
            "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            "tenant_id bigint NOT NULL",
            "name text NOT NULL",
            "status text NOT NULL CHECK (status IN ('new', 'open', 'closed'))"
            if n % 3
            else "status text",
            "created_at timestamptz NOT NULL DEFAULT now()",
            "updated_at timestamp" if n % 5 == 0 else "updated_at timestamptz",
            "amount numeric(19, 4)",
            "payload jsonb",
        ]
        refs = []
        if n > 0:
            for k in range(rng.randint(1, 3)):
                target = rng.randrange(n)
                columns.append(f"t{target}_{k}_id bigint REFERENCES app.t{target} (id)")
                refs.append(f"t{target}_{k}_id")
        out.append(f"CREATE TABLE app.t{n} (\n    " + ",\n    ".join(columns) + "\n);")
        out.append(f"CREATE UNIQUE INDEX t{n}_tenant_name ON app.t{n} (tenant_id, name);")
        for ref in refs[: rng.randint(0, len(refs))]:
            out.append(f"CREATE INDEX ON app.t{n} ({ref});")
        if n % 4 == 0:
            out.append(f"ALTER TABLE app.t{n} ENABLE ROW LEVEL SECURITY;")
            out.append(
                f"CREATE POLICY t{n}_tenant ON app.t{n} USING "
                "(tenant_id = current_setting('app.tenant_id')::bigint);"
            )
    return "\n".join(out) + "\n"
