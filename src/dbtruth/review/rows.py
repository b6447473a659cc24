"""What the rows showed (`dbtruth review --data`), for section 4: the rows that break a
declared invariant, orphans and overlaps, then the latent invariants the rows keep without the
database promising them, each as the constraint that would.

Counts are observed (or guessed, where a large table was sampled or a reference was read from
values alone); keys are shown, never whole rows.
"""

from __future__ import annotations

from dbtruth.inert import md_code, md_prose
from dbtruth.prove.data import DataFinding
from dbtruth.review.facts import Facts
from dbtruth.review.model import Block, Paragraph, Table
from dbtruth.words import counted, plural

# Kinds of finding that report rows breaking something (the others propose a constraint).
_BROKEN = ("violation", "orphans", "overlaps")
# Proposals shown in the review at most; `dbtruth prove --data` lists them all.
_PROPOSALS_SHOWN = 20


def row_status(facts: Facts, invariant_id: str) -> str | None:
    """What the invariant's detective query counted, when the review read the rows."""
    found = facts.proofs.data.findings if facts.proofs.data else ()
    finding = next((f for f in found if f.kind == "violation" and f.subject == invariant_id), None)
    if finding is None:
        return None
    if finding.error:
        return f"the rows: its detective query failed ({md_prose(finding.error)})"
    if not finding.count:
        return "the rows: none break it (its detective query returned no row)"
    return f"the rows: **{finding.count} break it** (detective query; {_keys(finding)})"


def rows_blocks(facts: Facts) -> list[Block]:
    report = facts.proofs.data
    if report is None:
        return []
    broken = [f for f in report.findings if f.kind in _BROKEN and (f.count or f.error)]
    latent = [f for f in report.findings if f.proposal and not f.count and not f.error]
    checked = sum(1 for f in report.findings if f.kind == "violation")
    blocks: list[Block] = [
        Paragraph(
            f"Rows read ({md_prose(report.source)}): {checked} detective "
            f"{plural('query', checked)} run, {counted(len(broken), 'finding')} of rows "
            f"that break an invariant or could not be read, "
            f"{counted(len(latent), 'latent invariant')} every row already keeps."
        )
    ]
    if broken:
        blocks.append(
            Table(
                ("What", "Subject", "Statement", "Rows", "Keys", "Evidence"),
                tuple(_broken_row(f) for f in broken),
                "Rows that break an invariant",
            )
        )
    if latent:
        shown = latent[:_PROPOSALS_SHOWN]
        blocks.append(
            Table(
                ("Kind", "Subject", "Every row keeps", "Constraint", "Evidence"),
                tuple(
                    (
                        f.kind,
                        md_code(f.subject),
                        md_prose(f.statement),
                        md_code(f.proposal or ""),
                        f.evidence + (f" ({md_prose(f.sampled)})" if f.sampled else ""),
                    )
                    for f in shown
                ),
                # A caption is plain text in both renderings: no Markdown in it.
                "Latent invariants: proposed constraints (their migration-safe forms: "
                "dbtruth prove --data)",
            )
        )
        if len(latent) > len(shown):
            blocks.append(
                Paragraph(
                    f"{counted(len(latent) - len(shown), 'more latent invariant')}: `dbtruth prove "
                    "--data` lists every one with its migration-safe form."
                )
            )
    return blocks


def _broken_row(finding: DataFinding) -> tuple[str, ...]:
    if finding.error:
        rows = "could not be read"
    elif finding.kind == "violation":  # a detective query returns the breaking rows alone
        rows = str(finding.count)
    else:
        rows = f"{finding.count} of {finding.rows}"
    return (
        finding.kind,
        md_code(finding.subject),
        md_prose(finding.error or finding.statement),
        rows,
        _keys(finding) if finding.sample else "—",
        finding.evidence,
    )


def _keys(finding: DataFinding) -> str:
    return "keys " + ", ".join(md_code(k) for k in finding.sample)
