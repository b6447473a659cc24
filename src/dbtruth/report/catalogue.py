"""`dbtruth rules` and `dbtruth rule CODE` as text."""

from __future__ import annotations

from dbtruth.catalogue import RuleEntry


def rule_line(rule: RuleEntry) -> str:
    live = " (live only)" if rule.live_only else ""
    return f"{rule.code}  {rule.name:<44} {rule.severity:<8} {rule.family}{live}"


def rule_page(rule: RuleEntry) -> str:
    live = "; live targets only" if rule.live_only else ""
    facts = f"severity: {rule.severity}; family: {rule.family}{live}"
    return f"# {rule.code} {rule.name}\n\n{facts}\n\n{rule.doc}"
