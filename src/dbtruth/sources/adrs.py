"""Architecture decision records in the manifest's ADR folder, read as they are written: the
playbook's mini ADR (§15), Nygard's (adr-tools) and MADR 4 (model/decisions.py says what each
looks like).

An ADR is a Markdown file: a `#` title, then `##` (or MADR's `###`) sections, matched
case-insensitively with the usual synonyms ("Consequences" records the trade-off, "Considered
Options" the alternatives). Two sections carry what dbtruth can run:

- **Confirmation**: items `check: CODE [object]`, `invariant: ID`, `workload: NAME`, each a
  thing that must hold while the decision stands;
- **Revisit Triggers**: an item may end with `watch: <SELECT …> > 1000` (in a code span), a
  threshold dbtruth reads on a live target.
"""

from __future__ import annotations

import re
from pathlib import Path

from dbtruth.inputs import UnreadableInput, read_bytes
from dbtruth.model.decisions import Adr, Confirmation, Watch

# Canonical part -> headings that hold it.
PARTS = {
    "status": ("status",),
    "context": ("context", "problem", "context and problem statement"),
    "decision": ("decision", "decision outcome"),
    "tradeoffs": ("consequences", "tradeoffs", "trade-offs", "tradeoff"),
    "alternatives": ("alternatives considered", "alternatives", "considered options", "options"),
    "assumptions": ("assumptions", "assumption"),
    "risks": ("risks", "risk"),
    "revisit": ("revisit triggers", "revisit trigger", "revisit", "review triggers"),
    "owner": ("owner", "owners", "deciders", "decision makers"),
    "confirmation": ("confirmation", "confirmations"),
}
# An ADR is a page or two; the review reads every one in the folder.
MAX_ADR_BYTES = 2**20
_HEADING = re.compile(r"^(#{1,3})\s+(.*?)\s*#*\s*$")
_NUMBER_IN_NAME = re.compile(r"^(\d{1,6})[-_. ]")
_NUMBER_IN_TITLE = re.compile(r"^(?:ADR[\s:-]*)?(\d{1,6})[\s:.-]+", re.IGNORECASE)
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_FRONT_STATUS = re.compile(r"^status:\s*[\"']?([^\"'\n]+)", re.MULTILINE)
_CONFIRMATION = re.compile(r"^(check|invariant|workload)\s*:\s*`?([\w.:-]+)`?(?:\s+(?:on\s+)?`?"
                           r"([\w.\"]+)`?)?", re.IGNORECASE)  # fmt: skip
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_WATCH = re.compile(r"watch:\s*`([^`]+)`\s*(>=|<=|>|<)\s*([\d_,.]+)", re.IGNORECASE)


def _blank(match: re.Match[str]) -> str:
    """An HTML comment (a template's guidance) as the empty lines it spanned: not an item,
    and the lines after it keep their numbers."""
    return "\n" * match.group().count("\n")


def _part_of(heading: str) -> str | None:
    wanted = heading.strip().lower().rstrip(":")
    for part, names in PARTS.items():
        if wanted in names:
            return part
    return None


def parse_adr(path: Path, text: str) -> Adr:
    title = path.stem
    parts: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    current: str | None = None
    front_status = None
    offset = 0
    front = _FRONT.match(text)
    if front:
        status = _FRONT_STATUS.search(front.group(1))
        front_status = status.group(1).strip() if status else None
        offset = front.group(0).count("\n")
        text = text[front.end() :]
    shape = "madr" if front else "playbook"
    titled = False
    for number, line in enumerate(text.splitlines(), start=1 + offset):
        match = _HEADING.match(line)
        if match and len(match.group(1)) == 1 and not titled:
            title, titled = match.group(2), True
            continue
        if match and len(match.group(1)) >= 2:
            current = _part_of(match.group(2))
            if current is not None:
                parts.setdefault(current, [])
                lines.setdefault(current, number)
            continue
        if titled and current is None and line.lower().startswith("date:"):
            shape = "nygard"  # adr-tools writes `Date: 2024-01-31` under the title
        if current is not None:
            parts[current].append(line)
    texts = {k: _COMMENT.sub(_blank, "\n".join(v)).rstrip() for k, v in parts.items()}
    number_match = _NUMBER_IN_NAME.match(path.name) or _NUMBER_IN_TITLE.match(title)
    clean_title = _NUMBER_IN_TITLE.sub("", title)
    clean_title = re.sub(r"^ADR\b[\s:-]*", "", clean_title, flags=re.IGNORECASE) or title
    return Adr(
        path, clean_title.strip(), texts,
        lines, int(number_match.group(1)) if number_match else None, shape, front_status,
    )  # fmt: skip


def read_adrs(folder: Path) -> tuple[tuple[Adr, ...], tuple[str, ...]]:
    """Every Markdown file in the folder, in name order (ADRs are numbered), and a line for
    each file that could not be read, which the review prints instead of failing."""
    if not folder.is_dir():
        return (), ()
    adrs, problems = [], []
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() in ("readme.md", "index.md", "template.md"):
            continue
        try:
            # never opened when it is a FIFO (reading one waits for a writer forever)
            text = read_bytes(path, MAX_ADR_BYTES, "an ADR").decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{path}: not UTF-8 text (byte {exc.start}); ADR skipped")
            continue
        except UnreadableInput as exc:
            problems.append(f"{path}: {exc.message}; ADR skipped")
            continue
        adrs.append(parse_adr(path, text))
    return tuple(adrs), tuple(problems)


def confirmations(adr: Adr) -> tuple[list[Confirmation], list[tuple[str, int]]]:
    """The ADR's confirmations, and the items of its Confirmation section dbtruth cannot run
    (prose, which stays declared), each with its line."""
    found, prose = [], []
    for text, line in adr.items_with_lines("confirmation"):
        match = _CONFIRMATION.match(text)
        if match is None:
            prose.append((text, line))
            continue
        kind, reference, scope = match.group(1).lower(), match.group(2), match.group(3)
        found.append(Confirmation(kind, reference, scope.replace('"', "") if scope else None,
                                  line, text))  # fmt: skip
    return found, prose


def watches(adr: Adr) -> list[Watch]:
    """The revisit triggers that carry a threshold dbtruth can read."""
    found = []
    for text, line in adr.items_with_lines("revisit"):
        match = _WATCH.search(text)
        if match is None:
            continue
        try:
            threshold = float(match.group(3).replace(",", "").replace("_", ""))
        except ValueError:
            continue
        trigger = text[: match.start()].rstrip(" —-:;,(")
        found.append(Watch(trigger or text, match.group(1), match.group(2), threshold, line))
    return found
