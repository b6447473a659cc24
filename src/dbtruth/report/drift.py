"""`dbtruth drift`'s report: each copy against its sources, the drifted keys named."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dbtruth import __version__
from dbtruth.drift.compare import SAMPLE
from dbtruth.inert import json_text, md_text, visible
from dbtruth.words import counted

if TYPE_CHECKING:
    from dbtruth.drift.run import DriftResult, Projection


def _lines(done: DriftResult) -> list[str]:
    lines = [f"drift of {done.target} ({done.source})"]
    lines += [f"note: {n}" for n in done.notes]
    for p in done.projections:
        lines.append("")
        lines.append(f"{p.table} ({p.role}): " + ("DRIFTED" if p.drifted else "in step"))
        if p.error:
            lines.append(f"  error: {p.error}")
        if p.stale_seconds is not None:
            verdict = "older than" if p.stale else "within"
            lines.append(f"  last refreshed {p.stale_seconds:,.0f} s ago: {verdict} its "
                         f"freshness contract ({p.freshness})")  # fmt: skip
        if p.check_rows is not None:
            lines.append(f"  declared drift_check: {counted(p.check_rows, 'row')}")
        drift = p.drift
        if drift is not None:
            lines.append(
                f"  {drift.rows_copy:,} rows in the copy, {drift.rows_source:,} from its sources; "
                f"compared by {', '.join(p.key)} on {counted(len(p.compared), 'column')}"
            )
            kinds = (
                ("missing from the copy", drift.missing_count, drift.missing),
                ("only in the copy", drift.extra_count, drift.extra),
                ("values differ", drift.changed_count, drift.changed),
            )
            for kind, count, keys in kinds:
                if count:
                    shown = ", ".join(keys[:SAMPLE]) + (" …" if count > SAMPLE else "")
                    lines.append(f"  {count:,} {kind}: {shown}")
            if drift.in_flight:
                lines.append(
                    f"  {counted(drift.in_flight, 'difference')} gone in the recheck: in flight"
                )
        lines += [f"  note: {n}" for n in p.notes]
        if p.drifted and p.rebuild:
            lines.append(f"  rebuild: {p.rebuild}")
    drifted = [p.table for p in done.projections if p.drifted]
    lines.append("")
    lines.append(f"{len(drifted)} of {len(done.projections)} copies drifted"
                 + (f": {', '.join(drifted)}" if drifted else ""))  # fmt: skip
    return lines


def render(done: DriftResult, fmt: str) -> str:
    if fmt == "json":
        return json_text(json.dumps(_document(done), indent=2, ensure_ascii=False)) + "\n"
    if fmt == "markdown":
        return "\n".join(["# dbtruth drift", "", *(md_text(line) for line in _lines(done))]) + "\n"
    return "".join(f"{visible(line)}\n" for line in _lines(done))


def _document(done: DriftResult) -> dict[str, Any]:
    return {
        "tool": {"name": "dbtruth", "version": __version__},
        "target": done.target,
        "source": done.source,
        "drifted": done.drifted,
        "notes": done.notes,
        "projections": [_projection(p) for p in done.projections],
    }


def _projection(p: Projection) -> dict[str, Any]:
    drift = p.drift
    return {
        "table": p.table,
        "role": p.role,
        "drifted": p.drifted,
        "key": list(p.key),
        "compared": list(p.compared),
        "check_rows": p.check_rows,
        "error": p.error,
        "rebuild": p.rebuild,
        "freshness": p.freshness,
        "stale_seconds": p.stale_seconds,
        "stale": p.stale,
        "notes": p.notes,
        "comparison": None
        if drift is None
        else {
            "rows_copy": drift.rows_copy,
            "rows_source": drift.rows_source,
            "missing_count": drift.missing_count,
            "extra_count": drift.extra_count,
            "changed_count": drift.changed_count,
            "missing": drift.missing,
            "extra": drift.extra,
            "changed": drift.changed,
            "in_flight": drift.in_flight,
        },
    }
