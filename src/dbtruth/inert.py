"""Text copied from the input made inert for the output that shows it.

Catalog names, comments, dbtruth.yaml values, file names and server messages arrive in pull
requests and may be hostile: a quoted identifier can hold `<script>`, a backtick, a Markdown link
or an escape sequence that retitles the reader's terminal. Every renderer passes such text through
one of these functions where it copies it; JSON and SARIF keep it exact (they are data), only
escaping what a terminal would act on.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the Unicode line and paragraph separators (line breaks for some
# viewers, not for Markdown) and the bidirectional overrides and isolates that make text read
# differently from what it is ("Trojan Source"); and lone surrogates, which is how Python
# spells the undecodable bytes of a file name and which no UTF-8 output can encode.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NEWLINES = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]*")
_BACKTICKS = re.compile(r"`+")
# What CommonMark, GitHub and HTML-enabled viewers read as markup inside a line: backslash,
# code, emphasis, links and images, raw HTML and autolinks, entities, strikethrough, math.
# An underscore between two letters or digits never opens or closes emphasis, so names such
# as audit_log stay readable.
_MARKDOWN = re.compile(r"[\\`*\[\]<>&~$]|_(?![^\W_])|(?<![^\W_])_")
# Characters that start a block at the beginning of a line: heading, quote, list, setext
# underline, thematic break, ordered list ("1." / "1)").
_LINE_START = re.compile(r"[#>+\-=]|\d+(?=[.)])")


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep: str = "") -> str:
    """Control characters shown as escapes (ESC as `\\x1b`, newline as `\\n`, U+202E as
    `\\u202e`), except those in `keep` (newline and tab where the output means them)."""
    if not _CONTROL.search(text):
        return text
    if not keep:
        return _CONTROL.sub(_escape_char, text)
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape_char(m), text)


def one_line(text: str) -> str:
    """Line breaks (with the indentation around them) as single spaces, other controls
    visible: for a message that must stay on one line."""
    return visible(_NEWLINES.sub(" ", text).strip(), keep="\t")


def md_code(text: str) -> str:
    """A Markdown code span showing `text` literally, whatever it holds: the fence is longer
    than the longest run of backticks inside, and padded with a space where the text begins or
    ends with a backtick or a space (CommonMark strips one space on each side)."""
    text = visible(text)
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if not text.strip(" "):
        return f"{fence}{text or ' '}{fence}"
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _escaped(text: str) -> str:
    return _MARKDOWN.sub(lambda m: "\\" + m.group(), visible(text, keep="\t"))


def md_text(text: str) -> str:
    """Prose for Markdown: one line, with every character that could make markup, raw HTML
    or a link backslash-escaped, so the text reads as it was written (see md_line for the
    start of a line)."""
    return _escaped(_NEWLINES.sub(" ", text).strip())


def md_prose(text: str) -> str:
    """Text someone wrote in Markdown (an ADR, a sentence in dbtruth.yaml): its code spans
    stay code spans, everything else is escaped as md_text escapes it."""
    text = _NEWLINES.sub(" ", text).strip()
    pieces = []
    start = search = 0
    while (opening := _BACKTICKS.search(text, search)) is not None:
        # CommonMark: a code span closes at the next backtick run of the same length.
        width = len(opening.group())
        closing = next(
            (r for r in _BACKTICKS.finditer(text, opening.end()) if len(r.group()) == width), None
        )
        if closing is None:
            search = opening.end()  # no closer: these backticks are literal
            continue
        content = text[opening.end() : closing.start()]
        if len(content) > 1 and content[0] == content[-1] == " " and content.strip(" "):
            content = content[1:-1]
        pieces += [_escaped(text[start : opening.start()]), md_code(content)]
        start = search = closing.end()
    pieces.append(_escaped(text[start:]))
    return "".join(pieces)


def md_line(text: str) -> str:
    """Markdown inline text placed at the start of a line (a paragraph, a list item): a
    leading character that would open a heading, quote, list or rule is escaped."""
    start = _LINE_START.match(text)
    if start is None:
        return text
    end = start.end()
    return text[:end] + "\\" + text[end:] if start.group()[0].isdigit() else "\\" + text


def md_fence(text: str) -> str:
    """A fence for a code block holding `text`: longer than any backtick run inside it."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def code_lines(text: str) -> list[str]:
    """The lines of a code block, each with its controls visible (tabs kept)."""
    return [visible(line, keep="\t") for line in text.splitlines()]


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def json_text(document: str) -> str:
    """JSON text with the characters a terminal or viewer would act on (and lone surrogates,
    which UTF-8 cannot encode) written as \\u escapes. json.dumps already escapes C0; these only
    appear inside strings, where the escape decodes to the same character: the data is exact."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
