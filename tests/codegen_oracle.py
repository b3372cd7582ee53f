"""An independent oracle for the generated gradient code, shared by the codegen tests.

Written by hand for the tests (activations, their derivatives from z, cost slopes, the backprop
loop, central finite differences), in plain NumPy and float64; it imports nothing from
symbackprop, so it shares no code with what it checks.
"""

import numpy as np


def _sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # another route than the package's 1/(1 + e^{-z})


ORACLE_ACTIVATIONS = {  # name: (σ(z), σ'(z)), σ' as a function of z
    "sigmoid": (_sig, lambda z: _sig(z) * _sig(-z)),
    "tanh": (np.tanh, lambda z: 1.0 / np.cosh(z) ** 2),
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z: np.where(z > 0, 1.0, 0.0)),
    "identity": (lambda z: z, np.ones_like),
    "softplus": (lambda z: np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))), _sig),
}

ORACLE_COSTS = {  # name: (per-example cost, ∂C₀/∂a)
    "quadratic": (lambda a, y: np.sum((a - y) ** 2, axis=1), lambda a, y: 2 * (a - y)),
    "half_quadratic": (lambda a, y: 0.5 * np.sum((a - y) ** 2, axis=1), lambda a, y: a - y),
    "cross_entropy": (lambda a, y: -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a), axis=1),
                      lambda a, y: (a - y) / (a * (1 - a))),
}


def oracle_forward(acts, params, X):
    zs, a = [], X
    for layer, name in enumerate(acts, start=1):
        z = a @ params[f"W{layer}"].T + params[f"b{layer}"]
        a = ORACLE_ACTIVATIONS[name][0](z)
        zs.append(z)
    return zs, a


def oracle_cost(acts, cost, params, X, Y):
    _, a = oracle_forward(acts, params, X)
    return np.mean(ORACLE_COSTS[cost][0](a, Y))


def oracle_backprop(acts, cost, params, X, Y):
    """The textbook loop: δᴸ = ∂C/∂a · σ'(zᴸ), δˡ = (δˡ⁺¹ Wˡ⁺¹) σ'(zˡ), averaged over the batch."""
    X, Y = X.astype(np.float64), Y.astype(np.float64)
    params = {k: v.astype(np.float64) for k, v in params.items()}
    zs, a = oracle_forward(acts, params, X)
    inputs = [X] + [ORACLE_ACTIVATIONS[name][0](z) for name, z in zip(acts, zs)][:-1]
    delta = ORACLE_COSTS[cost][1](a, Y) * ORACLE_ACTIVATIONS[acts[-1]][1](zs[-1])
    grads = {}
    for layer in range(len(acts), 0, -1):
        grads[f"W{layer}"] = np.einsum("bj,bk->jk", delta, inputs[layer - 1]) / X.shape[0]
        grads[f"b{layer}"] = delta.mean(axis=0)
        if layer > 1:
            delta = np.einsum("bj,jk->bk", delta, params[f"W{layer}"]) * \
                ORACLE_ACTIVATIONS[acts[layer - 2]][1](zs[layer - 2])
    return grads


def oracle_finite_differences(acts, cost, params, X, Y, h=1e-6):
    params = {k: v.astype(np.float64).copy() for k, v in params.items()}
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for i in range(value.size):
            saved = value.flat[i]
            value.flat[i] = saved + h
            up = oracle_cost(acts, cost, params, X, Y)
            value.flat[i] = saved - h
            down = oracle_cost(acts, cost, params, X, Y)
            value.flat[i] = saved
            grad.flat[i] = (up - down) / (2 * h)
        grads[name] = grad
    return grads


def random_problem(sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = rng.normal(0, 1 / np.sqrt(sizes[layer - 1]), (sizes[layer], sizes[layer - 1]))
        params[f"b{layer}"] = rng.normal(0, 0.5, sizes[layer])
    X = rng.normal(0, 1, (batch, sizes[0]))
    Y = rng.uniform(0.05, 0.95, (batch, sizes[-1]))
    return params, X, Y


def close(got, want, rtol, atol_scale):
    for name in want:
        scale = max(np.abs(want[name]).max(), 1e-3)
        np.testing.assert_allclose(got[name], want[name], rtol=rtol, atol=atol_scale * scale, err_msg=name)


BLOCK_SYMPY = """
import sys
class _NoSympy:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("sympy", "symbackprop", "jinja2", "mpmath"):
            raise ImportError(f"{name} is not available here")
sys.meta_path.insert(0, _NoSympy())
"""
