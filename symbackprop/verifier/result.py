"""The verdict on one formula, as people read it (``text``) and as programs do (``to_dict``)."""

import html
import json
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import printing
from .compare import POINTS, as_array
from .evaluate import compile_expr
from .shapes import as_expr, has_whole_target


def text_of(expr):
    """Unicode text of ``expr``; the printer reads sums with one limit, so nested ones fall back to SymPy's."""
    try:
        return printing.text(expr)
    except ValueError:
        return sp.sstr(expr)


MAX_SHOWN = 16
"""Entries of a vector or matrix shown in a counterexample; larger ones are summarised."""


def rounded(v):
    """A number to 6 digits, a small vector as a list, a small matrix as rows; big ones as their shape."""
    if v is None:
        return None
    a = np.asarray(v, dtype=float)
    if a.size == 1:
        x = float(a.reshape(-1)[0])
        return float(f"{x:.6g}") if np.isfinite(x) else str(x)
    if a.size > MAX_SHOWN:
        return f"{a.shape[0]}×{a.shape[1]} matrix" if a.ndim == 2 and a.shape[1] > 1 else f"vector of {a.size}"
    if a.ndim == 2 and a.shape[1] > 1:
        return [[float(f"{x:.6g}") for x in row] for row in a]
    return [float(f"{x:.6g}") for x in a.reshape(-1)]


def worst_entry(student, truth):
    """For a big vector or matrix: the entry where the two differ most, as {entry, student, true}."""
    s, t = as_array(student), as_array(truth)
    if s.shape != t.shape or s.size <= MAX_SHOWN:
        return None
    diff = np.where(np.isfinite(s), np.abs(s - t), np.inf)
    where = np.unravel_index(int(np.argmax(diff)), s.shape)
    return {"entry": [int(i) for i in where], "student": rounded(s[where]), "true": rounded(t[where])}


def _concrete(element, env, depth):
    try:
        at = {k: sp.Integer(v) for k, v in env.items()}
        idx = [as_expr(i).xreplace(at) for i in element.indices]
    except TypeError:
        return None
    if not all(i.is_Integer for i in idx):
        return None
    return element.base[tuple(idx)] if len(idx) > 1 else element.base[idx[0]]


def symbol_values(exprs, env, point, network, limit=16):
    """{text of a^{(2)}_0: value} for the network's quantities in ``exprs`` at this binding."""
    out = {}
    depth = network.depth
    for expr in exprs:
        if expr is None:
            continue
        for e in sorted(expr.atoms(sp.Indexed), key=sp.default_sort_key):
            if e.base == nt.n:
                continue
            c = _concrete(e, env, depth)
            if c is None:  # a bound sum index: show the whole layer
                at = {k: sp.Integer(v) for k, v in env.items()}
                c = e.base[as_expr(e.indices[0]).xreplace(at)] if e.base != nt.y else nt.target
            try:
                value = compile_expr(c, network)(point, env)
            except Exception:  # noqa: BLE001 - a value we cannot show is simply left out
                continue
            out[printing.text(c)] = rounded(value)
            if len(out) >= limit:
                return out
        if has_whole_target(expr) and "y" not in out:
            out["y"] = rounded(point.y if point.y.size > 1 else point.y[0])
    return out


@dataclass
class Result:
    """The verdict on one formula; ``text()`` for people, ``to_dict()`` for ``--json``."""

    formula: str
    network: object
    equivalent: bool
    parsed: str
    parsed_text: str
    expected: str
    expected_text: str
    checked: int
    bindings_total: int
    layers: list
    counterexample: dict = None
    diagnosis: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    symbolic: str = "skipped"
    seconds: float = 0.0

    @property
    def verdict(self):
        return "equivalent" if self.equivalent else "not_equivalent"

    def to_dict(self):
        return {
            "verdict": self.verdict,
            "formula": self.formula,
            "parsed": self.parsed,
            "expected": self.expected,
            "counterexample": self.counterexample,
            "diagnosis": self.diagnosis,
            "network": self.network.to_dict(),
            "checked": {"comparisons": self.checked, "bindings": self.bindings_total,
                        "layers": self.layers, "points": POINTS},
            "symbolic": self.symbolic,
            "notes": self.notes,
        }

    def text(self):
        lines = [f"verdict: {'EQUIVALENT' if self.equivalent else 'NOT EQUIVALENT'}"
                 f"   (network {self.network.describe()})",
                 f"read as:   {self.parsed}",
                 f"           {self.parsed_text}"]
        if self.expected:
            lines.append(f"expected:  {self.expected}")
        for note in self.notes:
            lines.append(f"note: {note}")
        layers = [lv for lv in self.layers if lv is not None]
        where = f" for l = {', '.join(map(str, layers))}" if layers else ""
        lines.append(f"checked:   {self.checked} comparisons at {POINTS} points{where}"
                     + (f" ({self.bindings_total} index bindings)" if self.bindings_total > 1 else "")
                     + ("; symbolically identical" if self.symbolic == "identical" else ""))
        if self.counterexample:
            c = self.counterexample
            lines.append("counterexample:")
            if c["binding"]:
                lines.append("  at " + ", ".join(f"{k} = {v}" for k, v in c["binding"].items()))
            lines.append("  with " + ", ".join(f"{k} = {v}" for k, v in c["values"].items()))
            lines.append(f"  your right-hand side = {c['student'] if c.get('error') is None else c['error']}")
            lines.append(f"  true value           = {c['true']}")
            if c.get("largest_difference"):
                w = c["largest_difference"]
                lines.append(f"  largest difference at entry {tuple(w['entry'])}: yours {w['student']}, "
                             f"true {w['true']}")
        if self.diagnosis:
            lines.append("diagnosis:")
            lines += [f"  - {d['message']}" for d in self.diagnosis]
        return "\n".join(lines)

    def json(self):
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def _repr_html_(self):
        """A small table for Jupyter: verdict, how it was read, expected, counterexample, diagnosis."""
        rows = [("verdict", "equivalent" if self.equivalent else "not equivalent"),
                ("network", self.network.describe()), ("read as", f"${self.parsed}$")]
        if self.expected:
            rows.append(("expected", f"${self.expected}$"))
        if self.counterexample:
            c = self.counterexample
            rows += [("your right-hand side", c["student"] if c.get("error") is None else c["error"]),
                     ("true value", c["true"]),
                     ("at", ", ".join(f"{k} = {v}" for k, v in {**c["binding"], **c["values"]}.items()))]
        rows += [("diagnosis", d["message"]) for d in self.diagnosis]
        rows += [("note", n) for n in self.notes]
        return html_table(rows)


def html_table(rows):
    """Rows of (label, value) as an HTML table; every value escaped."""
    cells = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                    f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"
