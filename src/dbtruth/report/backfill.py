"""`dbtruth backfill`'s reports: the plan, a run's outcome, a backfill's status."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from dbtruth import __version__
from dbtruth.inert import code_lines, json_text, md_fence, md_text, visible
from dbtruth.words import counted, plural, verb

if TYPE_CHECKING:
    from dbtruth.backfill.checkpoint import Checkpoint, ChunkTotals
    from dbtruth.backfill.results import BackfillPlan, BackfillRun, BackfillStatus, Validation


def render(result: BackfillPlan | BackfillRun | BackfillStatus, fmt: str) -> str:
    if fmt == "json":
        document = {"tool": {"name": "dbtruth", "version": __version__},
                    **dataclasses.asdict(result)}  # fmt: skip
        if hasattr(result, "state"):
            document["state"] = result.state
        text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
        return json_text(text) + "\n"
    if fmt == "markdown":
        return _markdown(result)
    lines, code = _lines(result)
    for title, block in code:
        lines += ["", f"{title}:", *(f"  {line}" for line in block)]
    return "".join(f"{visible(line)}\n" for line in lines)


def _markdown(result: BackfillPlan | BackfillRun | BackfillStatus) -> str:
    """Markdown: the plan's steps as a table, every other line a list item (so that no line
    runs into the next), code blocks fenced."""
    from dbtruth.backfill.results import BackfillPlan

    out = [f"# dbtruth backfill {md_text(result.name)}", ""]
    lines, code = _lines(result)
    if isinstance(result, BackfillPlan):
        out += [md_text(lines[0]), "", "| step | value | how known |", "|---|---|---|"]
        out += [f"| {md_text(s.label)} | {md_text(s.value)} | {s.evidence} |"
                for s in result.steps]  # fmt: skip
        lines = lines[2 + len(result.steps) :]
        out.append("")
    out += [f"- {md_text(line.strip())}" for line in lines if line.strip()]
    for title, block in code:
        text = "\n".join(code_lines("\n".join(block)))
        fence = md_fence(text)
        out += ["", f"**{md_text(title)}**", "", f"{fence}sql" if "runs" in title else fence,
                text, fence]  # fmt: skip
    return "\n".join(out) + "\n"


def _lines(result: Any) -> tuple[list[str], list[tuple[str, list[str]]]]:
    from dbtruth.backfill.results import BackfillPlan, BackfillRun

    if isinstance(result, BackfillPlan):
        return _plan(result)
    if isinstance(result, BackfillRun):
        return _run(result), []
    return _status(result), []


def _plan(plan: BackfillPlan) -> tuple[list[str], list[tuple[str, list[str]]]]:
    lines = [f"backfill {plan.name}: plan for {plan.table} on {plan.target} ({plan.statement_kind} "
             "per chunk; nothing was run)", ""]  # fmt: skip
    width = max((len(s.label) for s in plan.steps), default=0)
    lines += [f"{s.label.ljust(width)}  {s.value}  [{s.evidence}]" for s in plan.steps]
    if plan.signals:
        lines += ["", "health now (a run backs off while one is over its limit):"]
        for s in plan.signals:
            state = f"unknown: {s.unknown}" if s.unknown else ("OVER" if s.over else "ok")
            lines.append(f"  {s.name}: {s.value} (limit {s.limit}) — {state}")
    if plan.validation is not None:
        lines += ["", *_validation(plan.validation, "rows still to do")]
    if plan.checkpoint is not None:
        lines += ["", _checkpoint_line(plan.checkpoint)]
    if plan.problems:
        lines += ["", *(f"problem: {p}" for p in plan.problems)]
    lines += [f"note: {n}" for n in plan.notes]
    code = []
    if plan.first_chunk:
        code.append(("the first chunk runs", plan.first_chunk.splitlines()))
    if plan.chunk_plan:
        code.append(("its plan (EXPLAIN, not run)", plan.chunk_plan))
    if plan.boundary_plan:
        code.append(("each chunk's end is found by", plan.boundary_plan))
    return lines, code


def _validation(v: Validation, what: str) -> list[str]:
    if v.error:
        return [f"validation query failed: {v.error}"]
    if v.rows == 0:
        return ["validation: passes (the query returns no row)"]
    more = "+" if v.rows is not None and v.rows >= 1_000_000 else ""
    count = v.rows or 0
    if count == 1:  # "1 row still needs work", "1 row still to do"
        what = what.replace("rows", "row", 1).replace(" need ", " needs ", 1)
    lines = [f"validation: {count:,}{more} {what}"]
    lines += [f"  e.g. {row}" for row in v.sample]
    return lines


def _checkpoint_line(c: Checkpoint) -> str:
    return (f"checkpoint: {c.status}, {c.chunks:,} {plural('chunk', c.chunks)}, "
            f"{c.rows_visited:,} rows visited, {c.rows_changed:,} changed, "
            f"since {c.started_at:%Y-%m-%d %H:%M:%S %Z}")  # fmt: skip


def _waits(w: ChunkTotals | None) -> list[str]:
    if w is None:
        return []
    if not w.chunks_waited_on:
        return ["lock waits: no session waited on a chunk (sampled every 50 ms)"]
    return [f"lock waits: sessions waited on {w.chunks_waited_on:,} "
            f"{plural('chunk', w.chunks_waited_on)}, up to {w.sessions_waiting} at once, "
            f"the longest {w.longest_wait * 1000:,.0f} ms "
            "(sampled every 50 ms)"]  # fmt: skip


def _run(run: BackfillRun) -> list[str]:
    lines = [f"backfill {run.name} on {run.table} ({run.target}): {run.status}"
             + (f" — {run.reason}" if run.reason else "")]  # fmt: skip
    lines += [f"note: {n}" for n in run.notes]
    if run.chunks_before:
        lines.append(f"resumed after chunk {run.chunks_before:,}")
    rate = f"{run.rows_per_second:,.0f} rows/s"
    if run.rate_limit:
        rate += f" (limit {run.rate_limit:,.0f})"
    lines.append(f"this run: {run.chunks:,} {plural('chunk', run.chunks)}, "
                 f"{run.rows_visited:,} rows visited, {run.rows_changed:,} changed, "
                 f"{run.seconds:,.1f} s, {rate}")  # fmt: skip
    if run.chunk_rows:
        lines.append(f"chunk size at the end: {run.chunk_rows:,} rows")
    if run.waits is not None and run.waits.seconds:
        lines.append(f"WAL written while chunks ran (server-wide): {_mb(run.waits.wal_bytes)}")
    lines += _waits(run.waits)
    decisions = [e for e in run.events if e.kind in ("back-off", "retry", "smaller")]
    if decisions:
        lines.append(f"{counted(len(decisions), 'decision')} this run:")
        lines += [f"  {e.at:%H:%M:%S} {e.kind}: {e.detail}" for e in decisions[-20:]]
    if run.beyond:
        lines.append(
            f"{run.beyond:,} {plural('row', run.beyond)} {verb(run.beyond, 'lies', 'lie')} past "
            "the key range the backfill walked: written after it started; the application "
            "must write them in the new shape"
        )
    if run.validation is not None:
        lines += _validation(run.validation, "rows still need work")
        if not run.validation.passes and run.status == "done":
            lines.append(
                "  rows written during the run behind its position (a key that is not "
                "monotonic, such as a random uuid) are not visited; if the statement skips "
                "rows already done, `run --restart` walks the table again"
            )
    elif run.status == "done":
        lines.append(
            "validation: none declared — every chunk ran; whether the work is right is not checked"
        )
    return lines


def _mb(value: int) -> str:
    return f"{value / 1048576:,.1f} MB"


def _status(status: BackfillStatus) -> list[str]:
    lines = [f"backfill {status.name} on {status.target}: {status.state}"]
    lines += [f"note: {n}" for n in status.notes]
    c = status.checkpoint
    if c is None:
        lines.append("no checkpoint: `dbtruth backfill run` starts it")
        return lines
    if c.reason:
        lines.append(f"reason: {c.reason}")
    if status.running_pid is not None:
        lines.append(f"run by session pid {status.running_pid}")
    lines.append(_checkpoint_line(c))
    if c.last_key is not None and c.high_key is not None:
        lines.append(f"position: after ({', '.join(c.last_key)}) of ({', '.join(c.high_key)})")
    if c.rows_estimate and c.rows_estimate > 0 and c.rows_visited <= c.rows_estimate:
        share = c.rows_visited / c.rows_estimate
        lines.append(f"done: about {share:.0%} of {c.rows_estimate:,.0f} estimated rows")
    elif c.rows_estimate and c.rows_estimate > 0:
        lines.append(f"done: {c.rows_visited:,} rows, past the planner's estimate of "
                     f"{c.rows_estimate:,.0f} (a stale estimate)")  # fmt: skip
    if status.last_commit_seconds is not None:
        lines.append(f"last chunk committed {status.last_commit_seconds:,.0f} s ago")
    if status.recent_rate:
        lines.append(f"rate over the last chunks: {status.recent_rate:,.0f} rows/s")
    if status.eta_seconds is not None:
        lines.append(f"ETA: about {status.eta_seconds:,.0f} s")
    lines += _waits(status.totals)
    if status.back_offs:
        lines.append(
            "decisions so far: " + ", ".join(f"{k} {v}" for k, v in status.back_offs.items())
        )
    if status.events:
        lines.append("latest events:")
        lines += [f"  {e.at:%Y-%m-%d %H:%M:%S} {e.kind}: {e.detail}" for e in status.events]
    if status.validation is not None:
        lines += _validation(status.validation, "rows still need work")
    return lines
