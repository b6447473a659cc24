"""Architecture decision records in the manifest's ADR folder (playbook §15's mini ADR).

An ADR is a Markdown file: a `#` title, then `##` sections. The review reads the sections the
playbook's checklist 6.10 asks about; headings are matched case-insensitively, with the usual
synonyms ("Consequences" records the trade-off, "Alternatives" the alternatives considered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dbtruth.inputs import UnreadableInput, read_bytes

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
}
# An ADR is a page or two; the review reads every one in the folder.
MAX_ADR_BYTES = 2**20
_HEADING = re.compile(r"^(#{1,3})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class Adr:
    path: Path
    title: str
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        text = self.parts.get("status", "").strip()
        return text.splitlines()[0].strip() if text else "unknown"

    def has(self, part: str) -> bool:
        return bool(self.parts.get(part, "").strip())

    def items(self, part: str) -> list[str]:
        """A section's list items and paragraphs, in order, each whole: a list item goes on
        over its continuation lines (indented, or lazily not) until a blank line or the next
        item, so an item wrapped in the file is not cut at its first line."""
        items: list[str] = []
        current: list[str] | None = None  # the item or paragraph being read
        for line in self.parts.get(part, "").splitlines():
            bullet = _BULLET.match(line)
            if bullet:
                current = [line[bullet.end() :].strip()]
                items.append("")
            elif not line.strip():
                current = None
                continue
            elif current is None:
                current = [line.strip()]
                items.append("")
            else:
                current.append(line.strip())
            items[-1] = " ".join(" ".join(current).split())
        return [item for item in items if item]


def _part_of(heading: str) -> str | None:
    wanted = heading.strip().lower().rstrip(":")
    for part, names in PARTS.items():
        if wanted in names:
            return part
    return None


def parse_adr(path: Path, text: str) -> Adr:
    title = path.stem
    parts: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match and len(match.group(1)) == 1 and title == path.stem:
            title = re.sub(r"^ADR[\s:-]*(\d+[\s:.-]*)?", "", match.group(2), flags=re.I) or title
            continue
        if match and len(match.group(1)) >= 2:
            current = _part_of(match.group(2))
            if current is not None:
                parts.setdefault(current, [])
            continue
        if current is not None:
            parts[current].append(line)
    return Adr(path, title.strip(), {k: "\n".join(v).strip() for k, v in parts.items()})


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
