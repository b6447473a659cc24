"""The review as one self-contained HTML file: inline CSS and SVG, no script or font from the
network, so it opens offline and prints on paper. Jinja2 autoescapes every value; the review
model's inline Markdown (code spans, **bold**, *italic*, with what it copied from the input
already escaped) is rendered by a CommonMark parser with raw HTML turned off, so the backslash
escapes and long code-span fences read as they do on a code host.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from dbtruth.inert import visible
from dbtruth.report.erd_svg import drawn_edges, hubs_of, render_group
from dbtruth.report.grouping import group_findings, objects_phrase
from dbtruth.review.model import (
    ANSWER_LEGEND,
    Answer,
    Bullets,
    Code,
    Diagram,
    Paragraph,
    Review,
    Status,
    Table,
)


@lru_cache(maxsize=1)
@cache
def _parser() -> Any:
    """One parser for the whole review, imported only when HTML is written. Inline rules only
    matter here; raw HTML off, so any tag in the text is shown as text."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


def inline(text: str) -> Markup:
    return Markup(_parser().renderInline(text))  # markdown-it escaped the text itself


def _visible(value: object) -> object:
    """Every value the template prints, with control characters (and the lone surrogates of
    undecodable file names) shown as escapes; markup stays markup."""
    if isinstance(value, Markup):
        return Markup(visible(value))  # escapes replace characters, never tags
    return visible(value) if isinstance(value, str) else value


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("dbtruth.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_visible,
    )
    env.filters["inline"] = inline
    # One design decision repeated reads as one article: its objects listed, the fix once.
    env.filters["grouped"] = group_findings
    env.filters["objects_phrase"] = objects_phrase
    env.globals.update(
        Paragraph=Paragraph,
        Table=Table,
        Bullets=Bullets,
        Code=Code,
        Diagram=Diagram,
        Answer=Answer,
        answer_legend=ANSWER_LEGEND,
        Status=Status,
        isinstance=isinstance,
        svg_of=lambda group: [Markup(svg) for svg in render_group(group)],
        hubs_of=hubs_of,
        drawn_edges=drawn_edges,
    )
    return env


def render(review: Review) -> str:
    template = _environment().get_template("review.html.j2")
    return template.render(review=review)
