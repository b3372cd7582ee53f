"""The correct right-hand side for a left-hand side, written the way the derivation writes it.

``expected_rhs(lhs, derivation)`` gives, for ∂C₀/∂w^{(l)}_{jk}, ∂C₀/∂b, ∂C₀/∂a (the sum over
paths), δ (BP1, BP2) and their vector forms, the chain-rule product of ``derive``: the cost
slope 2(a − y) (or this cost's own) at the output layer, ∂C₀/∂a^{(l)}_j one layer up
elsewhere (which the student may also write out).  It is shown to the student; the verdict
itself compares numbers with the truth of ``points``.  ``chain_factors`` lists the named
factors along the path, for the diagnosis of a missing or extra factor.
"""

import sympy as sp

from .. import notation as nt
from ..printing import ordered_product, rebuilt
from .forms import Had, MatProd, Tr
from .parse import as_expr, INDEX_LETTERS, index_symbol


def _fresh(*taken):
    """A neuron index letter not in ``taken``: j, then k, then i, m, ..."""
    for name in "jk" + INDEX_LETTERS:
        s = index_symbol(name)
        if s not in taken:
            return s


def is_output(layer, network):
    return as_expr(layer).subs(nt.L, network.depth) == network.depth


def cost_slope(derivation, j):
    return rebuild(derivation.cost_slope, lambda e: e.xreplace({nt.j: j}))


def upstream(layer, j, derivation):
    """∂C₀/∂a^{(l)}_j: this cost's slope at the output layer, else the partial itself."""
    if is_output(layer, derivation.network):
        return cost_slope(derivation, j)
    return nt.partial(nt.C0, nt.a[layer, j])


def _indexed_rhs(kind, layer, idx, derivation):
    """The index form of ∂C₀/∂(kind^{(layer)}_{idx})."""
    if kind == "w":
        j, k = idx
        return ordered_product(nt.a[layer - 1, k], nt.sigma_prime(nt.z[layer, j]), upstream(layer, j, derivation))
    if kind == "b":
        j, = idx
        return ordered_product(nt.sigma_prime(nt.z[layer, j]), upstream(layer, j, derivation))
    if kind in ("z", "delta"):
        j, = idx
        if is_output(layer, derivation.network):
            return ordered_product(cost_slope(derivation, j), nt.sigma_prime(nt.z[layer, j]))
        k = _fresh(j)
        return ordered_product(sp.Sum(ordered_product(nt.w[layer + 1, k, j], nt.delta[layer + 1, k]),
                                      (k, 0, nt.n[layer + 1] - 1)), nt.sigma_prime(nt.z[layer, j]))
    if kind == "a":
        k, = idx
        if is_output(layer, derivation.network):
            return cost_slope(derivation, k)
        j = _fresh(k)
        return sp.Sum(ordered_product(nt.w[layer + 1, j, k], nt.sigma_prime(nt.z[layer + 1, j]),
                                      upstream(layer + 1, j, derivation)), (j, 0, nt.n[layer + 1] - 1))
    return None


def _matrix_rhs(kind, layer, network):
    """Nielsen's vector form for a whole layer: δ^l (a^{l-1})^T, (w^{l+1})^T δ^{l+1}, ..."""
    out = is_output(layer, network)
    if kind == "w":
        return MatProd(nt.delta[layer], Tr(nt.a[layer - 1]))
    if kind == "b":
        return nt.delta[layer]
    if kind in ("z", "delta"):
        if out:
            return Had(nt.grad_a_C(), nt.sigma_prime(nt.z[layer]))
        return Had(MatProd(Tr(nt.w[layer + 1]), nt.delta[layer + 1]), nt.sigma_prime(nt.z[layer]))
    if kind == "a":
        return nt.grad_a_C() if out else MatProd(Tr(nt.w[layer + 1]), nt.delta[layer + 1])
    return None


def rebuild(expr, leaf):
    """``expr`` with ``leaf`` applied to every Indexed, keeping the order of products as written."""
    if isinstance(expr, sp.Indexed):
        return leaf(expr)
    if isinstance(expr, sp.Sum):
        (var, lo, hi), = expr.limits
        return sp.Sum(rebuild(expr.function, leaf), (var, lo, hi))
    if not expr.args or isinstance(expr, sp.Derivative):
        return leaf(expr) if isinstance(expr, sp.Derivative) else expr
    return rebuilt(expr, [rebuild(a, leaf) for a in expr.args])


def _short(e):
    if isinstance(e, sp.Derivative):
        (var, _), = e.variable_count
        return nt.partial(_short(e.expr), _short(var))
    if isinstance(e, sp.Indexed) and (e.base in nt.LAYERED or e.base == nt.y):
        return nt.Y if e.base == nt.y else e.base[e.indices[0]]
    return e


def to_shorthand(expr, network):
    """The lectures' one-neuron notation: a^{(l)}_0 -> a^{(l)}, y_0 -> y, sums of one term dropped."""
    expr = rebuild(expr, lambda e: e.xreplace({nt.j: sp.Integer(0), nt.k: sp.Integer(0)}) if isinstance(e, sp.Indexed) else e)
    expr = expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: e.function.xreplace({e.limits[0][0]: sp.Integer(0)}))
    return rebuild(expr, _short)


_KINDS = {nt.a: "a", nt.z: "z", nt.w: "w", nt.b: "b", nt.delta: "delta"}

LOCAL = {
    # (numerator kind, variable kind): value of the local derivative, the lectures' ratios
    ("z", "w"): lambda num, var: nt.a[var.indices[0] - 1, var.indices[2]] if var.indices[1] == num.indices[1] else 0,
    ("z", "b"): lambda num, var: sp.Integer(1) if var.indices[1] == num.indices[1] else 0,
    ("z", "a"): lambda num, var: nt.w[num.indices[0], num.indices[1], var.indices[1]],
    ("a", "z"): lambda num, var: nt.sigma_prime(nt.z[num.indices[0], num.indices[1]]),
}


def target(lhs):
    """(kind, layer, neuron indices or None) of what the left-hand side differentiates the cost by."""
    if isinstance(lhs, sp.Derivative):
        (var, _), = lhs.variable_count
        return _KINDS[var.base], var.indices[0], (list(var.indices[1:]) or None)
    if isinstance(lhs, sp.Indexed) and lhs.base == nt.delta:
        return "delta", lhs.indices[0], (list(lhs.indices[1:]) or None)
    if isinstance(lhs, nt.grad_a_C):
        return "a", nt.L, None
    return None


def expected_rhs(lhs, derivation, shorthand):
    """The derivation's right-hand side for ``lhs``, or None when there is none to show."""
    network = derivation.network
    if isinstance(lhs, sp.Derivative) and lhs.expr not in (nt.C, nt.C0, nt.Cx):
        (var, _), = lhs.variable_count
        num = lhs.expr
        full = lambda e: e.base[(e.indices[0], *([0, 0] if e.base == nt.w else [0]))] if len(e.indices) == 1 else e
        rule = LOCAL.get((_KINDS[num.base], _KINDS[var.base]))
        if rule is None or num.indices[0] != var.indices[0]:
            return None
        value = as_expr(rule(full(num), full(var)))
        return to_shorthand(value, network) if shorthand else value
    kind, layer, idx = target(lhs)
    if idx is None and not shorthand:
        return _matrix_rhs(kind, layer, network)
    if idx is None:
        idx = [sp.Integer(0), sp.Integer(0)] if kind == "w" else [sp.Integer(0)]
    value = _indexed_rhs(kind, layer, idx, derivation)
    if not as_expr(layer).free_symbols:  # a numbered layer: the output layer by its number too
        value = rebuild(value, lambda e: e.xreplace({nt.L: sp.Integer(network.depth)}))
    return to_shorthand(value, network) if shorthand else value


def chain_factors(lhs, derivation, shorthand):
    """[(name, expression, role)] of the chain-rule factors of ∂C₀/∂target (index form)."""
    network = derivation.network
    found = target(lhs) if not (isinstance(lhs, sp.Derivative) and lhs.expr not in (nt.C, nt.C0, nt.Cx)) else None
    if found is None:
        return []
    kind, layer, idx = found
    if idx is None:
        if not shorthand:
            return []
        idx = [sp.Integer(0), sp.Integer(0)] if kind == "w" else [sp.Integer(0)]
    out = []
    j = idx[0]
    if kind == "w":
        out.append((nt.a[layer - 1, idx[1]], "input_activation"))
    if kind == "a":
        if not shorthand:
            return []
        out.append((nt.w[layer + 1, 0, 0], "weight"))
        layer, j = layer + 1, sp.Integer(0)
    out.append((nt.sigma_prime(nt.z[layer, j]), "activation_slope"))
    if kind == "w":
        out.append((nt.w[layer, idx[0], idx[1]], "weight"))
    if shorthand:  # the whole path up to the output: w and σ' of every later layer, then the cost slope
        m = layer
        while not is_output(m, network) and as_expr(m).subs(nt.L, network.depth).is_Integer \
                and as_expr(m).subs(nt.L, network.depth) < network.depth:
            m = m + 1
            out.append((nt.w[m, 0, 0], "weight"))
            out.append((nt.sigma_prime(nt.z[m, 0]), "activation_slope"))
        out.append((cost_slope(derivation, sp.Integer(0)), "cost_slope"))
    elif is_output(layer, network):
        out.append((cost_slope(derivation, j), "cost_slope"))
    else:
        out.append((nt.partial(nt.C0, nt.a[layer, j]), "upstream"))
    if shorthand:
        out = [(to_shorthand(e, network), role) for e, role in out]
    return list(dict.fromkeys(out))
