"""How each public corpus in ../shared/corpora is given to dbtruth — what a user of that project
would type. Files are never changed; placeholders are replaced at load time with --replace."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CORPORA = Path(
    os.environ.get("DBTRUTH_CORPORA", Path(__file__).resolve().parents[2] / "shared" / "corpora")
)


@dataclass(frozen=True)
class Corpus:
    name: str
    files: tuple[Path, ...]
    replacements: tuple[tuple[str, str], ...] = ()
    keep_going: bool = False
    scratch: str | None = None
    note: str = ""
    settings: dict[str, object] = field(default_factory=dict)


def _prelude(sql: str) -> Path:
    """A statement the project's runner executes before its migrations (e.g. CREATE SCHEMA)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False, prefix="prelude-") as f:
        f.write(sql)
    return Path(f.name)


def _natural(path: Path) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


def _kratos() -> tuple[Path, ...]:
    """popx order: per version, the .postgres. file when there is one, else the neutral one."""
    folder = CORPORA / "ory-kratos/persistence/sql/migrations/sql"
    chosen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.up.sql")):
        if not (
            ".postgres." in path.name or path.name.count(".") == 2 or ".autocommit." in path.name
        ):
            continue  # another dialect
        key = path.name.replace(".postgres", "").replace(".autocommit", "")
        if key not in chosen or ".postgres." in path.name:
            chosen[key] = path
    return tuple(chosen[k] for k in sorted(chosen))


def corpora() -> list[Corpus]:
    if not CORPORA.is_dir():
        return []
    synapse = CORPORA / "synapse/synapse/storage/schema"
    omop = CORPORA / "omop-cdm/inst/ddl/5.4/postgresql"
    # Supabase's migrations write the schema placeholder both ways: three files omit a space
    auth_ns = (
        ('{{ index .Options "Namespace" }}', "auth"),
        ('{{index .Options "Namespace" }}', "auth"),
    )
    return [
        Corpus(
            "chinook", (CORPORA / "chinook/ChinookDatabase/DataSources/Chinook_PostgreSql.sql",)
        ),
        Corpus("northwind", (CORPORA / "northwind/northwind.sql",)),
        Corpus("pagila-classic", (CORPORA / "pagila/at-e0e35a6/pagila-schema.sql",)),
        Corpus(
            "pagila-head",
            (CORPORA / "pagila/pagila-schema.sql",),
            scratch="embedded",
            note="needs PostgreSQL 18 and pgvector: the embedded server",
        ),
        Corpus(
            "synapse-72",
            tuple(
                synapse / s / "full_schemas/72/full.sql.postgres"
                for s in ("common", "main", "state")
            ),
        ),
        Corpus(
            "omop-cdm-5.4",
            tuple(
                omop / f"OMOPCDM_postgresql_5.4_{part}.sql"
                for part in ("ddl", "primary_keys", "indices", "constraints")
            ),
            replacements=(("@cdmDatabaseSchema", "public"),),
        ),
        Corpus(
            "langfuse",
            tuple(
                sorted(
                    (CORPORA / "langfuse/packages/shared/prisma/migrations").glob("*/migration.sql")
                )
            ),
        ),
        Corpus("ory-kratos", _kratos()),
        Corpus(
            "supabase-auth",
            (
                _prelude("CREATE SCHEMA IF NOT EXISTS auth;\n"),
                *sorted((CORPORA / "supabase-auth/migrations").glob("*.up.sql"), key=_natural),
            ),
            replacements=auth_ns,
            keep_going=True,
            note="roles of the wider Supabase platform are missing",
        ),
        Corpus(
            "supabase-storage",
            (
                # Its runner connects as supabase_storage_admin, whose search_path 0002 sets to
                # storage: unqualified names in later migrations mean storage's tables.
                _prelude("SET search_path = storage, public;\n"),
                *sorted(
                    (CORPORA / "supabase-storage/migrations/tenant").glob("*.sql"), key=_natural
                ),
            ),
            keep_going=True,
            # Its migrations create roles inside DO blocks: dbtruth lets loaded SQL do that only
            # on PostgreSQL 16 or later, where CREATEROLE cannot reach server access.
            scratch="embedded",
            note="roles of the wider Supabase platform are missing",
        ),
        Corpus("temporal", (CORPORA / "temporal/schema/postgresql/v12/temporal/schema.sql",)),
    ]
