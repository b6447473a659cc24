"""`dbtruth prove`'s reports: per invariant its status, how it is known and the probes' SQL.

JSON keeps every statement each probe ran (setup rows, the legal control, the illegal write) so
a proof can be rerun by hand; the terminal shows the verdicts, and the SQL and accepted row of
every write that was not refused as it should have been. Names, SQL and server messages come
from the input: JSON keeps them exact, the terminal shows their control characters as escapes.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from dbtruth import __version__
from dbtruth.inert import code_lines, json_text, visible
from dbtruth.prove.data import DataFinding, DataReport
from dbtruth.prove.model import Probe, Proof, Proved, Status, Step
from dbtruth.words import counted, plural, verb

_STYLE = {Status.PROVEN: "green", Status.UNENFORCED: "bold red", Status.NOT_PROVABLE: "yellow"}
_ORDER = (Status.UNENFORCED, Status.NOT_PROVABLE, Status.PROVEN)


def summary(proved: Proved) -> str:
    counts = ", ".join(f"{proved.count(s)} {s.value}" for s in _ORDER)
    text = f"{counted(len(proved.proofs), 'invariant')}: {counts}"
    if proved.data is not None:
        broken = proved.data.violations()
        latent = [f for f in proved.data.findings if f.proposal]
        text += (
            f"; the rows: {counted(len(broken), 'declared invariant')} broken "
            f"({sum(f.count for f in broken):,} {plural('row', sum(f.count for f in broken))}), "
            f"{counted(len(latent), 'latent invariant')} proposed"
        )
    return text


# -- JSON ----------------------------------------------------------------------------------


def _row(row: tuple[tuple[str, str | None], ...] | None) -> dict[str, str | None] | None:
    from dbtruth.prove.rows import shown

    return None if row is None else dict(shown(row))


def _step(step: Step) -> dict[str, Any]:
    return {
        "purpose": step.purpose,
        "sql": step.sql,
        "accepted": step.accepted,
        "sqlstate": step.sqlstate,
        "constraint": step.constraint,
        "column": step.column,
        "message": step.message,
        "context": step.context,
        "row": _row(step.row),
    }


def _probe(probe: Probe) -> dict[str, Any]:
    return {
        "name": probe.name,
        "status": probe.status.value,
        "expected": probe.expected,
        "observed": probe.observed,
        "reason": probe.reason,
        "sql": probe.probe_sql,
        "accepted_row": _row(probe.accepted_row),
        "race": probe.race,
        "steps": [_step(s) for s in probe.steps],
    }


def _proof(proof: Proof) -> dict[str, Any]:
    subject = proof.subject
    return {
        "id": subject.id,
        "statement": subject.statement,
        "kind": subject.kind,
        "source": subject.source,
        "table": subject.table,
        "object": subject.object,
        "status": proof.status.value,
        "evidence": proof.status.evidence,
        "reason": proof.reason,
        "probes": [_probe(p) for p in proof.probes],
    }


def render_json(proved: Proved) -> str:
    document = {
        "tool": {"name": "dbtruth", "version": __version__},
        "target": proved.target,
        "clone": {"description": proved.clone, "database": proved.clone_database},
        "server_version": proved.server_version,
        "summary": {s.value: proved.count(s) for s in _ORDER} | {"total": len(proved.proofs)},
        "invariants": [_proof(p) for p in proved.proofs],
        "notes": proved.notes,
    }
    if proved.data is not None:
        document["data"] = {
            "source": proved.data.source,
            "findings": [_data_finding(f) for f in proved.data.findings],
        }
    return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _data_finding(finding: DataFinding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "subject": finding.subject,
        "statement": finding.statement,
        "rows": finding.rows,
        "count": finding.count,
        "sample_keys": list(finding.sample),
        "sql": finding.query,
        "proposal": finding.proposal,
        "safe_form": finding.safe_form,
        "sampled": finding.sampled,
        "evidence": finding.evidence,
        "error": finding.error,
    }


# Kinds of data findings, in the order the terminal lists them, and their headings.
DATA_KINDS = (
    ("violation", "declared invariants, counted on the rows"),
    ("orphans", "references no foreign key keeps, with orphans"),
    ("overlaps", "effective periods of one timeline that overlap, no exclusion constraint"),
    ("reference", "latent foreign keys: every value exists in the table it refers to"),
    ("not null", "latent NOT NULL: no row holds NULL"),
    ("unique", "latent unique keys: no two rows share the value"),
    ("value set", "latent value sets: a handful of values, no CHECK"),
    ("non-overlap", "latent non-overlap: no two periods of one timeline overlap"),
)


def data_line(finding: DataFinding) -> str:
    """One finding in words: what holds or breaks, on how many rows, how it is known."""
    if finding.error:
        return f"{finding.subject}: not read ({finding.error})"
    how = f"; {finding.sampled}, a guess" if finding.sampled else ""
    if finding.kind == "violation":
        if not finding.count:
            return f"{finding.subject}: 0 rows break it ({finding.statement}){how}"
        keys = f"; first keys: {', '.join(finding.sample)}" if finding.sample else ""
        rows = f"{finding.count:,} {plural('row', finding.count)}"
        return f"{finding.subject}: {rows} {verb(finding.count, 'breaks', 'break')} it{keys}{how}"
    if finding.kind == "overlaps":
        keys = f"; e.g. timeline {', '.join(finding.sample)}" if finding.sample else ""
        pairs = f"{finding.count:,} {plural('pair', finding.count)} of rows"
        return f"{finding.subject}: {pairs} {verb(finding.count, 'overlaps', 'overlap')}{keys}{how}"
    if finding.kind == "orphans":
        keys = f"; e.g. {', '.join(finding.sample)}" if finding.sample else ""
        return (
            f"{finding.subject}: {finding.count:,} of {finding.rows:,} values point at no row "
            f"of {finding.statement.rsplit(' exists in ', 1)[-1]}{keys}{how}"
        )
    return f"{finding.statement} ({finding.rows:,} rows{how})"


# -- terminal ------------------------------------------------------------------------------


def _probe_lines(probe: Probe) -> list[tuple[str, str]]:
    lines = [(f"    {probe.name}: {probe.observed}", "")]
    if probe.reason:
        lines.append((f"      why not provable: {probe.reason}", "yellow"))
    if probe.status is not Status.PROVEN and probe.probe_sql:
        lines += [(f"      {line}", "dim") for line in code_lines(probe.probe_sql)]
    accepted = _row(probe.accepted_row)
    if accepted is not None:
        values = ", ".join(f"{k}={'NULL' if v is None else v}" for k, v in accepted.items())
        lines.append((f"      accepted row: {values}", "red"))
    return lines


def _proof_lines(proof: Proof) -> list[tuple[str, str]]:
    subject = proof.subject
    head = f"{proof.status.value:<13}{subject.id}"
    if subject.source == "dbtruth.yaml":
        head += f" — {subject.statement} (dbtruth.yaml)"
    lines = [(head, _STYLE[proof.status])]
    if proof.reason:
        lines.append((f"    why not provable: {proof.reason}", "yellow"))
    for probe in proof.probes:
        lines += _probe_lines(probe)
    return lines


def write_terminal(proved: Proved, stream: TextIO, *, color: bool | None) -> None:
    from rich.console import Console
    from rich.text import Text

    lines: list[tuple[str, str]] = [
        (f"dbtruth prove {proved.target}", "bold"),
        (f"probes ran on a throwaway copy: {proved.clone}", "dim"),
    ]
    lines += [(f"note: {note}", "dim") for note in proved.notes]
    lines.append(("", ""))
    for status in _ORDER:
        for proof in proved.proofs:
            if proof.status is status:
                lines += _proof_lines(proof)
    if proved.data is not None:
        lines += _data_lines(proved.data)
    lines.append(("", ""))
    worst = next((s for s in _ORDER if proved.count(s)), Status.PROVEN)
    lines.append((summary(proved), _STYLE[worst]))
    console = Console(file=stream, force_terminal=color, no_color=color is False,
                      highlight=False, soft_wrap=True, emoji=False, markup=False)  # fmt: skip
    if console.color_system is None:
        stream.write("".join(f"{visible(text, keep=chr(9))}\n" for text, _ in lines))
        return
    console.print(Text("\n").join(Text(visible(t, keep="\t"), style=s) for t, s in lines))


def _data_lines(data: DataReport) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = [("", ""), (f"the rows ({data.source}):", "bold")]
    for kind, heading in DATA_KINDS:
        found = [f for f in data.findings if f.kind == kind]
        if not found:
            continue
        lines.append((f"  {heading} ({len(found)})", "bold"))
        for finding in found:
            broken = finding.count > 0 or finding.error is not None
            lines.append((f"    {data_line(finding)}", "red" if broken else ""))
            if finding.proposal and not broken:  # the steps of its safe form: JSON, Markdown
                lines += [(f"      {line}", "dim") for line in code_lines(finding.proposal)]
    return lines
