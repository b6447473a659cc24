"""The review as one self-contained HTML file: inline CSS and SVG, no script or font from the
network, so it opens offline and prints on paper. Jinja2 autoescapes every value; the only
markup added to text is `code` and **bold** from the review's inline conventions.
"""

from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from dbtruth.report.erd_svg import drawn_edges, hubs_of, render_group
from dbtruth.review.model import (
    Answer,
    Bullets,
    Code,
    Diagram,
    Paragraph,
    Review,
    Status,
    Table,
)

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*([^*]+)\*(?![\w*])")


def inline(text: str) -> Markup:
    html = str(escape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(r"<em>\1</em>", html)
    return Markup(html)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("dbtruth.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["inline"] = inline
    env.globals.update(
        Paragraph=Paragraph,
        Table=Table,
        Bullets=Bullets,
        Code=Code,
        Diagram=Diagram,
        Answer=Answer,
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
