"""The derivation's general formulas written out for concrete layers and neurons.

BP1-BP4 are stated for a symbolic layer l and neurons j, k.  For a concrete network this
module substitutes numbers for them, the layer widths for n_l and expands the finite sums, so
``check``, ``verify`` and the tests can compare the derived formulas with ``sympy.diff`` of the
fully expanded cost and with numbers.
"""

import sympy as sp

from . import notation as nt
from .printing import plain


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
    return expr.doit(deep=True) if expr.has(sp.Sum) else expr


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
                formula = concrete(bp1.index_rhs.xreplace(
                    {nt.partial(nt.C0, nt.a[nt.L, nt.j]): derivation.cost_slope}), net, j=j)
            else:
                formula = concrete(bp2.index_rhs, net, l=layer, j=j)
            out[nt.delta[layer, j]] = formula
    return out


def gradient_formulas(derivation):
    """{w[l, j, k] or b[l, j]: the derived formula (BP3, BP4)}, with δ's left as symbols."""
    net = derivation.network
    bp3, bp4 = derivation.bp_equation("BP3"), derivation.bp_equation("BP4")
    out = {}
    for layer in range(1, net.depth + 1):
        rows, cols = net.width(layer), net.width(layer - 1)
        out.update({nt.w[layer, j, k]: concrete(bp4.index_rhs, net, l=layer, j=j, k=k)
                    for j in range(rows) for k in range(cols)})
        out.update({nt.b[layer, j]: concrete(bp3.index_rhs, net, l=layer, j=j) for j in range(rows)})
    return out


def expand_deltas(formulas, delta_formulas):
    """Replace every δ by its formula, from the output layer down (only for small networks)."""
    resolved = {}
    for symbol in sorted(delta_formulas, key=lambda d: -int(d.indices[0])):
        resolved[symbol] = delta_formulas[symbol].xreplace(resolved)
    return {key: value.xreplace(resolved) for key, value in formulas.items()}


def _entry(kind, layer, r, c):
    if kind == "w":
        return nt.w[layer, r, c]
    if kind == "y":
        return nt.y[r]
    if kind == "grad":
        return nt.partial(nt.C0, nt.a[layer, r])
    return {"a": nt.a, "z": nt.z, "b": nt.b, "delta": nt.delta}[kind][layer, r]


def explicit_matrix(expr, network, **indices):
    """A matrix-form expression (BP1-BP4) with every vector and matrix written out entry by
    entry for the concrete layer given (``l=2``), then evaluated: an explicit SymPy Matrix."""
    concrete_of = {}
    for symbol in expr.atoms(sp.MatrixSymbol):
        kind, layer = nt.matrix_part(symbol)
        layer = int(concrete(layer, network, **indices))
        rows = network.width(network.depth if kind == "y" else layer)
        cols = network.width(layer - 1) if kind == "w" else 1
        concrete_of[symbol] = sp.Matrix(rows, cols, lambda r, c, kind=kind, layer=layer: _entry(kind, layer, r, c))
    # doit() would evaluate the entries ∂C₀/∂a of ∇_a C to 0: hold them as symbols meanwhile.
    held = {}
    for matrix in concrete_of.values():
        for entry in matrix:
            if isinstance(entry, sp.Derivative):
                held.setdefault(entry, sp.Dummy("held"))
    explicit = expr.xreplace({s: m.xreplace(held) for s, m in concrete_of.items()})
    return sp.Matrix(explicit.doit()).xreplace({v: e for e, v in held.items()})
