"""Plain NumPy numbers for a network: parameters, forward pass, backprop, finite differences.

This is ``check``'s numerical backprop: the matrix form applied to a batch, with σ' and ∂C/∂a
lambdified from the registries' SymPy expressions.  Parameters are a dict
``{"W1": (n1, n0), "b1": (n1,), ...}``, inputs ``X`` are (batch, n0), targets ``Y`` (batch, nL),
and the cost is the mean over the batch of the per-example cost, as everywhere in symbackprop.
"""

from functools import lru_cache

import numpy as np
import sympy as sp


def parameter_names(network):
    return [name for layer in range(1, network.depth + 1) for name in (f"W{layer}", f"b{layer}")]


def init_params(network, seed=0, dtype=np.float64):
    """W^{(l)} ~ N(0, 1/n_{l-1}) (scaled by fan-in), b^{(l)} ~ N(0, 1), from ``seed``."""
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, network.depth + 1):
        rows, cols = network.width(layer), network.width(layer - 1)
        params[f"W{layer}"] = (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(dtype)
        params[f"b{layer}"] = rng.standard_normal(rows).astype(dtype)
    return params


def random_batch(network, batch, seed=1):
    """Inputs ~ N(0, 1) and targets in (0.05, 0.95), valid for every cost."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, network.width(0)))
    Y = rng.uniform(0.05, 0.95, (batch, network.width(network.depth)))
    return X, Y


@lru_cache(maxsize=None)
def _slope_from_output(name):
    from . import activations

    a = sp.Symbol("a")
    return sp.lambdify(a, activations.get(name).derivative_from_output(a), "numpy")


@lru_cache(maxsize=None)
def cost_slope(name):
    """∂c/∂a of the cost ``name`` as a NumPy function of (a, y), from SymPy's derivative."""
    from . import costs

    a, y = sp.symbols("a y")
    return sp.lambdify((a, y), sp.diff(costs.get(name).per_neuron(a, y), a), "numpy")


def forward(network, params, X):
    """Lists zs[l], acts[l] (acts[0] = X), each (batch, n_l)."""
    acts, zs = [np.asarray(X)], [None]
    for layer in range(1, network.depth + 1):
        z = acts[-1] @ params[f"W{layer}"].T + params[f"b{layer}"]
        zs.append(z)
        acts.append(network.activation(layer).numpy(z))
    return zs, acts


def cost(network, params, X, Y):
    zs, acts = forward(network, params, X)
    return float(np.mean(network.cost_entry.numpy(acts[-1], zs[-1], Y)))


def backprop(network, params, X, Y):
    """BP1-BP4 on the batch, averaged over the examples."""
    zs, acts = forward(network, params, X)
    batch = acts[0].shape[0]
    L = network.depth
    slope = lambda layer: np.broadcast_to(_slope_from_output(network.activations[layer - 1])(acts[layer]), acts[layer].shape)
    delta = cost_slope(network.cost)(acts[L], Y) * slope(L)
    grads = {}
    for layer in range(L, 0, -1):
        grads[f"W{layer}"] = delta.T @ acts[layer - 1] / batch
        grads[f"b{layer}"] = delta.sum(axis=0) / batch
        if layer > 1:
            delta = (delta @ params[f"W{layer}"]) * slope(layer - 1)
    return {name: grads[name] for name in parameter_names(network)}


def finite_differences(network, params, X, Y, h=1e-6, entries=None):
    """Central differences (C(θ+h) − C(θ−h)) / 2h, for every entry or only ``entries``.

    ``entries`` maps a parameter name to the flat indices to perturb; the others stay NaN.
    """
    grads = {}
    for name in parameter_names(network):
        value = params[name]
        grad = np.full(value.shape, np.nan)
        which = range(value.size) if entries is None else entries[name]
        for index in which:
            saved = value.flat[index]
            value.flat[index] = saved + h
            up = cost(network, params, X, Y)
            value.flat[index] = saved - h
            down = cost(network, params, X, Y)
            value.flat[index] = saved
            grad.flat[index] = (up - down) / (2 * h)
        grads[name] = grad
    return grads
