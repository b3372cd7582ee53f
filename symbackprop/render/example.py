"""The notes' worked example: this network's numbers at seeded parameters, followed by hand.

Every number comes from ``numeric`` (the one numerical backprop), checked against central
finite differences (``numeric.finite_differences`` on ``numeric.sample_entries`` for a big
network); the factors of each chain-rule step are evaluated from the derivation's own factors.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import numeric
from ..printing import plain

SEED = 0
FD_ALL = 400  # parameters up to which the worked example checks every derivative by finite differences
MATRIX_LIMIT = 10  # print a parameter or gradient matrix when neither side exceeds this


def _number(value, digits=4):
    value = float(value)
    return sp.Float(value, digits) if value != 0 else sp.Integer(0)


def _fixed(value, decimals=3):
    """A number with a fixed number of decimals, so that the columns of a matrix stay narrow."""
    return sp.Float(f"{float(value):.{decimals}f}")


def _matrix(array):
    array = np.atleast_2d(array)
    return sp.Matrix(array.shape[0], array.shape[1], lambda r, c: _fixed(array[r, c]))


@dataclass
class FactorValue:
    factor: object
    value: object  # a number (SymPy Float)


@dataclass
class NumericStep:
    step: object
    factors: list
    product: object
    backprop: object  # None for ∂C₀/∂a steps
    finite_difference: object


@dataclass
class NumericLayer:
    number: int
    label: object
    weights: object  # sp.Matrix or None when too large
    biases: object
    delta: object
    grad_w: object
    shape: tuple


def chain_numbers(derivation):
    """The chain of the same depth at seeded parameters: each factor's value, each gradient,
    checked against the numerical backprop and central finite differences."""
    net = derivation.network.one_neuron_chain()
    depth = net.depth
    params = numeric.init_params(net, SEED)
    X, Y = numeric.random_batch(net, 1, SEED + 1)
    zs, acts = numeric.forward(net, params, X)
    grads = numeric.backprop(net, params, X, Y)
    fd = numeric.finite_differences(net, params, X, Y)
    values = {nt.target: sp.Float(Y[0, 0])}
    for layer in range(depth + 1):
        values[nt.a[layer]] = sp.Float(acts[layer][0, 0])
    for layer in range(1, depth + 1):
        values[nt.z[layer]] = sp.Float(zs[layer][0, 0])
        values[nt.w[layer]] = sp.Float(params[f"W{layer}"][0, 0])
        values[nt.b[layer]] = sp.Float(params[f"b{layer}"][0])
        # σ'(z^{(l)}) of layer l's own activation, from its output a = σ(z) (no sympy.diff per factor)
        slope = net.activation(layer).derivative_from_output(sp.Float(acts[layer][0, 0]))
        values[nt.sigma_prime(nt.z[layer])] = sp.Float(sp.N(slope))
    upstream = {}
    steps = []
    for step in derivation.chain.steps:
        numbers = []
        for factor in step.factors:
            expr = plain(factor.value).xreplace(upstream).xreplace({nt.L: sp.Integer(depth)})
            expr = expr.xreplace(values)
            numbers.append(float(sp.N(expr)))
        product = float(np.prod(numbers))
        target = step.target
        if target.base == nt.a:
            upstream[step.lhs] = sp.Float(product)
            reference = fd_value = None
        else:
            layer = int(nt.concrete_layer(nt.layer_of(target), depth))
            key = f"{'W' if target.base == nt.w else 'b'}{layer}"
            reference, fd_value = float(grads[key].flat[0]), float(fd[key].flat[0])
        steps.append(NumericStep(step, [FactorValue(f, _number(v)) for f, v in zip(step.factors, numbers)],
                                 _number(product), None if reference is None else _number(reference),
                                 None if fd_value is None else _number(fd_value)))
    table = [(nt.relative_layer(layer, depth), _number(values[nt.w[layer]]), _number(values[nt.b[layer]]),
              _number(values[nt.z[layer]]), _number(values[nt.a[layer]])) for layer in range(depth, 0, -1)]
    diffs = [abs(float(grads[k].flat[0]) - float(fd[k].flat[0])) for k in grads]
    return dict(network=net, x=_number(X[0, 0]), y=_number(Y[0, 0]), a0=nt.a[nt.L - depth], layers=table,
                steps=steps, cost=_number(numeric.cost(net, params, X, Y)), max_difference=_number(max(diffs), 2))


def network_numbers(network):
    """The user's network at seeded parameters: δ and ∂C/∂w per layer, and a check of all of
    them against finite differences (sampled for large networks)."""
    params = numeric.init_params(network, SEED)
    X, Y = numeric.random_batch(network, 1, SEED + 1)
    grads = numeric.backprop(network, params, X, Y)
    entries = numeric.sample_entries(params, FD_ALL, SEED) if network.num_parameters > FD_ALL else None
    fd = numeric.finite_differences(network, params, X, Y, entries=entries)
    diff = max(float(np.nanmax(np.abs(grads[k] - fd[k]))) for k in grads)
    checked = sum(int(np.isfinite(fd[k]).sum()) for k in fd)

    def shown(array):
        array = np.atleast_2d(array)
        return _matrix(array) if max(array.shape) <= MATRIX_LIMIT else None

    layers = []
    for layer in range(network.depth, 0, -1):
        W = params[f"W{layer}"]
        layers.append(NumericLayer(layer, nt.relative_layer(layer, network.depth), shown(W),
                                   shown(params[f"b{layer}"][:, None]), shown(grads[f"b{layer}"][:, None]),
                                   shown(grads[f"W{layer}"]), W.shape))
    small = max(network.width(0), network.width(network.depth)) <= MATRIX_LIMIT
    return dict(x=_matrix(X.T) if small else None, y=_matrix(Y.T) if small else None, layers=layers,
                cost=_number(numeric.cost(network, params, X, Y)), max_difference=_number(diff, 2),
                checked=checked, total=network.num_parameters)


