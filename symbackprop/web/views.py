"""HTML for the pages: the Jinja environment, the notes' Markdown as HTML, highlighted code.

Templates live in ``templates/`` with autoescaping on, so user text is always escaped; math
goes through ``mathml`` (safe by construction) and the filters ``math`` and ``display``.
"""

import functools
import re

from .mathml import display, mathml

FIGURE_URL = "/notes/figure/{key}/{kind}.svg"
_ANCHOR = re.compile(r"<p>&lt;a id=&quot;([a-z0-9-]+)&quot;&gt;&lt;/a&gt;</p>")


@functools.lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("symbackprop.web", "templates"),
                      autoescape=select_autoescape(["html", "j2", "svg"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["math"] = lambda latex: mathml(str(latex)) if latex else ""
    env.filters["display"] = lambda latex: display(str(latex)) if latex else ""
    return env


def render(template, **context):
    return environment().get_template(template).render(**context)


def highlight_python(text):
    """Python source as HTML with Pygments' classes (styled by /pygments.css)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return highlight(text, PythonLexer(), HtmlFormatter(cssclass="highlight", linenos="table"))


def pygments_css():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="friendly").get_style_defs(".highlight")


def notes_html(markdown, stem, key):
    """The notes' Markdown as HTML: math as MathML, figures served from the notes cache ``key``.

    Raw HTML in the Markdown is not passed through (``html=False``); only the notes' own
    section anchors (``<a id="sec-…"></a>``) are restored afterwards.
    """
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(dollarmath_plugin, renderer=lambda content, options: str(
        display(content) if options.get("display_mode") else mathml(content)))
    figure = re.compile(re.escape(stem) + r"\.([a-z]+)\.svg")

    def figures(state):
        for token in state.tokens:
            for child in token.children or []:
                if child.type == "image":
                    match = figure.fullmatch(child.attrGet("src") or "")
                    child.attrSet("src", FIGURE_URL.format(key=key, kind=match.group(1)) if match else "")
    md.core.ruler.push("figures", figures)
    return _ANCHOR.sub(r'<a id="\1"></a>', md.render(markdown))
