"""The notes' section on a normalised output layer (softmax): its formulas, all from SymPy.

A normalised layer's activation is a_j = e(z_j) / Σ_k e(z_k), with e the registry entry's
``expression``: every output depends on every weighted input of the layer.  This module gathers
what the notes show about such a layer, computed from the derivation and the registries, never
typed: the definition and why the outputs add up to 1, SymPy's derivative of a_i with respect to
z_j (the quotient rule), the two cases i = j and i ≠ j of the Jacobian a_i(δ_ij − a_j), the Jacobian
of a small layer written out, BP1 as a sum over the outputs, and the output error: where the cost's
slope cancels the Jacobian, every step of the cancellation.

It also finds the layer's **one-neuron counterpart** (:func:`counterpart`).  A normalised layer of
one neuron always outputs 1, so the lectures' one-neuron chain cannot show it; the same layer over
two classes with weighted inputs z and 0 is an element-wise activation of z (softmax: the sigmoid),
and the cost over those two classes, with targets y and 1 − y, is a cost of one neuron (the
log-likelihood: the cross-entropy).  Both are found by comparing SymPy expressions with every
registry entry, so nothing here knows a name.
"""

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .. import activations, costs
from .. import notation as nt
from ..derivation import derive, normalised_jacobian
from ..errors import SymbackpropError
from ..printing import ordered_product, ordered_sum, ordered_xreplace, plain
from ..spec import Network

SMALL = 3  # the Jacobian is written out for the layer when it has at most this many outputs, else for 3


def display_order(expr):
    """A product with its plain factors before its sums, as people write it: a_i(δ_ij − a_j)."""
    expr = plain(expr)
    if not isinstance(expr, sp.Mul):
        return expr
    coefficient, factors = expr.as_coeff_mul()
    ordered = ordered_product(*sorted(factors, key=lambda f: isinstance(f, sp.Add)))
    if coefficient == -1:
        return sp.Mul(-1, ordered, evaluate=False)  # − a_i a_j, not (−1) a_i a_j
    return ordered_product(coefficient, ordered) if coefficient != 1 else ordered


# The one-neuron counterpart ---------------------------------------------------------------------

@lru_cache(maxsize=None)
def _counterpart_activation(name):
    """The element-wise activation equal to the normalised layer over the two weighted inputs z and 0."""
    entry = activations.get(name)
    t = sp.Symbol("t", real=True)
    two = entry.expression(t) / (entry.expression(t) + entry.expression(sp.Integer(0)))
    for other in activations.REGISTRY.values():
        if other.elementwise and sp.simplify(two - other.expression(t)) == 0:
            return other.name
    return None


@lru_cache(maxsize=None)
def _counterpart_cost(name, activation):
    """The cost of one neuron equal to this cost over two classes (outputs a, 1 − a; targets y, 1 − y)."""
    entry = costs.get(name)
    if not entry.needs_normalised_output:
        return name
    a, y = nt.output, nt.target
    two = entry.per_neuron(a, y) + entry.per_neuron(1 - a, 1 - y)
    for other in costs.REGISTRY.values():
        if other.needs_normalised_output:
            continue
        try:
            Network((1, 1), (activation,), other.name).validate()
        except SymbackpropError:
            continue
        if sp.simplify(sp.expand_log(two - other.per_neuron(a, y), force=True)) == 0:
            return other.name
    return None


def counterpart(network):
    """(activation name, cost name) of the one-neuron counterpart of the network's normalised
    output layer and its cost, or None when the output layer is element-wise or none is found."""
    out = network.activation(network.depth)
    if out.elementwise:
        return None
    activation = _counterpart_activation(out.name)
    if activation is None:
        return None
    cost = _counterpart_cost(network.cost, activation)
    return None if cost is None else (activation, cost)


def chain_network(network):
    """The one-neuron chain the notes draw for ``network``: its depth, activations and cost, with a
    normalised output layer (which is 1 on one neuron) and its cost replaced by their counterpart."""
    chain = Network((1,) * len(network.sizes), network.activations, network.cost)
    pair = counterpart(network)
    if pair is None:
        return chain
    return Network(chain.sizes, chain.activations[:-1] + (pair[0],), pair[1])


@dataclass
class Counterpart:
    """How the normalised layer and its cost become one neuron's, for the notes' words."""

    activation: object  # the registry entry of the counterpart activation
    cost: object  # the registry entry of the counterpart cost
    same_cost: bool  # the cost needs no counterpart (it is a cost of one neuron already)
    two: tuple  # (e(z)/(e(z) + e(0)), the counterpart's expression, its named form)
    one: tuple  # (e(z)/e(z), 1): the layer of a single neuron
    cost_two: tuple  # (the cost over two classes, the counterpart cost's term)
    error: object  # δ of the counterpart (a − y where it cancels), indexed
    cancels: bool


def counterpart_of(network):
    """The formulas of :class:`Counterpart` for ``network``, or None (no normalised output layer)."""
    pair = counterpart(network)
    if pair is None:
        return None
    out = network.activation(network.depth)
    act, cost = activations.get(pair[0]), costs.get(pair[1])
    z = sp.Symbol("z")
    e = out.expression
    two = e(z) / (e(z) + e(sp.Integer(0)))
    one = sp.Mul(e(z), sp.Pow(e(z), -1, evaluate=False), evaluate=False)
    a, y = nt.output, nt.target
    entry = network.cost_entry
    over_two = ordered_sum(entry.display_term(a, y), entry.display_term(1 - a, 1 - y))
    chain = derive(Network((2, 2), (pair[0],), pair[1]))
    return Counterpart(act, cost, pair[1] == network.cost, (two, act.expression(z), act.named(z)), (one, sp.Integer(1)),
                       (over_two, cost.display_term(a, y)), chain.output_error_indexed, chain.output_error_cancels)


# The section ------------------------------------------------------------------------------------

def output_error(derivation):
    """δ^{(L)}_j for this cost and output activation, written with a^{(L)}_j and y_j (a sum over the
    outputs stays as the derivation wrote it, already indexed)."""
    if derivation.output_error.atoms(sp.Indexed):
        return derivation.output_error
    return derivation.output_error_indexed


def _without_piecewise(expr):
    """j is a neuron of layer L: SymPy's 'for j ≤ n_L − 1' case is the one that holds."""
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])


def _small_jacobian(jacobian, i, width):
    """The Jacobian of a layer of ``width`` outputs, entry (i, j) = ∂a_i/∂z_j, in the concrete neurons."""
    L, j = nt.L, nt.j
    return sp.ImmutableMatrix(width, width, lambda r, c: display_order(
        jacobian.xreplace({i: sp.Integer(r), j: sp.Integer(c)})))


def section(derivation):
    """Everything the notes' section on the normalised output layer shows, or None (element-wise)."""
    network = derivation.network
    entry = network.activation(network.depth)
    if entry.elementwise:
        return None
    L, j, k = nt.L, nt.j, nt.k
    i, jacobian = normalised_jacobian(entry)
    upper = nt.n[L] - 1
    total = sp.Sum(entry.expression(nt.z[L, k]), (k, 0, upper))
    # the definition, and the outputs adding up to 1 (checked by SymPy on a layer of 3)
    a_j = entry.expression(nt.z[L, j]) / total
    added = sp.Sum(entry.expression(nt.z[L, j]), (j, 0, upper))
    three = {nt.n[L]: sp.Integer(SMALL)}
    if sp.simplify((added / total).xreplace(three).doit()) != 1:
        raise ValueError(f"the outputs of {entry.name} do not add up to 1")
    # SymPy's derivative of a_i = e(z_i) / Σ_k e(z_k) with respect to z_j: the quotient rule
    raw = _without_piecewise(sp.diff(entry.expression(nt.z[L, i]) / total, nt.z[L, j]).doit())
    same = display_order(jacobian.xreplace({i: j}))
    other = display_order(jacobian.xreplace({sp.KroneckerDelta(i, j): 0}))
    width = network.width(network.depth)
    width = min(width, SMALL)  # a softmax has at least 2 outputs
    small = _small_jacobian(jacobian, i, width)
    symmetric = sp.simplify(plain(small) - plain(small).T) == sp.zeros(width, width)
    bp1 = derivation.bp_equation("BP1")
    paths = bp1.derived_from
    shown_jacobian = display_order(jacobian)
    bp1_rhs = sp.Sum(ordered_product(*shown_jacobian.args, nt.partial(nt.C0, nt.a[L, i])), (i, 0, upper)) \
        if isinstance(shown_jacobian, sp.Mul) else bp1.index_rhs
    slope_i = ordered_xreplace(derivation.cost_slope, {j: i})
    substituted = sp.Sum(ordered_product(slope_i, *(shown_jacobian.args if isinstance(shown_jacobian, sp.Mul)
                                                     else (shown_jacobian,))), (i, 0, upper))
    # the element-wise mistake: the Jacobian's diagonal alone, as if a_j depended on z_j only
    diagonal = ordered_product(nt.partial(nt.C0, nt.a[L, j]), same)
    steps = [bp1_rhs, substituted]
    targets = sp.Sum(nt.y[i], (i, 0, upper))
    if derivation.output_error_cancels:
        summand = sp.expand(plain(derivation.cost_slope.xreplace({j: i})) * plain(jacobian))
        expanded = sp.Sum(summand, (i, 0, upper))
        collapsed = _pulled_out(_without_piecewise(sp.Sum(summand, (i, 0, upper)).doit()), i)
        if sp.simplify(plain(collapsed).xreplace({targets: 1}) - plain(output_error(derivation))) != 0:
            raise ValueError("the cancellation steps do not reach the derivation's output error")
        steps += [expanded, collapsed]
    steps.append(output_error(derivation))
    return dict(
        entry=entry, i=i, named=entry.named(nt.z[L, j]), a_j=nt.a[L, j], definition=a_j, total=total,
        added=(sp.Sum(nt.a[L, j], (j, 0, upper)), added / total, sp.Integer(1)),
        raw=raw, jacobian=shown_jacobian, jacobian_lhs=nt.partial(nt.a[L, i], nt.z[L, j]),
        same=(nt.partial(nt.a[L, j], nt.z[L, j]), same), other=(nt.partial(nt.a[L, i], nt.z[L, j]), other),
        kronecker=sp.KroneckerDelta(i, j), symmetric=symmetric, width=width,
        small=(nt.partial(nt.a[L], nt.z[L]), small),
        bp1=bp1, paths=paths, cost_slope_i=(nt.partial(nt.C0, nt.a[L, i]), slope_i),
        steps=steps, targets=(targets, sp.Integer(1)), cancels=derivation.output_error_cancels,
        diagonal=(nt.delta[L, j], diagonal), output_error=output_error(derivation),
        counterpart=counterpart_of(network),
    )


def _pulled_out(expr, index):
    """Σ_i c·f(i) written c Σ_i f(i) for every factor c that does not depend on the index i."""
    def pull(s):
        inside = s.function
        if not isinstance(inside, sp.Mul):
            return s
        outside = [f for f in inside.args if not f.has(index)]
        if not outside:
            return s
        rest = sp.Mul(*[f for f in inside.args if f.has(index)])
        return ordered_product(*outside, sp.Sum(rest, *s.limits))

    terms = sp.Add.make_args(expr)
    return ordered_sum(*sorted((pull(t) if isinstance(t, sp.Sum) else t for t in terms),
                               key=lambda t: t.could_extract_minus_sign()))
