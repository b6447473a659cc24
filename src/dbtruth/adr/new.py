"""`dbtruth adr new "Title"`: the next numbered ADR, in the shape the folder already uses —
the playbook's (§15 Mini ADR), Nygard's as adr-tools writes it, or MADR 4 — with every section
`adr check` asks for, and a Confirmation section to fill.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from dbtruth.errors import DbtruthError
from dbtruth.sources.adrs import read_adrs

MAX_TITLE = 200

_PLAYBOOK = """# ADR {number}: {title}

## Status
Proposed, {today}.

## Context
What forces this decision: the truth, invariants, workload and failures involved.

## Decision
What we will do, precisely enough to check.

## Consequences
Positive:
- …

Negative:
- …

## Alternatives Considered
1. … : rejected because …
2. … : rejected because …

## Assumptions
- …

## Risks
- …

## Confirmation
<!-- What must hold while this decision stands; `dbtruth adr check` runs each:
- check: CODE [schema.object]     a dbtruth rule that must stay quiet
- invariant: ID                   an invariant of dbtruth.yaml that must be proven
- workload: NAME                  a workload query of dbtruth.yaml whose contract must hold -->

## Revisit Triggers
- … — watch: `SELECT count(*) FROM …` > 1000000
"""

_NYGARD = """# {number_plain}. {title}

Date: {today}

## Status

Proposed

## Context

What forces this decision.

## Decision

What we will do.

## Consequences

What becomes easier or more difficult, positive and negative.

## Alternatives Considered

- … : rejected because …
- … : rejected because …

## Confirmation

<!-- check: CODE [object] | invariant: ID | workload: NAME -->

## Revisit Triggers

- …
"""

_MADR = """---
status: proposed
date: {today}
---

# {title}

## Context and Problem Statement

What forces this decision.

## Considered Options

* The option chosen
* … (rejected: …)
* … (rejected: …)

## Decision Outcome

Chosen option: "…", because …

### Consequences

* Good, because …
* Bad, because …

### Confirmation

<!-- check: CODE [object] | invariant: ID | workload: NAME -->

## Revisit Triggers

* …
"""

_TEMPLATES = {"playbook": _PLAYBOOK, "nygard": _NYGARD, "madr": _MADR}


def slug(title: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return words[:60].rstrip("-") or "decision"


def folder_shape(folder: Path) -> str:
    """The shape most ADRs of the folder have (the playbook's when it is empty)."""
    adrs, _ = read_adrs(folder)
    shapes = [adr.shape for adr in adrs]
    return max(set(shapes), key=shapes.count) if shapes else "playbook"


def new_adr(folder: Path, title: str, shape: str | None = None) -> Path:
    """Write the next ADR in `folder` and return its path."""
    title = " ".join(title.split())
    if not title:
        raise DbtruthError("an ADR needs a title")
    if len(title) > MAX_TITLE:
        raise DbtruthError(f"the title is longer than {MAX_TITLE} characters")
    if "\n" in title or "#" in title[:1]:
        raise DbtruthError("a title is one line of text")
    folder.mkdir(parents=True, exist_ok=True)
    adrs, _ = read_adrs(folder)
    number = max((a.number for a in adrs if a.number is not None), default=0) + 1
    chosen = shape or folder_shape(folder)
    path = folder / f"{number:04d}-{slug(title)}.md"
    text = _TEMPLATES[chosen].format(number=f"{number:04d}", number_plain=number, title=title,
                                     today=date.today().isoformat())  # fmt: skip
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError as exc:
        raise DbtruthError(f"{path} exists already") from exc
    except OSError as exc:
        raise DbtruthError(f"cannot write {path}: {exc.strerror}") from exc
    return path
