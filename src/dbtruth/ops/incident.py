"""`dbtruth incident`: preserve the evidence of a running incident, read-only, into a
timestamped folder, with a summary ordered as the playbook's incident steps (§10.1): protect
data correctness, stop the blast radius, restore minimum service, preserve evidence, diagnose,
repair, prevent. The commands a responder might run next are written out, never run.

Captured: every backend (pg_stat_activity), every lock, wait events sampled over a short window,
pg_stat_statements' top statements, replication and slots, prepared transactions, the settings
not at their defaults, and the server log's tail where the role may read it. Query texts are
kept — they are the evidence — with passwords in them hidden.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from dbtruth.errors import DbtruthError
from dbtruth.inert import md_code, md_text
from dbtruth.reading import TargetOptions, target_label
from dbtruth.sources.conninfo import connect_live, describe, normalize, redact
from dbtruth.sources.introspect import catalog_query
from dbtruth.sources.sessions import extension_schema
from dbtruth.sources.target import is_live
from dbtruth.words import counted

# ALTER ROLE … PASSWORD '…', CREATE USER … WITH PASSWORD '…'
_SQL_PASSWORD = re.compile(r"(?i)(\bpassword\s+)('(?:[^']|'')*'|\S+)")
_LOG_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class IncidentOptions:
    target: TargetOptions = field(default_factory=TargetOptions)
    output: Path = Path(".")
    sample_seconds: float = 5.0
    interval_seconds: float = 0.25
    top: int = 20


@dataclass
class IncidentResult:
    folder: Path
    files: list[str]
    summary: str
    notes: list[str]


def capture_incident(options: IncidentOptions) -> IncidentResult:
    words = options.target.target
    if not is_live(words) or len(words) != 1:
        raise DbtruthError("incident reads a running server: give one database URL")
    conninfo = normalize(words[0])
    moment = datetime.now(UTC)
    folder = options.output / f"incident-{moment:%Y%m%dT%H%M%SZ}"
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise DbtruthError(f"cannot create the evidence folder: {exc.strerror}",
                           where=str(folder)) from exc  # fmt: skip
    notes: list[str] = []
    evidence: dict[str, list[dict[str, Any]]] = {}
    with connect_live(
        conninfo, statement_timeout=options.target.statement_timeout,
        lock_timeout=options.target.lock_timeout,
    ) as conn:  # fmt: skip
        for name in ("activity", "locks", "replication", "prepared", "settings"):
            evidence[name] = _rows(conn, f"incident_{name}", notes)
        evidence["slots"] = _rows(conn, "ops_slots", notes)
        evidence["statements"] = _statements(conn, options.top, notes)
        evidence["waits"] = _sample_waits(conn, options, notes)
        log = _log_tail(conn, notes)
    for row in evidence["activity"]:
        row["query"] = hide_passwords(row.get("query") or "")
    for row in evidence["statements"]:
        row["query"] = hide_passwords(row.get("query") or "")
    files = []
    for name, rows in evidence.items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps({"captured_at": moment.isoformat(), "rows": rows},
                                   indent=2, default=str) + "\n")  # fmt: skip
        files.append(path.name)
    if log is not None:
        (folder / "server-log-tail.txt").write_text(hide_passwords(log))
        files.append("server-log-tail.txt")
    summary = _summary(target_label(words), describe(conninfo), moment, evidence, files, notes)
    (folder / "summary.md").write_text(summary)
    files.append("summary.md")
    return IncidentResult(folder, files, summary, notes)


def hide_passwords(text: str) -> str:
    return redact(_SQL_PASSWORD.sub(r"\1'***'", text))


def _rows(conn: psycopg.Connection[Any], name: str, notes: list[str]) -> list[dict[str, Any]]:
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(catalog_query(name).encode())
            return [dict(row) for row in cur.fetchall()]
    except psycopg.Error as exc:
        notes.append(f"{name.split('_', 1)[1]}: not captured ({exc.diag.message_primary})")
        return []


def _statements(conn: psycopg.Connection[Any], top: int, notes: list[str]) -> list[dict[str, Any]]:
    schema = extension_schema(conn, "pg_stat_statements")
    if schema is None:
        notes.append("statements: pg_stat_statements is not installed in this database")
        return []
    query = sql.SQL(
        "SELECT queryid::text, calls, total_exec_time, mean_exec_time, rows, "
        "shared_blks_read, temp_blks_written, left(query, 2000) AS query "
        "FROM {}.pg_stat_statements ORDER BY total_exec_time DESC LIMIT {}"
    ).format(sql.Identifier(schema), sql.Literal(top))
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query)
            return [dict(r) for r in cur.fetchall()]
    except psycopg.Error as exc:
        notes.append(f"statements: not captured ({exc.diag.message_primary})")
        return []


def _sample_waits(
    conn: psycopg.Connection[Any], options: IncidentOptions, notes: list[str]
) -> list[dict[str, Any]]:
    """What the sessions waited on, sample by sample, summed over the window."""
    counts: Counter[tuple[str, str, str]] = Counter()
    samples = 0
    deadline = time.monotonic() + options.sample_seconds
    while True:
        for row in _rows(conn, "incident_waits", notes):
            counts[(row["state"], row["wait_type"], row["wait_event"])] += row["sessions"]
        samples += 1
        if time.monotonic() + options.interval_seconds > deadline:
            break
        time.sleep(options.interval_seconds)
    return [
        {"state": state, "wait_type": kind, "wait_event": event, "session_samples": n,
         "average_sessions": round(n / samples, 2), "samples": samples}
        for (state, kind, event), n in counts.most_common()
    ]  # fmt: skip


def _log_tail(conn: psycopg.Connection[Any], notes: list[str]) -> str | None:
    try:
        with conn.transaction():
            row = conn.execute("SELECT pg_current_logfile()").fetchone()
            path = row[0] if row else None
            if not path:
                notes.append(
                    "server log: not written by the logging collector (logging_collector off)"
                )
                return None
            text = conn.execute(
                "SELECT pg_read_file(%s, greatest(0, (pg_stat_file(%s)).size - %s), %s)",
                (path, path, _LOG_BYTES, _LOG_BYTES),
            ).fetchone()
            return str(text[0]) if text else None
    except psycopg.Error as exc:
        notes.append(f"server log: not readable by this role ({exc.diag.message_primary})")
        return None


def _summary(
    target: str,
    where: str,
    moment: datetime,
    evidence: dict[str, list[dict[str, Any]]],
    files: list[str],
    notes: list[str],
) -> str:
    activity = evidence["activity"]
    clients = [a for a in activity if a.get("backend_type") == "client backend"]
    by_pid = {a["pid"]: a for a in activity}
    blocked = [a for a in clients if a.get("blocked_by")]
    heads = sorted({_head(a, by_pid) for a in blocked})
    idle = [a for a in clients if str(a.get("state", "")).startswith("idle in transaction")]
    long = sorted((a for a in clients if (a.get("transaction_seconds") or 0) > 60),
                  key=lambda a: -(a.get("transaction_seconds") or 0))[:5]  # fmt: skip
    lines = [
        f"# Incident evidence: {md_text(target)}",
        "",
        f"Captured {moment:%Y-%m-%d %H:%M:%S} UTC from {md_code(where)}, read-only. Ordered as "
        "the playbook's incident steps (§10.1). dbtruth ran none of the commands below.",
        "",
        "## 1. Protect data correctness",
        "",
        f"- Prepared transactions: {len(evidence['prepared'])}"
        + (" (they hold locks until committed or rolled back)" if evidence["prepared"] else ""),
        f"- Sessions idle inside a transaction: {len(idle)}",
        "- Before ending any session, know what its transaction was writing: "
        "`activity.json` holds each session's last statement.",
        "",
        "## 2. Stop the blast radius",
        "",
        f"- Client sessions: {len(clients)}; waiting for a lock: {len(blocked)}",
    ]
    for pid in heads:
        head = by_pid.get(pid, {})
        waiting = sum(1 for a in blocked if _head(a, by_pid) == pid)
        lines.append(
            f"- Head of a blocking chain: session {pid} ({md_text(str(head.get('user')))}, "
            f"{md_text(str(head.get('state')))}), {counted(waiting, 'session')} behind it; "
            f"to end it: {md_code(f'SELECT pg_cancel_backend({pid});')} (its statement) or "
            f"{md_code(f'SELECT pg_terminate_backend({pid});')} (its session; its transaction "
            "rolls back)"
        )
    lines += ["", "## 3. Restore minimum service", ""]
    lines += [
        f"- Session {a['pid']} ({md_text(str(a.get('user')))}): transaction open "
        f"{a['transaction_seconds']:,.0f} s, {md_text(str(a.get('state')))}"
        for a in long
    ] or ["- No transaction open longer than a minute."]
    lines += ["", "## 4. Preserve evidence", ""]
    lines += [f"- {md_code(name)}" for name in [*files, "summary.md"]]
    lines += [f"- Not captured: {md_text(note)}" for note in notes]
    lines += ["", "## 5. Diagnose root cause", ""]
    waits = evidence["waits"][:5]
    lines += [
        f"- Waiting on {md_text(w['wait_type'])} {md_text(w['wait_event'])}: "
        f"{counted(w['average_sessions'], 'session')} on average ({md_text(w['state'])})"
        for w in waits
    ] or ["- No client session was seen in the sample window."]
    for statement in evidence["statements"][:5]:
        text = " ".join(str(statement.get("query", "")).split())[:100]
        lines.append(
            f"- {statement['calls']:,} calls, {statement['total_exec_time']:,.0f} ms in all: "
            f"{md_code(text)}"
        )
    lagging = [r for r in evidence["replication"] if r.get("replay_bytes")]
    lines += [
        f"- Standby {md_text(str(r.get('application')))}: {r['replay_bytes']:,} bytes behind"
        for r in lagging
    ]
    lines += [
        "",
        "## 6. Repair data if needed",
        "",
        "- `dbtruth prove --data` counts the rows that break each declared invariant, read-only.",
        "",
        "## 7. Add preventive and detective controls",
        "",
        "- `dbtruth ops` reports the readiness gaps (timeouts, logging, archiving, slots) to "
        "close once service is back.",
        "",
    ]
    return "\n".join(lines)


def _head(session: dict[str, Any], by_pid: dict[int, dict[str, Any]]) -> int:
    """The session at the head of the chain `session` waits in."""
    current, seen = session, {session["pid"]}
    while current.get("blocked_by"):
        nxt = current["blocked_by"][0]
        if nxt in seen or nxt not in by_pid:
            return int(nxt)
        seen.add(nxt)
        current = by_pid[nxt]
    return int(current["pid"])
