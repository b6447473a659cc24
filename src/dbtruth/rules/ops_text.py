"""Words the operations rules share: a session's statement, a duration, a size."""

from __future__ import annotations

from dbtruth.model.ops import Session


def statement(session: Session) -> str:
    text = " ".join(session.query.split())
    if not text:
        return "(statement not visible to this role)"
    return text[:120] + ("…" if len(text) > 120 else "")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"


def size(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count:,.1f} TiB"
