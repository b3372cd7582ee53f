"""The Jinja environment shared by every template.

LaTeX is full of braces and percent signs, so templates use ``((( expr )))`` for values,
``((* block *))`` for statements and ``((# comment #))`` for comments.  Filters:

* ``tex``    a SymPy expression (or anything with ``.latex()``) in the project's notation
* ``text``   the same in plain Unicode
* ``escape`` user text made safe for LaTeX (pylatexenc), e.g. a network's description
"""

from functools import lru_cache

import jinja2
from pylatexenc.latexencode import unicode_to_latex

from .. import printing


def _tex(value):
    return value.latex() if hasattr(value, "latex") else printing.latex(value)


def _text(value):
    return value.text() if hasattr(value, "text") else printing.text(value)


def _escape(value):
    return unicode_to_latex(str(value), non_ascii_only=False, unknown_char_warning=False)


@lru_cache(maxsize=None)
def environment():
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("symbackprop", "templates"),  # package data: checkout or wheel
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((#", comment_end_string="#))",
        line_statement_prefix=None, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False,
    )
    env.filters.update(tex=_tex, text=_text, escape=_escape)
    return env


def render_template(name, **context):
    return environment().get_template(name).render(**context)
