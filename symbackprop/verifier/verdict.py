"""``verify(formula, network)``: is a hand-written formula right, where does it fail, and why.

The steps, each in its own module: ``parse`` reads the LaTeX into notation's SymPy objects;
here the free layer ``l`` and the free neuron indices are bound to every value where the
formula makes sense (sampled when there are very many); ``evaluate`` computes both sides at
random points of the network (``points``), where a ``∂X/∂Y`` stands for its true value;
``expected`` gives the derivation's right-hand side to show; ``diagnose`` says what differs.
"""

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import printing
from ..errors import FormulaError
from . import diagnose, expected
from .evaluate import EvaluationError, compile_expr
from .forms import MATRIX_OPS
from .parse import as_expr, has_bare_y, is_index_symbol, neuron_positions, parse, whole_layer_size
from .points import Point

POINTS = 3
"""Random points of the network at which both sides are compared (seeds 0, 1, 2)."""
MAX_BINDINGS = 48
"""Bindings of the free layer and indices checked in full; beyond this a fixed sample."""
RTOL, ATOL = 1e-7, 1e-9
TIME_LIMIT = 10.0
"""Seconds one verify may take before it gives up with a clear error."""

_LOWEST = {nt.a: 0, nt.z: 1, nt.w: 1, nt.b: 1, nt.delta: 1}
_NAME = {nt.a: "a", nt.z: "z", nt.w: "w", nt.b: "b", nt.delta: r"\delta"}


@lru_cache(maxsize=32)
def points(network):
    return tuple(Point(network, seed) for seed in range(POINTS))


@lru_cache(maxsize=32)
def derivation_of(network):
    from ..derivation import derive

    return derive(network)


# Meaning checks ---------------------------------------------------------------------------------

def _loose_symbols(expr):
    """Symbols used as values outside any index: a stray j, L, T or C."""
    if isinstance(expr, (sp.Indexed, sp.Derivative)):
        return set()
    if isinstance(expr, sp.Sum):
        return _loose_symbols(expr.function)
    if isinstance(expr, sp.Symbol):
        return set() if expr == nt.Y else {expr}
    out = set()
    for arg in expr.args:
        out |= _loose_symbols(arg)
    return out


def check_meaning(formula):
    lhs = formula.lhs
    if expected.target(lhs) is None and not (isinstance(lhs, sp.Derivative)):
        raise FormulaError(r"the left-hand side must be a derivative, e.g. \frac{\partial C_0}{\partial w^{(L)}_{jk}}"
                           r" or \delta^{(l)}_j; got " + printing.latex(lhs), formula=formula.text)
    for side in formula.sides:
        for s in sorted(_loose_symbols(side), key=str):
            if s in (nt.C, nt.C0, nt.Cx):
                msg = r"the cost C can only appear in a derivative \frac{\partial C}{\partial ...}"
            elif s in (nt.L, nt.l):
                msg = f"{s} is a layer number; it is only used as a superscript, as in a^{{({s})}}"
            elif is_index_symbol(s):
                msg = f"{s} is a neuron index; it is only used as a subscript, as in a_{s} or w_{{{s}k}}"
            elif s.name == "T":
                msg = "T alone is not understood; ^T transposes what it follows"
            else:
                msg = f"'{s}' is not understood"
            raise FormulaError(msg, formula=formula.text)


def free_indices(expr):
    """Neuron-index symbols not bound by a sum."""
    if isinstance(expr, sp.Sum):
        return free_indices(expr.function) - {limit[0] for limit in expr.limits}
    if isinstance(expr, sp.Indexed):
        return {s for i in expr.indices for s in as_expr(i).free_symbols if is_index_symbol(s)}
    out = set()
    for arg in expr.args:
        out |= free_indices(arg)
    return out


def _elements(expr):
    return [e for e in expr.atoms(sp.Indexed) if e.base in nt.LAYERED or e.base in (nt.y, nt.n)]


def _layer_value(layer, depth, lvalue):
    v = as_expr(layer).xreplace({nt.L: sp.Integer(depth)} | ({nt.l: sp.Integer(lvalue)} if lvalue is not None else {}))
    return int(v) if v.is_Integer else None


def _range_problem(elements, network, lvalue):
    """The first element whose layer or concrete neuron index is outside the network, as a message."""
    depth = network.depth
    for e in sorted(elements, key=sp.default_sort_key):
        if e.base == nt.n:
            v = _layer_value(e.indices[0], depth, lvalue)
            if v is None or not 0 <= v <= depth:
                return f"n_{{{printing.latex(e.indices[0])}}} is out of range: this network has layers 0..{depth}"
            continue
        if e.base == nt.y:
            layer_width = [(e.indices[0], network.width(depth))]
        else:
            v = _layer_value(e.indices[0], depth, lvalue)
            low = _LOWEST[e.base]
            if v is None or not low <= v <= depth:
                shown = printing.latex(e.indices[0])
                value = f" = {v}" if v is not None and shown != str(v) else ""
                return (f"layer {shown}{value} is out of range for {_NAME[e.base]}: this network (L = {depth}) has "
                        f"{_NAME[e.base]}^{{({low})}} .. {_NAME[e.base]}^{{({depth})}}")
            layer_width = [(i, network.width(_layer_value(lay, depth, lvalue)))
                           for i, lay in neuron_positions(e)]
        for index, width in layer_width:
            index = as_expr(index)
            if index.is_Integer and not 0 <= int(index) < width:
                return (f"neuron index {index} of {printing.latex(e)} is out of range: that layer has neurons "
                        f"0..{width - 1}")
    return None


@dataclass
class Bindings:
    """The values of l and of the free neuron indices at which the formula is checked."""

    envs: list
    total: int
    layers: list
    ranges: dict  # index symbol -> range size at the first layer value


def bindings(formula, network):
    sides = formula.sides
    elements = [e for side in sides for e in _elements(side)]
    has_l = any(side.has(nt.l) for side in sides)
    layer_values = list(range(0, network.depth + 1)) if has_l else [None]
    free = sorted(set().union(*(free_indices(s) for s in sides)), key=str)
    problems = []
    envs, total, used_layers, first_ranges = [], 0, [], None
    rng = np.random.default_rng(0)
    per_layer = []
    for lv in layer_values:
        problem = _range_problem(elements, network, lv)
        if problem:
            problems.append(problem)
            continue
        ranges = {}
        for s in free:
            widths = [network.width(_layer_value(layer, network.depth, lv))
                      for e in elements if e.base != nt.n for i, layer in neuron_positions(e) if i == s]
            if not widths:
                raise FormulaError(f"cannot tell which neurons the index {s} counts: use it as a subscript of "
                                   f"a, z, b, \\delta, w or y", formula=formula.text)
            ranges[s] = min(widths)
        per_layer.append((lv, ranges))
    if not per_layer:
        if has_l:
            raise FormulaError(f"no layer l makes this formula meaningful in this network (L = {network.depth}): "
                               f"{problems[-1]}", formula=formula.text)
        raise FormulaError(problems[0], formula=formula.text)
    budget = max(4, MAX_BINDINGS // len(per_layer))
    for lv, ranges in per_layer:
        count = int(np.prod([ranges[s] for s in free])) if free else 1
        total += count
        used_layers.append(lv)
        first_ranges = first_ranges or ranges
        base = {nt.L: network.depth} | ({nt.l: lv} if lv is not None else {})
        if count <= budget:
            combos = np.array(np.meshgrid(*[np.arange(ranges[s]) for s in free], indexing="ij")).reshape(
                len(free), -1).T if free else [()]
        else:  # the corners and a fixed random sample
            combos = [tuple(0 for _ in free), tuple(ranges[s] - 1 for s in free)]
            combos += [tuple(int(rng.integers(ranges[s])) for s in free) for _ in range(budget - 2)]
        for combo in combos:
            envs.append(base | {s: int(v) for s, v in zip(free, combo)})
    return Bindings(envs, total, used_layers, first_ranges or {})


MAX_WORK = 3_000_000
"""Terms of sums a verify may evaluate (estimated before it starts)."""


def work(expr, widest):
    """Rough number of terms evaluating ``expr`` once takes: sums multiply by the widest layer."""
    if isinstance(expr, sp.Sum):
        return widest ** len(expr.limits) * work(expr.function, widest)
    if isinstance(expr, (sp.Indexed, sp.Derivative)) or not expr.args:
        return 1
    return sum(work(a, widest) for a in expr.args)


def check_cost(formula, network, binds):
    widest = max(network.sizes)
    total = sum(work(side, widest) for side in formula.sides) * len(binds.envs) * POINTS
    if total > MAX_WORK:
        raise FormulaError(f"this formula is too costly to decide (about {total:,} terms to evaluate; the limit is "
                           f"{MAX_WORK:,}): nested sums over wide layers; check it on a smaller network with --sizes",
                           formula=formula.text)


# Comparison -------------------------------------------------------------------------------------

def _array(v):
    return np.asarray(v, dtype=float).reshape(-1) if np.size(v) == 1 else np.asarray(v, dtype=float)


def same(student, truth):
    s, t = _array(student), _array(truth)
    if s.shape != t.shape or not np.all(np.isfinite(s)):  # a row for a column, a vector for a number
        return False
    return bool(np.allclose(s, t, rtol=RTOL, atol=ATOL))


@dataclass
class Sample:
    env: dict
    point: int
    student: object
    truth: object
    error: str = None


class Checker:
    """Both sides at every binding and point; reused by the diagnosis for its variants."""

    def __init__(self, formula, network, binds, deadline):
        self.formula = formula
        self.network = network
        self.binds = binds
        self.deadline = deadline
        self.points = points(network)
        self.truth_f = compile_expr(formula.lhs, network, deadline)
        self._truth = {}

    def truth(self, i, env):
        key = (i, tuple(sorted((str(k), v) for k, v in env.items())))
        if key not in self._truth:
            try:
                self._truth[key] = self.truth_f(self.points[i], env)
            except EvaluationError as e:
                raise FormulaError(f"the left-hand side: {e}", formula=self.formula.text) from None
        return self._truth[key]

    def samples(self, rhs, stop_at_first=False):
        """[Sample] for ``rhs`` (a SymPy expression) at every binding and point."""
        f = compile_expr(rhs, self.network, self.deadline)
        out = []
        for env in self.binds.envs:
            if time.monotonic() > self.deadline:
                raise FormulaError(f"this formula is too costly to decide within {TIME_LIMIT:.0f} s")
            for i, p in enumerate(self.points):
                t = self.truth(i, env)
                try:
                    with np.errstate(all="ignore"):
                        s = f(p, env)
                except EvaluationError as e:
                    out.append(Sample(env, i, None, t, str(e)))
                    if stop_at_first:
                        return out
                    continue
                out.append(Sample(env, i, s, t))
                if stop_at_first and not same(s, t):
                    return out
        return out

    def equivalent(self, rhs):
        """True when ``rhs`` matches the truth everywhere (False on any error)."""
        if time.monotonic() > self.deadline:
            return False
        try:
            samples = self.samples(rhs, stop_at_first=True)
        except (FormulaError, EvaluationError, KeyError, TypeError, ValueError, ZeroDivisionError):
            return False
        return all(s.error is None and same(s.student, s.truth) for s in samples)


# The result -------------------------------------------------------------------------------------

MAX_SHOWN = 16
"""Entries of a vector or matrix shown in a counterexample; larger ones are summarised."""


def _round(v):
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


def _worst_entry(student, truth):
    """For a big vector or matrix: the entry where the two differ most, as {entry, student, true}."""
    s, t = _array(student), _array(truth)
    if s.shape != t.shape or s.size <= MAX_SHOWN:
        return None
    diff = np.where(np.isfinite(s), np.abs(s - t), np.inf)
    where = np.unravel_index(int(np.argmax(diff)), s.shape)
    return {"entry": [int(i) for i in where], "student": _round(s[where]), "true": _round(t[where])}


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
                c = e.base[as_expr(e.indices[0]).xreplace(at)] if e.base != nt.y else nt.Y
            try:
                value = compile_expr(c, network)(point, env)
            except Exception:  # noqa: BLE001 - a value we cannot show is simply left out
                continue
            out[printing.text(c)] = _round(value)
            if len(out) >= limit:
                return out
        if has_bare_y(expr) and "y" not in out:
            out["y"] = _round(point.y if point.y.size > 1 else point.y[0])
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
        lines.append(f"checked:   {self.checked} comparisons at {POINTS} random points{where}"
                     + (f" ({self.bindings_total} index bindings)" if self.bindings_total > 1 else "")
                     + (f"; symbolic check: {self.symbolic}" if self.symbolic != "skipped" else ""))
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


def _symbolic(rhs, want):
    """'identical' when the student's right side expands to the derivation's, else 'not shown'."""
    if want is None or rhs.has(*MATRIX_OPS, sp.Sum) or want.has(*MATRIX_OPS, sp.Sum) or sp.count_ops(rhs) > 150:
        return "skipped"
    try:
        return "identical" if sp.expand((rhs - want).doit()) == 0 else "undecided"
    except Exception:  # noqa: BLE001 - the symbolic check is only a bonus
        return "skipped"


def read(formula, network=None):
    """How verify reads ``formula`` (a live preview): {"latex", "text", "notes"}, or a FormulaError.

    Parsing only, no comparison: cheap enough to call on every keystroke.
    """
    from ..spec import Network

    network = Network.parse() if network is None else network
    parsed = parse(formula, network)
    return {"latex": " = ".join(printing.latex(s) for s in parsed.sides),
            "text": " = ".join(_text(s) for s in parsed.sides), "notes": parsed.notes}


def verify(formula, network=None):
    """Verdict, parsed form, expected right-hand side, counterexample and diagnosis for ``formula``."""
    from ..spec import Network

    start = time.monotonic()
    network = Network.parse() if network is None else network
    parsed = parse(formula, network)
    check_meaning(parsed)
    binds = bindings(parsed, network)
    check_cost(parsed, network, binds)
    checker = Checker(parsed, network, binds, start + TIME_LIMIT)
    derivation = derivation_of(network)
    lhs = parsed.lhs
    shorthand = _is_shorthand(lhs, network)
    want = expected.expected_rhs(lhs, derivation, shorthand)
    diagnosis, counterexample, ok, checked = [], None, True, 0
    for number, rhs in enumerate(parsed.rhs):
        samples = checker.samples(rhs)
        checked += len(samples)
        for s in samples:
            if s.error and "out of range" in s.error and s.error.startswith(("neuron index", "layer", "n_")):
                raise FormulaError(f"{s.error} (while computing the right-hand side)", formula=formula)
        bad = [s for s in samples if s.error is not None or not same(s.student, s.truth)]
        if not bad:
            continue
        ok = False
        first = bad[0]
        label = {str(k): v for k, v in first.env.items() if k != nt.L}
        counterexample = {
            "binding": label,
            "point": first.point,
            "values": symbol_values([lhs, rhs, want], first.env, checker.points[first.point], network),
            "student": _round(first.student),
            "true": _round(first.truth),
            "error": first.error,
            "mismatches": f"{len(bad)} of {len(samples)}",
        }
        worst = _worst_entry(first.student, first.truth) if first.error is None else None
        if worst:
            counterexample["largest_difference"] = worst
        if len(parsed.rhs) > 1:
            counterexample["side"] = number + 1
        diagnosis = diagnose.diagnose(parsed, rhs, samples, checker, derivation, shorthand, want)
        if len(parsed.rhs) > 1:
            diagnosis.insert(0, {"code": "chain_part", "message": f"part {number + 1} of the chain of equalities "
                                 f"({printing.latex(rhs)}) is where it goes wrong"})
        break
    sym = _symbolic(parsed.rhs[-1], want) if ok else "skipped"
    return Result(
        formula=formula, network=network, equivalent=ok,
        parsed=" = ".join(printing.latex(s) for s in parsed.sides),
        parsed_text=" = ".join(_text(s) for s in parsed.sides),
        expected=(f"{printing.latex(lhs)} = {printing.latex(want)}" if want is not None else ""),
        expected_text=(f"{_text(lhs)} = {_text(want)}" if want is not None else ""),
        checked=checked, bindings_total=binds.total, layers=[lv for lv in binds.layers if lv is not None],
        counterexample=counterexample, diagnosis=diagnosis, notes=parsed.notes, symbolic=sym,
        seconds=time.monotonic() - start,
    )


def _text(expr):
    """Unicode text of ``expr``; the printer reads sums with one limit, so nested ones fall back to SymPy's."""
    try:
        return printing.text(expr)
    except ValueError:
        return sp.sstr(expr)


def _is_shorthand(lhs, network):
    """True when the left side names a one-neuron quantity without neuron index (the lectures' chain)."""
    found = expected.target(lhs)
    if found is None:
        (var, _), = lhs.variable_count
        return len(var.indices) == 1
    kind, layer, idx = found
    if idx is not None:
        return False
    element = nt.Y if kind == "y" else {"a": nt.a, "z": nt.z, "w": nt.w, "b": nt.b, "delta": nt.delta}[kind][layer]
    return whole_layer_size(element, network) == 1
