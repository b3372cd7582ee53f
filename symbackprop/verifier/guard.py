r"""What is not a formula is turned away before the grammar sees it, with the column of the problem.

A lexical pre-scan: length, TeX commands that are not math (``\input``, ``\def``), program code,
unknown commands, characters that are not LaTeX, bracket nesting.  The messages say what to
write instead; none of them ever names a grammar token.
"""

import re

from ..errors import FormulaError

MAX_LENGTH = 2000
MAX_NESTING = 40

KNOWN_COMMANDS = {
    "frac", "dfrac", "tfrac", "partial", "tanh", "limits", "nolimits", "sigma", "delta", "nabla", "sum", "exp", "ln",
    "log", "cdot", "times", "odot", "circ", "prime", "ell", "top", "intercal", "left", "right", "big", "Big", "bigg",
    "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "displaystyle", "textstyle", "quad", "qquad",
}
NOT_MATH = {
    "input", "include", "includeonly", "def", "edef", "gdef", "xdef", "let", "write", "immediate",
    "openout", "openin", "read", "newcommand", "renewcommand", "providecommand", "newenvironment",
    "renewenvironment", "catcode", "csname", "endcsname", "expandafter", "usepackage", "documentclass",
    "begin", "end", "special", "directlua", "write18", "ShellEscape", "jobname", "loop", "repeat",
    "makeatletter", "output", "everypar", "lccode", "uccode", "string", "detokenize", "message",
    "typeout", "errmessage", "newread", "newwrite", "closeout", "closein", "verbatiminput",
    "lstinputlisting", "url", "href", "pdffilesize", "filecontents",
}
_CODE = re.compile(
    r"\*\*|==|;|`|__|\bimport\b|\bdef\s|\blambda\b|\breturn\b|\bprint\s*\(|\bnp\.|\btorch\.|\bos\.|"
    r"\bsys\.|\bexec\b|\beval\b|\bsubprocess\b|\bopen\s*\(|#include|=>|\+=|-=|\bfor\s+\w+\s+in\b|\bwhile\b")
_COMMAND = re.compile(r"\\([a-zA-Z]+|.)")
_DELIMITERS = re.compile(r"^\s*(\$\$|\$|\\\[|\\\()|(\$\$|\$|\\\]|\\\))\s*$")
_UNICODE_HINTS = {"σ": r"\sigma", "δ": r"\delta", "∂": r"\partial", "∑": r"\sum", "Σ": r"\sum",
                  "∇": r"\nabla", "⊙": r"\odot", "·": r"\cdot", "×": r"\times", "−": "-", "′": "'",
                  "ℓ": r"\ell", "ᵀ": "^T", "²": "^2", "⁽": "^{(", "₀": "_0"}


def formula_error(message, formula, pos):
    """A FormulaError that says where: '... (column 12)', with the position for a caret."""
    if pos is None:
        return FormulaError(message, formula=formula)
    return FormulaError(f"{message} (column {pos + 1})", formula=formula, position=pos)


def prescan(text):
    """Reject what is not a formula before the grammar sees it, with the column of the problem."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula has {len(text)} characters; the limit is {MAX_LENGTH}", formula=text[:80])
    if not text.strip():
        raise FormulaError(r"empty formula: type an equation, e.g. '\frac{\partial C_0}{\partial b^{(L)}} = "
                           r"\sigma'(z^{(L)}) 2(a^{(L)} - y)'", formula=text)
    for m in _COMMAND.finditer(text):
        name = m.group(1)
        if name in NOT_MATH or name.startswith("write") or name.startswith("input"):
            raise formula_error(f"\\{name} is a TeX command, not math; verify reads one formula and never runs TeX "
                                f"commands", text, m.start())
    code = _CODE.search(text)
    if code:
        raise formula_error(f"this looks like program code ('{code.group(0).strip()}'), not a LaTeX formula; write "
                            r"it as LaTeX, e.g. \frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) "
                            r"2(a^{(L)} - y)", text, code.start())
    for m in _COMMAND.finditer(text):
        name = m.group(1)
        if name.isalpha() and name not in KNOWN_COMMANDS:
            raise formula_error(f"unknown command \\{name}; known: " + " ".join("\\" + c for c in sorted(
                {"frac", "partial", "sigma", "delta", "nabla", "sum", "exp", "ln", "log", "tanh", "cdot", "times",
                 "odot", "prime", "left", "right", "ell", "top"})), text, m.start())
    for i, ch in enumerate(text):
        if ord(ch) > 127:
            hint = f" (write {_UNICODE_HINTS[ch]})" if ch in _UNICODE_HINTS else ""
            raise formula_error(f"character '{ch}' is not LaTeX{hint}", text, i)
    depth = deepest = 0
    for ch in text:
        depth += ch in "({[" or 0
        depth -= ch in ")}]" or 0
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise FormulaError(f"brackets nested {deepest} deep; the limit is {MAX_NESTING}", formula=text)


def strip_delimiters(text):
    """$...$, $$...$$, \\[...\\] and \\(...\\) around the formula become spaces (columns stay)."""
    return _DELIMITERS.sub(lambda m: " " * len(m.group(0)), text)
