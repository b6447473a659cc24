"""GitHub Actions workflow commands: one annotation per finding, which the runner attaches to the
file, line and column of a pull request's diff (`::warning file=…,line=…,col=…,title=…::…`);
a finding whose object was not found in a file becomes an annotation of the run.

Values are escaped as GitHub's toolkit escapes them: `%`, CR and LF in the message, and also
`:` and `,` in a property. The runner reads a line as a command only where it starts with `::`,
and every line here is a command dbtruth wrote, so a name holding `::`, a line break or a
literal `%0A` stays inside its own annotation and cannot start another command. Control
characters are shown as escapes first, since the log and the annotation show the text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbtruth.findings import Finding, Severity
from dbtruth.inert import one_line, visible
from dbtruth.report.plaintext import finding_lines

if TYPE_CHECKING:
    from dbtruth.report.context import ReportContext

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """A command's message as the runner decodes it back (`%` first, so `%0A` stays text)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: the message's escapes, and the `:` and `,` that end it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, properties: dict[str, str], message: str) -> str:
    """One workflow command line; empty properties are left out (the runner drops them)."""
    pairs = ",".join(
        f"{key}={escape_property(value)}" for key, value in properties.items() if value
    )
    head = f"{level} {pairs}" if pairs else level
    return f"::{head}::{escape_data(message)}"


def _message(finding: Finding) -> str:
    """The finding's sentence, then its object and fix; line breaks are the annotation's own
    (a name's line break stays one too, and is escaped as the toolkit escapes it)."""
    return visible("\n".join(finding_lines(finding)), keep="\n\t")


def annotation(finding: Finding) -> str:
    properties = {}
    if finding.location is not None:
        properties = {
            "file": visible(finding.location.file, keep="\n\r\t"),
            "line": str(finding.location.line),
            "col": str(finding.location.column),
        }
    properties["title"] = f"dbtruth {finding.code} {finding.name}"
    return command(_LEVEL[finding.severity], properties, _message(finding))


def render(ctx: ReportContext) -> str:
    lines = [annotation(finding) for finding in ctx.findings]
    # A statement that failed to load leaves the objects it creates unchecked: say so where the
    # pull request shows it, as an annotation of the run.
    lines += [
        command("warning", {"title": "dbtruth: not checked"}, visible(problem, keep="\n\t"))
        for problem in ctx.load_problems
    ]
    lines.append(f"dbtruth: {one_line(ctx.summary())}")
    return "\n".join(lines) + "\n"
