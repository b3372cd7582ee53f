r"""What is not a formula is turned away before the grammar sees it, with the column of the problem.

A lexical pre-scan: length, control characters, TeX commands that are not math (``\input``,
``\def``), program code, unknown commands, characters that are not LaTeX, bracket nesting, sums,
digits.  ``prepare`` also unwraps what is layout rather than formula — ``$…$``, ``\[…\]``,
``\begin{equation}…\end{equation}``, ``align`` with its ``&`` and ``\\``, ``\label{…}``, a full
stop at the end — into spaces, so that every column still points at the same character.

The commands the grammar knows are read from its terminals (``known_commands``); the messages
say what to write instead, and none of them ever names a grammar token.
"""

import re
from functools import lru_cache
from pathlib import Path

from lark import Lark
from lark.exceptions import LexError

from ..errors import FormulaError

MAX_LENGTH = 2000
MAX_NESTING = 40
MAX_SUMS = 8
MAX_DIGITS = 30

MATH_ENVIRONMENTS = ("equation", "equation*", "align", "align*", "aligned", "gather", "gather*", "multline",
                     "multline*", "split", "displaymath", "math", "eqnarray", "eqnarray*")
NOT_MATH = {
    "input", "include", "includeonly", "def", "edef", "gdef", "xdef", "let", "write", "immediate",
    "openout", "openin", "read", "newcommand", "renewcommand", "providecommand", "newenvironment",
    "renewenvironment", "catcode", "csname", "endcsname", "expandafter", "usepackage", "documentclass",
    "begin", "end", "special", "directlua", "write18", "ShellEscape", "jobname", "loop", "repeat",
    "makeatletter", "output", "everypar", "lccode", "uccode", "string", "detokenize", "message",
    "typeout", "errmessage", "newread", "newwrite", "closeout", "closein", "verbatiminput",
    "lstinputlisting", "url", "href", "pdffilesize", "filecontents",
}
FONTS = ("mathrm", "operatorname", "text", "mathsf", "textrm", "mathit")
"""Commands whose braces hold a word: only the words the grammar knows (\\mathrm{d}, \\mathrm{T}) are read."""
HINTS = {
    "cdots": "write the terms out, or use \\sum", "dots": "write the terms out, or use \\sum",
    "ldots": "write the terms out, or use \\sum", "sqrt": "write a power, e.g. (a - y)^{1/2}",
    "mathbb": "only the network's quantities are read", "hat": "write the quantity without a hat",
    "tilde": "write the quantity without a tilde", "bar": "write the quantity without a bar",
    "cdotp": "write \\cdot", "ast": "write \\cdot", "otimes": "write \\odot for the entry-by-entry product",
    "epsilon": "δ is written \\delta", "varepsilon": "δ is written \\delta",
    "Delta": "the error δ is written \\delta", "varsigma": "write \\sigma", "mathcal": "the cost is written C",
    "eta": "verify checks derivatives, not the gradient-descent step: write the gradient, e.g. "
           "\\frac{\\partial C}{\\partial w^{(l)}_{jk}} = ...",
    "rightarrow": "verify reads equations: write the gradient, e.g. \\frac{\\partial C}{\\partial w^{(l)}_{jk}} = ...",
    "to": "verify reads equations: write the gradient, e.g. \\frac{\\partial C}{\\partial w^{(l)}_{jk}} = ...",
    "mapsto": "verify reads equations: write the gradient, e.g. \\frac{\\partial C}{\\partial w^{(l)}_{jk}} = ...",
}

_CODE = re.compile(
    r"\*\*|==|(?<!\\);|`|__|\bimport\b|\bdef\s|(?<!\\)\blambda\b|\breturn\b|\bprint\s*\(|\bnp\.|\btorch\.|\bos\.|"
    r"\bsys\.|\bexec\b|\beval\b|\bsubprocess\b|\bopen\s*\(|#include|=>|\+=|-=|\bfor\s+\w+\s+in\b|\bwhile\b")
_COMMAND = re.compile(r"\\([a-zA-Z]+|.)")
_DELIMITERS = re.compile(r"^\s*(\$\$|\$|\\\[|\\\()|(\$\$|\$|\\\]|\\\))\s*$")
_BEGIN = re.compile(r"^\s*\\begin\s*\{\s*([a-zA-Z*]*)\s*\}")
_END = re.compile(r"\\end\s*\{\s*([a-zA-Z*]*)\s*\}\s*$")
_ENVIRONMENT = re.compile(r"\\(begin|end)\s*\{\s*([a-zA-Z*]*)\s*\}")
_LABEL = re.compile(r"\\(label|tag\*?)\s*\{[^{}]*\}")
_LINE_BREAK = re.compile(r"\\\\(\s*\[[^\]]{0,20}\])?")
_DOUBLED = re.compile(r"(?<!\\)\\\\([a-zA-Z]+)")
_TRAILING = re.compile(r"(?<!\\)[.,;](?=(?:\s|\\[,;:! ]|\\q?quad(?![a-zA-Z]))*$)")
_FONT = re.compile(r"\\(" + "|".join(FONTS) + r")(?![a-zA-Z])(\s*\{[^{}]*\}|\s*[a-zA-Z])?")
_DIGITS = re.compile(r"[\d.]+")
_UNICODE_HINTS = {"σ": r"\sigma", "δ": r"\delta", "∂": r"\partial", "∑": r"\sum", "Σ": r"\sum",
                  "∇": r"\nabla", "⊙": r"\odot", "·": r"\cdot", "×": r"\times", "−": "-", "′": "'",
                  "ℓ": r"\ell", "ᵀ": "^T", "²": "^2", "⁽": "^{(", "₀": "_0", "∘": r"\circ", "⋅": r"\cdot",
                  "–": "-", "’": "'"}


def shown(text, limit=60):
    """User text as it may appear in a message: control characters as U+XXXX, at most ``limit`` characters."""
    out = "".join(ch if ch.isprintable() else f"U+{ord(ch):04X}" for ch in text)
    return out if len(out) <= limit else out[:limit - 1] + "…"


def formula_error(message, formula, pos):
    """A FormulaError that says where: '... (column 12)', with the position for a caret."""
    if pos is None:
        return FormulaError(message, formula=formula)
    return FormulaError(f"{message} (column {pos + 1})", formula=formula, position=pos)


# The grammar and the commands it knows ----------------------------------------------------------

@lru_cache(maxsize=1)
def grammar():
    """The Lark LALR parser of ``formula.lark`` (built once per process)."""
    source = Path(__file__).with_name("formula.lark").read_text(encoding="utf-8")
    return Lark(source, parser="lalr", maybe_placeholders=False)


_SPELLED = re.compile(r"\\\\([a-zA-Z]+)(?:\\\{([a-zA-Z]+)\\\})?|\\\\([,;:!])")


@lru_cache(maxsize=1)
def known_commands():
    r"""Every command the grammar reads, as written: '\frac', '\mathrm{d}', '\,' …, sorted.

    Read from the regular expressions of the grammar's terminals, where every command is spelled
    out after its backslash; optional spaces (\s*) are dropped first.
    """
    found = set()
    for terminal in grammar().terminals:
        regexp = terminal.pattern.to_regexp().replace(r"\s*", "")
        for name, word, symbol in _SPELLED.findall(regexp):
            found.add("\\" + (symbol or name + (f"{{{word}}}" if word else "")))
    return tuple(sorted(found, key=lambda c: (c[1:].lower().lstrip("{"), c)))


@lru_cache(maxsize=1)
def _known_names():
    """The bare names of the known commands: 'frac', 'mathrm', ','."""
    return frozenset(re.match(r"\\([a-zA-Z]+|.)", c).group(1) for c in known_commands())


def _lexes_as_one_token(text):
    try:
        tokens = list(grammar().lex(text))
    except LexError:
        return False
    return len(tokens) == 1 and tokens[0].value == text


# The checks, in the order a student's mistakes are most usefully reported ----------------------

def _check_length(text):
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula has {len(text)} characters; the limit is {MAX_LENGTH}",
                           formula=shown(text, 80))
    if not text.strip():
        raise FormulaError(r"empty formula: type an equation, e.g. '\frac{\partial C_0}{\partial b^{(L)}} = "
                           r"\sigma'(z^{(L)}) 2(a^{(L)} - y)'", formula=text)


def _check_characters(text):
    for i, ch in enumerate(text):
        if ch in "\t\n\r":
            continue
        if not ch.isprintable():
            raise formula_error(f"the formula contains an invisible control character ({shown(ch)}); retype it "
                                "without it", text, i)
        if ord(ch) > 127:
            hint = f" (write {_UNICODE_HINTS[ch]})" if ch in _UNICODE_HINTS else ""
            raise formula_error(f"character '{ch}' is not LaTeX{hint}", text, i)


def _check_tex_commands(text):
    for m in _COMMAND.finditer(text):
        name = m.group(1)
        if name in ("begin", "end"):
            continue  # math environments are unwrapped, others refused, in _unwrap_environments
        if name in NOT_MATH or name.startswith("write") or name.startswith("input"):
            raise formula_error(f"\\{name} is a TeX command, not math; verify reads one formula and never runs TeX "
                                f"commands", text, m.start())


def _check_code(text):
    code = _CODE.search(text)
    if code:
        raise formula_error(f"this looks like program code ('{shown(code.group(0).strip())}'), not a LaTeX formula; "
                            r"write it as LaTeX, e.g. \frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} "
                            r"\sigma'(z^{(L)}) 2(a^{(L)} - y)", text, code.start())


def _check_known_commands(text):
    known = _known_names()
    for m in _COMMAND.finditer(text):
        name = m.group(1)
        if name.isalpha() and name not in known:
            hint = f" ({HINTS[name]})" if HINTS.get(name) else ""
            raise formula_error(f"unknown command \\{name}{hint}; known: " + " ".join(known_commands()),
                                text, m.start())
    for m in _FONT.finditer(text):
        if not _lexes_as_one_token(m.group(0)):
            forms = " ".join(c for c in known_commands() if "{" in c)
            raise formula_error(f"{shown(m.group(0).strip(), 30)} is not understood here; verify reads {forms}",
                                text, m.start())


def _check_size(text):
    depth = deepest = 0
    for ch in text:
        depth += ch in "({[" or 0
        depth -= ch in ")}]" or 0
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise FormulaError(f"brackets nested {deepest} deep; the limit is {MAX_NESTING}", formula=text)
    sums = text.count(r"\sum")
    if sums > MAX_SUMS:
        raise FormulaError(f"the formula has {sums} sums; verify reads at most {MAX_SUMS}", formula=text)
    for m in _DIGITS.finditer(text):
        digits = sum(ch.isdigit() for ch in m.group(0))
        if digits > MAX_DIGITS:
            raise formula_error(f"a number with {digits} digits; verify reads numbers of at most {MAX_DIGITS} digits",
                                text, m.start())


# Layout that is not formula, blanked out (columns stay) ----------------------------------------

def _blank(text, start, end):
    return text[:start] + " " * (end - start) + text[end:]


def strip_delimiters(text):
    """$...$, $$...$$, \\[...\\] and \\(...\\) around the formula become spaces (columns stay)."""
    return _DELIMITERS.sub(lambda m: " " * len(m.group(0)), text)


def _unwrap_environments(text):
    r"""\begin{equation} … \end{equation} (and align, gather …) around the formula become spaces."""
    while True:
        begin = _BEGIN.match(text)
        if begin is None:
            break
        name = begin.group(1)
        if name not in MATH_ENVIRONMENTS:
            raise formula_error(f"\\begin{{{shown(name, 20)}}} is not a math environment; verify reads one formula, "
                                f"alone or in {', '.join(MATH_ENVIRONMENTS[:4])}", text, begin.start(1) - 7)
        end = _END.search(text)
        if end is None or end.group(1) != name:
            raise formula_error(f"\\begin{{{name}}} has no matching \\end{{{name}}} at the end of the formula",
                                text, begin.start())
        text = _blank(_blank(text, end.start(), end.end()), begin.start(), begin.end())
    stray = _ENVIRONMENT.search(text)
    if stray:
        raise formula_error(f"\\{stray.group(1)}{{{shown(stray.group(2), 20)}}} is only read around the whole "
                            "formula, e.g. \\begin{equation} … \\end{equation}", text, stray.start())
    return text


def _unwrap_lines(text):
    r"""Lines of an align (``\\``), ``&``, \label{…} and punctuation at the end of a line become spaces.

    A line after the first continues the equation (``&= …``, ``&+ …``); one with an '=' that
    does not begin with it starts another equation, which is refused: one equation at a time.
    """
    doubled = _DOUBLED.search(text)
    if doubled:
        name = doubled.group(1)
        raise formula_error(f"write one backslash before a command: \\{name}, not \\\\{name} (strings copied from "
                            f"program code double them)", text, doubled.start())
    text = _LABEL.sub(lambda m: " " * len(m.group(0)), text).replace("&", " ")
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    ends = [m.start() for m in _LINE_BREAK.finditer(text)] + [len(text)]
    out = text
    for number, (start, end) in enumerate(zip(starts, ends)):
        line = text[start:end]
        if number and "=" in line and not line.lstrip().startswith("="):
            raise formula_error("verify checks one equation at a time: this line starts another one; give each "
                                "equation separately", text, start + len(line) - len(line.lstrip()))
        trailing = _TRAILING.search(line)
        if trailing:
            out = _blank(out, start + trailing.start(), start + trailing.end())
    for m in _LINE_BREAK.finditer(text):
        out = _blank(out, m.start(), m.end())
    return out


def prepare(text):
    """``text`` checked and unwrapped for the grammar, of the same length (columns stay), or a FormulaError."""
    if not isinstance(text, str):
        raise FormulaError("the formula must be text")
    _check_length(text)
    _check_characters(text)
    _check_tex_commands(text)
    clean = _unwrap_lines(_unwrap_environments(strip_delimiters(text)))
    _check_code(clean)
    _check_known_commands(clean)
    _check_size(clean)
    if not clean.strip():
        raise FormulaError("empty formula between the math delimiters", formula=text)
    return clean
