"""The notes' section on a regulariser (weight decay, L1): its formulas and the worked example's step.

The formulas come from the derivation's ``regularisation`` (C = C₀ + (λ/n) Σ penalty(w), ∂C/∂w =
∂C₀/∂w + (λ/n) penalty'(w) with SymPy's penalty', ∂C/∂b = ∂C₀/∂b); this module only rearranges
the gradient-descent step w − η ∂C/∂w the way chapter 3 reads it, by SymPy: where penalty'(w) is
a multiple of w (L2) the step is (1 − ηλ/n) w − η ∂C₀/∂w, a decay factor; otherwise (L1, sgn(w))
it is w − η ∂C₀/∂w − (ηλ/n) penalty'(w), a step of constant size towards 0.  Nothing branches on a
regulariser's name: the form follows from the derivative.

The numbers are the hand example's (``example.hand_example``) with the regulariser added, from
``numeric`` (whose cost and gradients include the penalty with n = the rows of X: here the one
example, n = 1): the penalised gradient, one step that lowers the penalised cost, the decay factor.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import numeric
from ..printing import ordered_product, ordered_sum, ordered_xreplace, plain
from ..spec import Network
from .example import RATE, Combination, exactly, given, grid, number

ETA = sp.Symbol("eta")


def strength(value):
    """λ as SymPy prints it in a formula: 5 rather than 5.0, 0.1 as typed."""
    value = float(value)
    return sp.Integer(int(value)) if value.is_integer() else sp.Float(f"{value:g}", 6)


@dataclass
class Decay:
    """One regulariser of the network, as the notes show it."""

    regularisation: object  # the derivation's Regularisation
    entry: object  # the registry entry
    strength: float  # λ
    slope: object  # penalty'(w_jk), by SymPy (w, sgn(w))
    linear: object  # c where penalty'(w) = c w (a decay factor), else None (a constant step)
    step: tuple  # (w − η ∂C/∂w, the same with ∂C/∂w written out, the same rearranged)
    factor: object  # 1 − ηλc/n, or None
    shift: object  # ηλ/n, the size of the constant step, or None
    factor_here: object  # the same with this network's λ
    shift_here: object
    matrix_step: tuple  # the whole layer: w^{(l)} − η ∂C/∂w^{(l)} = ...

    def matrix_step_at(self, layer):
        """(w − η ∂C/∂w, the step rearranged) for the whole weight matrix of ``layer``."""
        return self.step_of(nt.w[layer])

    def step_of(self, w):
        """(w − η ∂C/∂w, the step rearranged) for the weight (or weight matrix) ``w``."""
        slope_of = self.slope.xreplace({nt.w[nt.l, nt.j, nt.k]: w})
        gradient = nt.partial(nt.C, w)
        minus = lambda *factors: sp.Mul(-1, ordered_product(*factors), evaluate=False)
        grad0 = minus(ETA, nt.partial(nt.C0, w))
        if self.factor is not None:
            step = ordered_sum(ordered_product(self.factor, w), grad0)
        else:
            step = ordered_sum(w, grad0, minus(self.shift, slope_of))
        return ordered_sum(w, minus(ETA, gradient)), step


def decays(derivation):
    """A :class:`Decay` per regulariser of the network (none: an empty list)."""
    out = []
    l, j, k = nt.l, nt.j, nt.k
    w, share = nt.w[l, j, k], nt.lam / nt.n_examples
    for r, (entry, value) in zip(derivation.regularisation, derivation.network.regularisers):
        grad0 = nt.partial(nt.C0, w)
        slope = sp.simplify((plain(r.weight.rhs) - grad0) / share)
        ratio = sp.simplify(slope / w)
        linear = ratio if not ratio.has(w) else None
        full = ordered_sum(w, sp.Mul(-1, ordered_product(ETA, r.weight.lhs), evaluate=False))
        written = ordered_sum(w, sp.Mul(-1, ordered_product(ETA, grad0), evaluate=False),
                              sp.Mul(-1, ordered_product(ETA * share, slope), evaluate=False))
        if linear is not None:
            factor = ordered_sum(1, -ETA * share * linear)
            shift = None
            rearranged = ordered_sum(ordered_product(factor, w), sp.Mul(-1, ordered_product(ETA, grad0), evaluate=False))
        else:
            factor, shift = None, ETA * share
            rearranged = written
        lam_value = {nt.lam: strength(value)}
        if sp.simplify(plain(rearranged) - plain(w - ETA * r.weight.rhs)) != 0:
            raise ValueError(f"the step of {entry.name} does not rearrange to w − η ∂C/∂w")
        out.append(Decay(r, entry, value, slope, linear,
                         (full, written) if rearranged is written else (full, written, rearranged), factor, shift,
                         None if factor is None else ordered_sum(1, -(ETA * share * linear).xreplace(lam_value)),
                         None if shift is None else shift.xreplace(lam_value), None))
        out[-1].matrix_step = out[-1].matrix_step_at(l)
    return out


@dataclass
class DecayLayer:
    label: object
    weights: object  # Grid: w^{(l)}
    grad0: object  # ∂C₀/∂w^{(l)}
    slope: object  # penalty'(w^{(l)}) entry by entry
    grad: object  # ∂C/∂w^{(l)} = ∂C₀/∂w^{(l)} + (λ/n) penalty'(w^{(l)})
    gradient_sum: object  # the same as a Combination of the grids
    step: object  # the new weights as a Combination
    new_weights: object
    bias_step: object  # b − η ∂C₀/∂b, as without the penalty
    new_biases: object
    grad_lhs: object = None
    step_lhs: object = None
    step_rhs: object = None
    bias_lhs: object = None


def decay_example(derivation, hand, decay):
    """The hand example with the regulariser ``decay`` added: the penalised cost, its gradient and one
    gradient-descent step, which lowers the penalised cost (η halved from RATE until it does)."""
    plain_net = hand["network"]
    net = Network(plain_net.sizes, plain_net.activations, plain_net.cost, derivation.network.regularisation)
    params, X, Y = hand["params"], hand["X"], hand["Y"]
    n = len(X)
    before = numeric.cost(net, params, X, Y)
    c0 = numeric.cost(plain_net, params, X, Y)
    back = numeric.backward(net, params, X, Y)
    grads = back.grads
    lam = decay.strength
    rate, flipped, overshot = RATE, False, False
    while rate > 1e-4:  # halved until the step lowers the cost, and a decay factor stays above 0
        if decay.linear is not None and 1 - rate * lam * float(decay.linear) / n <= 0:
            flipped = True
        elif numeric.cost(net, {k: params[k] - rate * grads[k] for k in params}, X, Y) >= before:
            overshot = True
        else:
            break
        rate /= 2
    new = {k: params[k] - rate * grads[k] for k in params}
    after = numeric.cost(net, new, X, Y)
    fd = numeric.finite_differences(net, params, X, Y)
    diff = max(float(np.max(np.abs(grads[k] - fd[k]))) for k in grads)
    exact = given(plain_net)
    share = number(lam / n)
    factor = 1 - rate * lam * float(decay.linear) / n if decay.linear is not None else None
    shift = rate * lam / n if decay.linear is None else None
    layers = []
    for layer in range(1, net.depth + 1):
        W = params[f"W{layer}"]
        g0, g = hand["grads"][f"W{layer}"], grads[f"W{layer}"]
        slope = decay.entry.numpy_slope(W)
        label = sp.Integer(layer)
        w_grid = grid(W, exact)
        if factor is not None:
            step = Combination([("", number(factor), w_grid), ("-", exactly(rate), grid(g0))])
            slope_grid = w_grid
        else:
            slope_grid = grid(slope, 0)
            step = Combination([("", None, w_grid), ("-", exactly(rate), grid(g0)), ("-", number(shift), slope_grid)])
        layers.append(DecayLayer(
            label, w_grid, grid(g0), slope_grid, grid(g),
            Combination([("", None, grid(g0)), ("+", share, slope_grid)]), step, grid(new[f"W{layer}"]),
            Combination([("", None, grid(params[f"b{layer}"][:, None], exact)), ("-", exactly(rate),
                                                                            grid(grads[f"b{layer}"][:, None]))]),
            grid(new[f"b{layer}"][:, None]),
            grad_lhs=ordered_xreplace(decay.regularisation.matrix.lhs, {nt.l: label}),
            step_lhs=decay.matrix_step_at(label)[0], step_rhs=decay.matrix_step_at(label)[1],
            bias_lhs=ordered_sum(nt.b[label], sp.Mul(-1, ordered_product(ETA, nt.partial(nt.C, nt.b[label])),
                                                         evaluate=False))))
    penalty = before - c0
    # one weight to ask about in the exercises: into neuron 0 of layer 1 from input 1 (as the hand example's)
    k = min(1, net.width(0) - 1)
    w_value, g0_value = params["W1"][0, k], hand["grads"]["W1"][0, k]
    weight = nt.w[1, 0, k]
    w_n, g_n, rate_n = number(w_value, exact), number(g0_value), exactly(rate)
    if factor is not None:
        numbers = Combination([("", number(factor), w_n), ("-", rate_n, g_n)])
    else:
        numbers = Combination([("", None, w_n), ("-", rate_n, g_n),
                               ("-", number(shift), number(decay.entry.numpy_slope(np.array(w_value)), 0))])
    asked = dict(lhs=decay.step_of(weight)[0],
                 numbers=numbers, weight=weight, before=number(w_value, exact), grad0=number(g0_value), new=number(new["W1"][0, k]),
                 grad0_symbol=nt.partial(nt.C0, weight), rate=exactly(rate), strength=strength(lam), n=n,
                 factor=None if factor is None else number(factor), shift=None if shift is None else number(shift),
                 sign=None if factor is not None else number(decay.entry.numpy_slope(np.array(w_value)), 0),
                 step=decay.step_of(weight)[1],
                 values=(float(w_value), float(g0_value), float(new["W1"][0, k])))
    return dict(asked=asked,
        network=net, n=n, rate=exactly(rate), rate_halved=rate < RATE, first_rate=exactly(RATE),
        factor_flipped=flipped, rate_overshot=overshot,
        cost0=number(c0), penalty=number(penalty), cost=number(before), cost_after=number(after),
        drop=number(before - after), lowers=after < before, max_difference=number(diff),
        factor=None if factor is None else number(factor), shift=None if shift is None else number(shift),
        share=share, layers=layers, values=dict(before=before, after=after, rate=rate, factor=factor, shift=shift),
        params=params, new=new, X=X, Y=Y,
    )
