"""Where a formula is checked: the layers l and neuron indices it makes sense for in a network.

``check_meaning`` refuses what is not a statement about a derivative (a stray C, j or L);
``bindings`` binds the free layer ``l`` to every layer where every quantity of the formula
exists and the free neuron indices to every neuron (a fixed sample when there are very many);
``check_cost`` refuses formulas whose sums would take too long to evaluate.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import printing
from ..errors import FormulaError
from .compare import POINTS
from .shapes import as_expr, elements, free_indices, loose_symbols, neuron_positions

MAX_BINDINGS = 48
"""Bindings of the free layer and indices checked in full; beyond this a fixed sample."""
MAX_WORK = 3_000_000
"""Terms of sums a verify may evaluate (estimated before it starts)."""


def is_statement(lhs):
    """True when ``lhs`` is something a formula can give the value of: ∂X/∂Y, δ, ∇_a C."""
    return isinstance(lhs, (sp.Derivative, nt.grad_a_C)) or (isinstance(lhs, sp.Indexed) and lhs.base == nt.delta)


def check_meaning(formula):
    lhs = formula.lhs
    if not is_statement(lhs):
        raise FormulaError(r"the left-hand side must be a derivative, e.g. \frac{\partial C_0}{\partial w^{(L)}_{jk}}"
                           r" or \delta^{(l)}_j; got " + printing.latex(lhs), formula=formula.text)
    for side in formula.sides:
        for s in sorted(loose_symbols(side), key=str):
            if s in nt.COSTS:
                msg = r"the cost C can only appear in a derivative \frac{\partial C}{\partial ...}"
            elif s in (nt.L, nt.l):
                msg = f"{s} is a layer number; it is only used as a superscript, as in a^{{({s})}}"
            elif nt.is_index_symbol(s):
                msg = f"{s} is a neuron index; it is only used as a subscript, as in a_{s} or w_{{{s}k}}"
            elif s.name == "T":
                msg = "T alone is not understood; ^T transposes what it follows"
            else:
                msg = f"'{s}' is not understood"
            raise FormulaError(msg, formula=formula.text)


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
            low = nt.letter(e).lowest_layer
            if v is None or not low <= v <= depth:
                shown = printing.latex(e.indices[0])
                value = f" = {v}" if v is not None and shown != str(v) else ""
                return (f"layer {shown}{value} is out of range for {nt.letter(e).latex}: this network (L = {depth}) has "
                        f"{nt.letter(e).latex}^{{({low})}} .. {nt.letter(e).latex}^{{({depth})}}")
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
    found = [e for side in sides for e in elements(side)]
    has_l = any(side.has(nt.l) for side in sides)
    layer_values = list(range(0, network.depth + 1)) if has_l else [None]
    free = sorted(set().union(*(free_indices(s) for s in sides)), key=str)
    problems = []
    envs, total, used_layers, first_ranges = [], 0, [], None
    rng = np.random.default_rng(0)
    per_layer = []
    for lv in layer_values:
        problem = _range_problem(found, network, lv)
        if problem:
            problems.append(problem)
            continue
        ranges = {}
        for s in free:
            widths = [network.width(_layer_value(layer, network.depth, lv))
                      for e in found if e.base != nt.n for i, layer in neuron_positions(e) if i == s]
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
