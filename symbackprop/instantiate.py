"""The derivation's general formulas written out for concrete layers and neurons.

BP1-BP4 are stated for a symbolic layer l and neurons j, k.  For a concrete network this
module substitutes numbers for them, the layer widths for n_l and expands the finite sums, so
``check`` and the tests can compare the derived formulas with ``sympy.diff`` of the fully
expanded cost and with numbers.  :func:`find` writes a statement of the derivation for a
left-hand side a student typed (layer L - 1, neurons 0 and k, ...), which is how verify knows
the expected right-hand side without restating any equation.
"""

from dataclasses import dataclass

import sympy as sp

from . import notation as nt
from .printing import ordered_xreplace, plain, rebuilt


def layer_values(network):
    """{L: depth, n[0]: n_0, ..., n[L]: n_L}: what the symbolic sizes mean for this network."""
    values = {nt.L: sp.Integer(network.depth)}
    values.update({nt.n[i]: sp.Integer(width) for i, width in enumerate(network.sizes)})
    return values


def concrete(expr, network, **indices):
    """``expr`` with L, n_l and the given symbols (l=2, j=0, ...) replaced and sums expanded.

    The result is plain SymPy (no display-only ordered products), ready to compute with.
    """
    expr = plain(expr)
    names = {"l": nt.l, "j": nt.j, "k": nt.k, "L": nt.L}
    free = expr.free_symbols
    at = {names[name]: sp.Integer(value) for name, value in indices.items() if names[name] in free}
    at.setdefault(nt.L, sp.Integer(network.depth))  # (a bound j or k of a sum stays bound)
    expr = expr.xreplace(at)  # layers become integers, so n[l+1] becomes n[3] ...
    expr = expr.xreplace(layer_values(network))
    return expand_sums(expr) if expr.has(sp.Sum) else expr


def expand_sums(expr):
    """Every Sum with numeric limits written out term by term, products kept in their order.

    Not SymPy's ``doit``, which is slow on nested sums and also evaluates a ∂C₀/∂a in them to 0.
    """
    if not expr.has(sp.Sum):
        return expr
    if isinstance(expr, sp.Sum):
        body = expand_sums(expr.function)
        (var, low, high), *rest = expr.limits
        if not (low.is_Integer and high.is_Integer):
            return expr
        terms = [ordered_xreplace(body, {var: sp.Integer(i)}) for i in range(int(low), int(high) + 1)]
        total = sp.Add(*terms)
        return expand_sums(sp.Sum(total, *rest)) if rest else total
    return rebuilt(expr, [expand_sums(a) for a in expr.args])


def deltas(derivation):
    """{δ[l, j]: its formula} for every neuron, from BP1 (output layer) and BP2 (below).

    Each δ^{(l)}_j is written with the δ^{(l+1)}_k of the layer above left as symbols, which
    keeps every formula small; :func:`expand_deltas` substitutes them out when wanted.
    """
    net = derivation.network
    bp1, bp2 = derivation.bp_equation("BP1"), derivation.bp_equation("BP2")
    out = {}
    for layer in range(net.depth, 0, -1):
        for j in range(net.width(layer)):
            if layer == net.depth:
                formula = concrete(derivation.with_cost_slope(bp1.index_rhs), net, j=j)
            else:
                formula = concrete(bp2.index_rhs, net, l=layer, j=j)
            out[nt.delta[layer, j]] = formula
    return out


def gradient_formulas(derivation):
    """{w[l, j, k] or b[l, j]: the derived formula (BP3, BP4, and a regulariser's term in the
    symbols λ and n)}, with δ's left as symbols."""
    net = derivation.network
    bp3, bp4 = derivation.bp_equation("BP3"), derivation.bp_equation("BP4")
    weight = plain(bp4.index_rhs)
    for r in derivation.regularisation:  # ∂C/∂w = BP4's ∂C₀/∂w + the penalty's term
        weight = weight + plain(r.weight.rhs).xreplace({nt.partial(nt.C0, nt.w[nt.l, nt.j, nt.k]): 0})
    out = {}
    for layer in range(1, net.depth + 1):
        rows, cols = net.width(layer), net.width(layer - 1)
        out.update({nt.w[layer, j, k]: concrete(weight, net, l=layer, j=j, k=k)
                    for j in range(rows) for k in range(cols)})
        out.update({nt.b[layer, j]: concrete(bp3.index_rhs, net, l=layer, j=j) for j in range(rows)})
    return out


def expand_deltas(formulas, delta_formulas):
    """Replace every δ by its formula, from the output layer down (only for small networks)."""
    resolved = {}
    for symbol in sorted(delta_formulas, key=lambda d: -int(d.indices[0])):
        resolved[symbol] = delta_formulas[symbol].xreplace(resolved)
    return {key: value.xreplace(resolved) for key, value in formulas.items()}


def _whole(element, network, **indices):
    """A whole-layer quantity (a^{(l)}, w^{(l)}, y, ∇_a C) written out entry by entry."""
    if element == nt.target:
        return sp.Matrix(network.width(network.depth), 1, lambda r, c: nt.y[r])
    if isinstance(element, nt.grad_a_C):
        depth = network.depth
        return sp.Matrix(network.width(depth), 1, lambda r, c: nt.partial(nt.C0, nt.a[depth, r]))
    layer = int(concrete(element.indices[0], network, **indices))
    rows = network.width(layer)
    if element.base == nt.w:
        return sp.Matrix(rows, network.width(layer - 1), lambda r, c: nt.w[layer, r, c])
    return sp.Matrix(rows, 1, lambda r, c: element.base[layer, r])


def explicit_matrix(expr, network, **indices):
    """A matrix-form expression (BP1-BP4) written out entry by entry for the concrete layer
    given (``l=2``): an explicit SymPy Matrix of index-form entries.

    Products of matrices and vectors, transposes and ⊙ are carried out; σ and σ' of a whole
    layer act entry by entry, as the notation says.
    """
    def explicit(e):
        if e == nt.target or isinstance(e, nt.grad_a_C) or nt.is_whole_layer(e):
            return _whole(e, network, **indices)
        if isinstance(e, nt.MatrixProduct):
            out = explicit(e.args[0])
            for factor in e.args[1:]:
                out = out * explicit(factor)
            return out
        if isinstance(e, nt.Transposed):
            return explicit(e.args[0]).T
        if isinstance(e, nt.Hadamard):
            out = explicit(e.args[0])
            for factor in e.args[1:]:
                out = out.multiply_elementwise(explicit(factor))
            return out
        if isinstance(e, (nt.sigma, nt.sigma_prime)):
            return explicit(e.args[0]).applyfunc(e.func)
        return e

    return sp.Matrix(explicit(plain(expr)))


# Finding a statement of the derivation for a left-hand side -------------------------------------

_WILD = (nt.l, nt.j, nt.k)
"""The symbols of the derivation's general forms that a left-hand side binds."""


def _bind(pattern, value, binding):
    """Extend ``binding`` so that the pattern index (l - 1, j, L) equals ``value``; False if not."""
    wild = [s for s in pattern.free_symbols if s in _WILD]
    if not wild:
        return sp.expand(pattern - value) == 0
    symbol, = wild
    offset = pattern - symbol
    if offset.free_symbols:
        return False
    solved = sp.expand(value - offset)
    if symbol in binding:
        return sp.expand(binding[symbol] - solved) == 0
    binding[symbol] = solved
    return True


def unify(pattern, expr, binding=None, strict_cost=False):
    """The binding of l, j, k under which ``pattern`` (a general left-hand side) is ``expr``,
    or None: ∂C₀/∂w^{(l)}_{jk} against ∂C₀/∂w^{(L-1)}_{0k} gives {l: L - 1, j: 0, k: k}.

    C, C₀ and C_x all stand for the cost of one example, unless ``strict_cost``: then C (with a
    regulariser's share) and C₀ or C_x (without) are told apart."""
    binding = {} if binding is None else binding
    if isinstance(pattern, sp.Derivative) and isinstance(expr, sp.Derivative):
        (pv, _), = pattern.variable_count
        (ev, _), = expr.variable_count
        if pattern.expr in nt.COSTS and expr.expr in nt.COSTS:
            if strict_cost and (pattern.expr == nt.C) != (expr.expr == nt.C):
                return None
            return unify(pv, ev, binding)
        if unify(pattern.expr, expr.expr, binding) is None:
            return None
        return unify(pv, ev, binding)
    if isinstance(pattern, sp.Indexed) and isinstance(expr, sp.Indexed):
        if pattern.base != expr.base or len(pattern.indices) != len(expr.indices):
            return None
        for p_index, e_index in zip(pattern.indices, expr.indices):
            if not _bind(p_index, e_index, binding):
                return None
        return binding
    return binding if pattern == expr else None


def bound_renames(expr, binding):
    """New names for the indices of ``expr``'s sums that the binding would capture
    (Σ_j w_{jk} with k -> j must become Σ_i w_{ij})."""
    taken = set(binding).union(*(v.free_symbols for v in binding.values() if isinstance(v, sp.Basic)))
    bound = {var for s in expr.atoms(sp.Sum) for var, *_ in s.limits}
    renames = {}
    for var in sorted(bound & taken, key=str):
        renames[var] = nt.fresh_index(taken | bound | set(renames.values()))
    return renames


def substitute(expr, binding, renames=None):
    """``expr`` with l, j, k replaced by the binding, sums' own indices renamed where they would
    be captured, products kept in their written order."""
    renames = bound_renames(expr, binding) if renames is None else renames
    return ordered_xreplace(ordered_xreplace(expr, renames), binding)


def map_indexed(expr, leaf):
    """``expr`` with ``leaf`` applied to every Indexed and ∂X/∂Y, products kept in order."""
    if isinstance(expr, (sp.Indexed, sp.Derivative)):
        return leaf(expr)
    if isinstance(expr, sp.Sum):
        return sp.Sum(map_indexed(expr.function, leaf), *expr.limits)
    if not expr.args:
        return expr
    return rebuilt(expr, [map_indexed(a, leaf) for a in expr.args])


def _short(e):
    if isinstance(e, sp.Derivative):
        (var, _), = e.variable_count
        return nt.partial(_short(e.expr), _short(var))
    if isinstance(e, sp.Indexed) and (e.base in nt.LAYERED or e.base == nt.y):
        return nt.whole_layer(e.base, e.indices[0] if e.base != nt.y else None)
    return e


def to_shorthand(expr):
    """The lectures' one-neuron notation: a^{(l)}_0 -> a^{(l)}, y_0 -> y, sums of one term dropped."""
    zero = {s: sp.Integer(0) for s in (nt.j, nt.k)}
    expr = map_indexed(expr, lambda e: e.xreplace(zero) if isinstance(e, sp.Indexed) else e)
    expr = expr.replace(lambda e: isinstance(e, sp.Sum),
                        lambda e: ordered_xreplace(e.function, {v: sp.Integer(0) for v, *_ in e.limits}))
    return map_indexed(expr, _short)


def from_shorthand(expr):
    """The one-neuron shorthand written with neuron 0: a^{(l)} -> a^{(l)}_0, w^{(l)} -> w^{(l)}_{00}."""
    def full(e):
        if isinstance(e, sp.Derivative):
            (var, _), = e.variable_count
            return nt.partial(full(e.expr), full(var))
        if nt.is_whole_layer(e):
            letter = nt.letter(e)
            return e.base[(e.indices[0], *[sp.Integer(0)] * letter.neurons)]
        return e
    return map_indexed(expr, full)


@dataclass(frozen=True)
class Match:
    """A statement of the derivation written for a student's left-hand side."""

    rhs: sp.Expr
    factors: tuple  # (value, role) of the chain-rule factors, instantiated
    source: str


def layers_relative(expr, depth):
    """Concrete layers written relative to L (2 -> L - 1 when depth is 3), so they meet L."""
    def leaf(e):
        if isinstance(e, sp.Indexed) and e.base in nt.LAYERED and e.indices[0].is_Integer:
            return e.base[(nt.relative_layer(e.indices[0], depth), *e.indices[1:])]
        if isinstance(e, sp.Derivative):
            (var, _), = e.variable_count
            return nt.partial(leaf(e.expr), leaf(var))
        return e
    return map_indexed(expr, leaf)


def _layers_exist(expr, depth):
    """False when ``expr`` names a layer the network cannot have (L + 1, or below its lowest)."""
    for e in expr.atoms(sp.Indexed):
        letter = nt.letter(e)
        if letter is None or letter.lowest_layer is None:
            continue
        layer = nt.concrete_layer(e.indices[0], depth)
        if layer.is_Integer and not letter.lowest_layer <= int(layer) <= depth:
            return False
    return True


def find(derivation, lhs, shorthand=False):
    """Every statement of ``derivation`` whose left-hand side is ``lhs``, written for it: the
    layer and neurons bound, the output layer's cost slope where the layer is L, numbered layers
    kept numbered.  ``shorthand``: ``lhs`` is the lectures' one-neuron notation."""
    depth = derivation.network.depth
    numbered = any(e.indices[0].is_Integer for e in lhs.atoms(sp.Indexed) if e.base in nt.LAYERED)
    target = layers_relative(from_shorthand(lhs) if shorthand else lhs, depth)
    strict = bool(derivation.network.regularisation)  # ∂C/∂w has the penalty's term, ∂C₀/∂w not
    out = _found(derivation, target, strict, depth, numbered, shorthand)
    return out or (_found(derivation, target, False, depth, numbered, shorthand) if strict else out)


def _found(derivation, target, strict, depth, numbered, shorthand):
    out = []
    for form in derivation.forms():
        binding = unify(form.lhs, target, strict_cost=strict)
        if binding is None:
            continue
        renames = bound_renames(form.rhs, binding)
        rhs = substitute(form.rhs, binding, renames)
        if not _layers_exist(rhs, depth):
            continue  # BP2 written at the output layer: it would need a layer L + 1
        factors = tuple((substitute(f.value, binding, renames), f.role) for f in form.factors)
        if numbered:
            rhs = ordered_xreplace(rhs, {nt.L: sp.Integer(depth)})
            factors = tuple((ordered_xreplace(v, {nt.L: sp.Integer(depth)}), role) for v, role in factors)
        if shorthand:
            rhs, factors = to_shorthand(rhs), tuple((to_shorthand(v), role) for v, role in factors)
        out.append(Match(rhs, factors, form.source))
    return out
