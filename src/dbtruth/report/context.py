"""What every renderer is given: the findings and the facts about the run that produced them."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbtruth.engine import Result
from dbtruth.findings import Finding, Severity
from dbtruth.spec import RuleSpec
from dbtruth.words import counted


@dataclass
class ReportContext:
    result: Result
    target: str
    source: str  # where the catalog came from, including which scratch server
    server_version: str
    rules: tuple[RuleSpec, ...]
    fail_on: Severity
    tables: int = 0
    load_problems: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    subject: str = "table"  # what `tables` counts: tables for check, statements for lint
    title: str = "dbtruth check"
    extra: dict[str, object] = field(default_factory=dict)  # command-specific JSON sections
    # Command-specific sections for people (terminal, Markdown): a title and its lines, shown
    # as preformatted text before the findings (workload's plans).
    blocks: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return self.result.findings

    def counts(self) -> dict[str, int]:
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for finding in self.findings:
            counts[finding.severity.label] += 1
        return counts

    def summary(self) -> str:
        counts = self.counts()
        parts = [
            f"{n} {label}{'s' if n != 1 and label != 'info' else ''}" for label, n in counts.items()
        ]
        text = (
            f"{counted(len(self.findings), 'finding')}: {', '.join(parts)} "
            f"— {counted(self.result.rules_run, 'rule')} over {counted(self.tables, self.subject)}"
        )
        if self.result.suppressed:
            text += f"; {len(self.result.suppressed)} suppressed"
        if self.result.baselined:
            text += f"; {self.result.baselined} in baseline"
        return text
