"""The Jinja environment shared by every template.

LaTeX is full of braces and percent signs, so templates use ``((( expr )))`` for values,
``((* block *))`` for statements and ``((# comment #))`` for comments.  Filters:

* ``tex``    a SymPy expression (or anything with ``.latex()``) in the project's notation
* ``text``   the same in plain Unicode
* ``escape`` user text made safe for LaTeX (pylatexenc), e.g. a network's description
"""

import re
from functools import lru_cache

import jinja2
from pylatexenc.latexencode import (RULE_DICT, UnicodeToLatexConversionRule, UnicodeToLatexEncoder,
                                    get_builtin_conversion_rules)

from .. import printing


def _tex(value):
    return value.latex() if hasattr(value, "latex") else printing.latex(value)


def _text(value):
    return value.text() if hasattr(value, "text") else printing.text(value)


# characters of the registries' prose that pylatexenc does not know (aᴸ, yⱼ) or leaves to the font (|)
_SCRIPTS = {"ᴸ": r"\ensuremath{^L}", "ˡ": r"\ensuremath{^l}", "ᵀ": r"\ensuremath{^T}", "ⱼ": r"\ensuremath{_j}",
            "ₖ": r"\ensuremath{_k}", "ₗ": r"\ensuremath{_l}", "′": "'",
            "|": r"\ensuremath{|}"}  # OT1 fonts print a bare | as a dash


@lru_cache(maxsize=None)
def _encoder():
    rules = [UnicodeToLatexConversionRule(RULE_DICT, {ord(c): latex for c, latex in _SCRIPTS.items()})]
    return UnicodeToLatexEncoder(conversion_rules=rules + get_builtin_conversion_rules("defaults"),
                                 non_ascii_only=False, unknown_char_warning=False)


_POWER = re.compile(r"\^\(([^()]*)\)|\^([A-Za-z0-9]+)")  # e^(-z), e^z in prose: a real superscript


def _escape(value):
    text, out, last = str(value), [], 0
    encode = _encoder().unicode_to_latex
    for m in _POWER.finditer(text):
        out += [encode(text[last:m.start()]), r"\ensuremath{^{" + encode(m.group(1) or m.group(2)) + "}}"]
        last = m.end()
    return "".join(out + [encode(text[last:])])


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
