"""The history of measured restore drills: one JSON line per drill, appended by `dbtruth drill
restore --record FILE` and read by the review (dbtruth.yaml's
`operations.restore_drill_history`), so that "a restore was tested" is a measurement with a
date, a time and an outcome rather than a sentence someone wrote.

The file arrives in pull requests like dbtruth.yaml: it is read within bounds, and a line that
is not a drill record is an error at its line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbtruth import __version__
from dbtruth.errors import DbtruthError
from dbtruth.inputs import read_bytes

if TYPE_CHECKING:
    from dbtruth.ops.drill import DrillResult

MAX_HISTORY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DrillRecord:
    day: date
    passed: bool
    rto_seconds: float
    dump_bytes: int
    tables: int
    dbtruth: str
    target: str  # as outputs print it, passwords hidden


def record(result: DrillResult, path: Path, today: date | None = None) -> DrillRecord:
    """Append the drill to the history file; returns what was written."""
    entry = DrillRecord(
        day=today or date.today(),
        passed=result.passed,
        rto_seconds=round(result.rto_seconds, 3),
        dump_bytes=result.dump_bytes,
        tables=len(result.tables),
        dbtruth=__version__,
        target=result.target,
    )
    line = json.dumps({**_as_dict(entry), "date": entry.day.isoformat()}, sort_keys=True)
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError as exc:
        raise DbtruthError(f"cannot record the drill: {exc.strerror}", where=str(path)) from exc
    return entry


def _as_dict(entry: DrillRecord) -> dict[str, Any]:
    return {
        "passed": entry.passed,
        "rto_seconds": entry.rto_seconds,
        "dump_bytes": entry.dump_bytes,
        "tables": entry.tables,
        "dbtruth": entry.dbtruth,
        "target": entry.target,
    }


def read_history(path: Path) -> list[DrillRecord]:
    """Every drill the file records, oldest first."""
    text = read_bytes(path, MAX_HISTORY_BYTES).decode("utf-8", errors="replace")
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
            records.append(
                DrillRecord(
                    day=date.fromisoformat(str(data["date"])),
                    passed=bool(data["passed"]),
                    rto_seconds=float(data["rto_seconds"]),
                    dump_bytes=int(data.get("dump_bytes", 0)),
                    tables=int(data.get("tables", 0)),
                    dbtruth=str(data.get("dbtruth", "?")),
                    target=str(data.get("target", "?")),
                )
            )
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise DbtruthError(
                f"not a drill record ({type(exc).__name__}: {str(exc)[:80]})", where=where
            ) from exc
    return records
