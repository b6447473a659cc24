"""JUnit XML, which CI servers show as test results: one test suite per rule that ran, one test
case per rule and object. A warning or an error is a failure of its test case; an info finding
passes, its message kept as the case's output. A rule that ran and found nothing is one passing
case, so the report shows every rule that was checked. Statements that could not be loaded
are errors of their own suite: the objects they create were not checked.

The document follows the JUnit schema Jenkins validates reports against (no `file` or `line`
attribute on a test case: the place is the first line of the failure's text). Text from the
input has its control characters shown as escapes (XML 1.0 cannot carry most of them, even as
character references) and is escaped as XML, so a name cannot close an element or open one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dbtruth.findings import Finding, Severity
from dbtruth.inert import one_line, visible
from dbtruth.report.plaintext import finding_lines

if TYPE_CHECKING:
    from dbtruth.report.context import ReportContext

_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\t": "&#9;"}
)
# What XML 1.0 forbids that inert.visible leaves: the two non-characters of the basic plane.
_NOT_XML = re.compile("[\ufffe\uffff]")
CLEAN_CASE = "no findings"


def _plain(text: str, keep: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", visible(text, keep=keep))


def text(value: str) -> str:
    """Element content: line breaks and tabs kept, every other control shown as an escape."""
    return _plain(value, "\n\t").translate(_TEXT)


def attribute(value: str) -> str:
    """An attribute value (between double quotes), on one line."""
    return _plain(one_line(value), "\t").translate(_ATTRIBUTE)


def _details(finding: Finding) -> str:
    where = finding.location
    lines = [f"{where.file}:{where.line}:{where.column}"] if where else []
    return "\n".join(lines + finding_lines(finding))


def _fails(findings: list[Finding]) -> bool:
    return any(f.severity >= Severity.WARNING for f in findings)


def _case(classname: str, name: str, findings: list[Finding]) -> list[str]:
    head = f'    <testcase classname="{attribute(classname)}" name="{attribute(name)}"'
    failing = [f for f in findings if f.severity >= Severity.WARNING]
    passing = [f for f in findings if f.severity < Severity.WARNING]
    if not findings:
        return [f"{head}/>"]
    lines = [f"{head}>"]
    lines += [
        f'      <failure type="{f.severity.label}" message="{attribute(f.message)}">'
        f"{text(_details(f))}</failure>"
        for f in failing
    ]
    if passing:
        output = "\n\n".join(f"{f.severity.label}: {_details(f)}" for f in passing)
        lines.append(f"      <system-out>{text(output)}</system-out>")
    return [*lines, "    </testcase>"]


def _suite(name: str, cases: list[list[str]], failures: int, errors: int = 0) -> list[str]:
    return [
        f'  <testsuite name="{attribute(name)}" tests="{len(cases)}" failures="{failures}" '
        f'errors="{errors}" skipped="0">',
        *[line for case in cases for line in case],
        "  </testsuite>",
    ]


def render(ctx: ReportContext) -> str:
    by_rule: dict[str, dict[tuple[str, str], list[Finding]]] = {}
    for finding in ctx.findings:
        key = (finding.object.kind, finding.object.path)
        by_rule.setdefault(finding.code, {}).setdefault(key, []).append(finding)
    names = {spec.code: spec.name for spec in ctx.rules}
    names.update((f.code, f.name) for f in ctx.findings)
    # Rules in the order dbtruth lists them; a rule with findings is shown even if the run
    # did not list it as run.
    order = [code for code in names if code in ctx.result.ran or code in by_rule]
    suites: list[str] = []
    tests = failures = 0
    for code in order:
        suite_name = f"{code} {names[code]}"
        objects = by_rule.get(code, {})
        cases = [_case(suite_name, path, found) for (_, path), found in objects.items()]
        failed = sum(_fails(found) for found in objects.values())
        if not cases:
            cases = [_case(suite_name, CLEAN_CASE, [])]
        suites += _suite(suite_name, cases, failed)
        tests += len(cases)
        failures += failed
    errors = len(ctx.load_problems)
    if errors:
        cases = [
            [
                f'    <testcase classname="dbtruth load" name="{attribute(problem)}">',
                f'      <error type="load" message="{attribute(problem)}">{text(problem)}</error>',
                "    </testcase>",
            ]
            for problem in ctx.load_problems
        ]
        suites += _suite("dbtruth load", cases, 0, errors)
        tests += errors
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="{attribute(ctx.title)}" tests="{tests}" failures="{failures}" '
        f'errors="{errors}">',
    ]
    return "\n".join([*head, *suites, "</testsuites>"]) + "\n"
