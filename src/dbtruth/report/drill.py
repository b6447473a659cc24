"""`dbtruth drill restore`'s report: the measured times and sizes, and every check that makes
the restore known good (or says where it is not)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dbtruth import __version__
from dbtruth.inert import json_text, md_text, visible
from dbtruth.words import counted

if TYPE_CHECKING:
    from dbtruth.ops.drill import DrillResult

_MB = 1024 * 1024


def _rate(size: int, seconds: float) -> str:
    return f"{size / _MB / seconds:,.1f} MB/s" if seconds > 0 else "—"


def summary_lines(done: DrillResult) -> list[str]:
    unequal = [t for t in done.tables if not t.equal]
    sampled = [t for t in done.tables if t.share < 1]
    drilled = done.dump_bytes > 0
    lines = [
        f"restore drill of {done.target} ({done.server_version}) into {done.restored_on}"
        if drilled
        else f"{done.restored_on} compared with {done.target} ({done.server_version})",
        *(
            [
                f"dump: {done.dump_bytes / _MB:,.1f} MB in {done.dump_seconds:.2f} s "
                f"({_rate(done.dump_bytes, done.dump_seconds)})",
                f"restore: {done.restore_seconds:.2f} s "
                f"({_rate(done.dump_bytes, done.restore_seconds)} of dump); verify: "
                f"{done.verify_seconds:.2f} s; measured RTO (restore + verify): "
                f"{done.rto_seconds:.2f} s",
            ]
            if drilled
            else [f"verify: {done.verify_seconds:.2f} s"]
        ),
        "schema: "
        + (
            f"{counted(done.schema_difference_count, 'difference')}"
            if done.schema_difference_count
            else "identical"
        ),
        f"tables: {len(done.tables) - len(unequal)} of {len(done.tables)} equal in rows and "
        f"checksum"
        + (f" ({len(sampled)} by a sample keyed on the primary key)" if sampled else ""),
        "constraints: "
        + (
            ", ".join(done.not_validated) + " not validated"
            if done.not_validated
            else "all validated as on the source"
        ),
        f"amcheck: {counted(done.amchecked, 'btree index')} checked, "
        f"{len(done.amcheck_failures)} failed",
    ]
    lines += [f"restore error: {e}" for e in done.restore_errors]
    lines += [f"schema: {d}" for d in done.schema_differences]
    lines += [
        f"table {t.table}: {t.source_rows:,} rows on the source, "
        + (f"{t.restored_rows:,} restored" if t.restored_rows is not None else "not readable")
        + (
            ""
            if t.source_rows != t.restored_rows or t.restored_rows is None
            else ", checksums differ"
        )
        + (f" ({t.note})" if t.note else "")
        for t in unequal
    ]
    lines += [f"amcheck: {f}" for f in done.amcheck_failures]
    lines += [f"note: {n}" for n in done.notes]
    source = "the dump" if drilled else "the source"
    lines.append(
        f"PASSED: the restore equals {source}"
        if done.passed
        else f"FAILED: the restore does not equal {source}"
    )
    return lines


def terminal(done: DrillResult) -> str:
    return "".join(f"{visible(line)}\n" for line in summary_lines(done))


def markdown(done: DrillResult) -> str:
    lines = summary_lines(done)
    return (
        "\n".join(
            [f"# {md_text('dbtruth drill restore')}", "", *(f"- {md_text(line)}" for line in lines)]
        )
        + "\n"
    )


def as_json(done: DrillResult) -> str:
    document: dict[str, Any] = {
        "tool": {"name": "dbtruth", "version": __version__},
        "target": done.target,
        "restored_on": done.restored_on,
        "server_version": done.server_version,
        "passed": done.passed,
        "dump_bytes": done.dump_bytes,
        "seconds": {
            "dump": done.dump_seconds,
            "restore": done.restore_seconds,
            "verify": done.verify_seconds,
            "rto": done.rto_seconds,
        },
        "schema_differences": done.schema_differences,
        "schema_difference_count": done.schema_difference_count,
        "tables": [
            {
                "table": t.table,
                "share": t.share,
                "source_rows": t.source_rows,
                "restored_rows": t.restored_rows,
                "source_checksum": t.source_sum,
                "restored_checksum": t.restored_sum,
                "equal": t.equal,
                "note": t.note,
            }
            for t in done.tables
        ],
        "not_validated": done.not_validated,
        "amcheck": {"checked": done.amchecked, "failures": done.amcheck_failures},
        "restore_errors": done.restore_errors,
        "notes": done.notes,
    }
    return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def render(done: DrillResult, fmt: str) -> str:
    return {"terminal": terminal, "markdown": markdown, "json": as_json}[fmt](done)
