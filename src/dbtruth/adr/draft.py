"""`dbtruth adr draft --from-finding CODE:object TARGET`: an ADR drawn from one finding.

A finding worth a decision (dropping a cascade, changing a key type, accepting a risk) deserves
the record the playbook asks for, and the finding already holds most of it. The ADR is written
in the playbook's shape, status Proposed:

- Context: the finding as `check` observed it on TARGET (its message, evidence and place), and
  why the rule matters (its docs).
- Decision: the rule's first fix, with its SQL and what running it risks (lock, behaviour,
  data), for people to confirm or replace.
- Alternatives: the rule's other fixes, its "Use instead" advice, and accepting the finding (a
  suppression with a reason in dbtruth.yaml), so that "do nothing" is weighed too.
- Confirmation: `check: CODE object`, so that `adr check` shows whether the schema follows the
  decision; revisit when the finding comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dbtruth.adr.new import new_adr
from dbtruth.check import CheckOptions, check_target
from dbtruth.engine import find_spec
from dbtruth.errors import DbtruthError
from dbtruth.findings import Finding, Fix
from dbtruth.reading import TargetOptions
from dbtruth.spec import RuleSpec


@dataclass(frozen=True, slots=True)
class FindingRef:
    """`CODE:object` as given: a catalog rule (code or name) and the object path it names."""

    rule: RuleSpec
    object: str

    @classmethod
    def parse(cls, text: str) -> FindingRef:
        code, sep, obj = text.partition(":")
        code, obj = code.strip(), obj.strip()
        if not sep or not code or not obj:
            raise DbtruthError(
                f"--from-finding {text!r}: give CODE:object, e.g. I003:public.orders.customer_id"
            )
        spec = find_spec(code)
        if spec is None:
            raise DbtruthError(f"--from-finding: no dbtruth rule {code!r}")
        if spec.kind != "catalog":
            raise DbtruthError(
                f"--from-finding: {spec.code} is a {spec.kind} rule; a draft is drawn from a "
                "finding of `dbtruth check` (a catalog rule)"
            )
        return cls(spec, obj)


def matching(findings: list[Finding], ref: FindingRef) -> list[Finding]:
    """The findings of the rule on the object: its exact path, or the relation it names."""
    own = [f for f in findings if f.code == ref.rule.code]
    exact = [f for f in own if f.object.path == ref.object]
    return exact or [f for f in own if f.object.relation == ref.object]


def draft_from_finding(
    ref: FindingRef, target: TargetOptions, manifest: Path | None, allow_outside: bool,
    folder: Path, title: str | None,
) -> Path:  # fmt: skip
    """Check TARGET with the rule, find the finding, and write the ADR; its path."""
    checked = check_target(
        CheckOptions(target=target, manifest=manifest, allow_outside_paths=allow_outside,
                     select=(ref.rule.code,))
    )  # fmt: skip
    found = matching(checked.result.findings, ref)
    if not found:
        others = sorted({f.object.path for f in checked.result.findings if f.code == ref.rule.code})
        seen = (
            f"; it reports {', '.join(others[:8])}{' …' if len(others) > 8 else ''}"
            if others
            else "; it reports nothing there"
        )
        raise DbtruthError(
            f"--from-finding: {ref.rule.code} {ref.rule.name} reports nothing on {ref.object} "
            f"in {checked.label}{seen}"
        )
    heading = title or f"{ref.rule.name.replace('-', ' ').capitalize()} on {ref.object}"
    path = new_adr(folder, heading, "playbook")
    number = int(path.name.split("-", 1)[0])
    path.write_text(draft_text(ref, found, checked.label, number, heading), encoding="utf-8")
    return path


def draft_text(ref: FindingRef, found: list[Finding], where: str, number: int,
               title: str) -> str:  # fmt: skip
    rule = ref.rule
    first = found[0]
    fixes = _fixes(found)
    lines = [f"# ADR {number:04d}: {title}", "", "## Status",
             f"Proposed, {date.today().isoformat()}", "", "## Context"]  # fmt: skip
    severity = first.severity.name.lower()
    lines.append(f"Drafted by `dbtruth adr draft` from {rule.code} {rule.name}, which "
                 f"`dbtruth check` observed on {where} ({severity}):")  # fmt: skip
    for finding in found:
        place = f" ({finding.location.file}:{finding.location.line})" if finding.location else ""
        lines.append(f"- {finding.object.path}{place}: {finding.message}")
        lines += [f"  - {name}: {value}" for name, value in finding.violation.evidence]
    why = rule.section("Why is this bad?")
    if why:
        lines += ["", "Why it matters:", "", _quote(why)]
    lines += ["", "## Decision"]
    if fixes:
        lines += [f"Proposed: {fixes[0].description}", *_fix_body(fixes[0])]
    else:
        lines.append(f"Proposed: change the schema so that {rule.code} no longer applies to "
                     f"{ref.object} (the rule suggests no SQL for it).")  # fmt: skip
    lines += ["", "## Consequences", "Positive:",
              f"- {rule.code} {rule.name} goes quiet on {ref.object}; the Confirmation below "
              "checks that it stays so.", "", "Negative:"]  # fmt: skip
    risks = [f"- the fix risks: {', '.join(fixes[0].risks)}"] if fixes and fixes[0].risks else []
    lines += risks or ["- none the rule names; write those the team knows of"]
    lines += ["", "## Alternatives Considered"]
    alternatives = [f"{f.description} ({f.label})" for f in fixes[1:]]
    alternatives += [
        "Defer: record the finding in the baseline (`dbtruth check --write-baseline`) as "
        "known debt, so that only new findings fail CI, and revisit on the triggers below",
        f"Accept: keep {ref.object} as it is and suppress {rule.code} for it in dbtruth.yaml "
        "with the reason the Context's risk is acceptable",
    ]
    lines += [f"{n}. {text}" for n, text in enumerate(alternatives, start=1)]
    lines += ["", "## Assumptions", "- The Context still describes the schema when this is "
              "decided (re-run `dbtruth check` first).", "", "## Risks",
              *(f"- {r}" for r in (fixes[0].risks if fixes else ())), "- …", "",
              "## Confirmation", f"- check: {rule.code} {ref.object}", "",
              "## Revisit Triggers",
              f"- `dbtruth adr check` shows {rule.code} on {ref.object} again (the "
              "confirmation fails): a migration undid the decision."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _fixes(found: list[Finding]) -> list[Fix]:
    """The distinct fixes of the findings, in order."""
    fixes: dict[tuple[str, str | None], Fix] = {}
    for finding in found:
        fix = finding.violation.fix
        if fix is not None:
            fixes.setdefault((fix.description, fix.sql), fix)
    return list(fixes.values())


def _fix_body(fix: Fix) -> list[str]:
    body = [f"Label: {fix.label}."]
    if fix.sql:
        body += ["", "```sql", fix.sql.strip(), "```"]
    if fix.note:
        body += ["", fix.note]
    return body


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
