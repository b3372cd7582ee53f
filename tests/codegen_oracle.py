"""An independent oracle for the generated gradient code, shared by the codegen tests.

Written by hand for the tests (activations, their derivatives from z, cost slopes, the backprop
loop, central finite differences), in plain NumPy and float64; it imports nothing from
symbackprop, so it shares no code with what it checks.  A softmax output layer goes through its
whole Jacobian, built example by example (J_ij = ∂a_i/∂z_j = a_i(δ_ij − a_j), δᴸ = Jᵀ ∂C/∂a), not
through any simplified form; a regulariser adds its penalty (λ/n) Σ penalty(w) to the cost and
(λ/n) penalty'(w) to the weights' gradients, n being the batch unless given.
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
    "log_likelihood": (lambda a, y: -np.sum(y * np.log(a), axis=1), lambda a, y: -y / a),
}


def _softmax(z):
    # another route than the package's exp(z - max z)/sum: exp(z - ln Σ e^z), the log-sum-exp by np.logaddexp
    return np.exp(z - np.logaddexp.reduce(z, axis=1, keepdims=True))


def _softmax_jacobian(a):
    """J[b, i, j] = ∂a_i/∂z_j = a_i(δ_ij − a_j) for every example b, written out whole."""
    return np.einsum("bi,ij->bij", a, np.eye(a.shape[1])) - np.einsum("bi,bj->bij", a, a)


ORACLE_OUTPUTS = {"softmax": (_softmax, _softmax_jacobian)}  # layers that are not element-wise: (a(z), J(a))

ORACLE_REGULARISERS = {  # name: (penalty of an array of weights, summed; its slope, entry by entry)
    "l2": (lambda W: 0.5 * np.sum(W ** 2), lambda W: W),
    "l1": (lambda W: np.sum(np.abs(W)), np.sign),
}


def _activate(name, z):
    return ORACLE_OUTPUTS[name][0](z) if name in ORACLE_OUTPUTS else ORACLE_ACTIVATIONS[name][0](z)


def oracle_forward(acts, params, X):
    zs, a = [], X
    for layer, name in enumerate(acts, start=1):
        z = a @ params[f"W{layer}"].T + params[f"b{layer}"]
        a = _activate(name, z)
        zs.append(z)
    return zs, a


def oracle_cost(acts, cost, params, X, Y, regulariser=None, n=None):
    """The mean cost over the rows, plus (λ/n) Σ penalty(w) over every weight for ``regulariser``
    (name, λ); n is the number of rows unless given."""
    _, a = oracle_forward(acts, params, X)
    value = np.mean(ORACLE_COSTS[cost][0](a, Y))
    if regulariser is not None:
        name, lam = regulariser
        n = X.shape[0] if n is None else n
        value += lam / n * sum(ORACLE_REGULARISERS[name][0](params[f"W{layer}"]) for layer in range(1, len(acts) + 1))
    return value


def oracle_backprop(acts, cost, params, X, Y, regulariser=None, n=None):
    """The textbook loop: δᴸ = ∂C/∂a · σ'(zᴸ) (a softmax output: δᴸ = Jᵀ ∂C/∂a with its whole Jacobian),
    δˡ = (δˡ⁺¹ Wˡ⁺¹) σ'(zˡ), averaged over the batch; a regulariser (name, λ) adds (λ/n) penalty'(W)."""
    X, Y = X.astype(np.float64), Y.astype(np.float64)
    params = {k: v.astype(np.float64) for k, v in params.items()}
    zs, a = oracle_forward(acts, params, X)
    inputs = [X] + [_activate(name, z) for name, z in zip(acts, zs)][:-1]
    slope = ORACLE_COSTS[cost][1](a, Y)
    if acts[-1] in ORACLE_OUTPUTS:
        delta = np.einsum("bi,bij->bj", slope, ORACLE_OUTPUTS[acts[-1]][1](a))
    else:
        delta = slope * ORACLE_ACTIVATIONS[acts[-1]][1](zs[-1])
    grads = {}
    for layer in range(len(acts), 0, -1):
        grads[f"W{layer}"] = np.einsum("bj,bk->jk", delta, inputs[layer - 1]) / X.shape[0]
        if regulariser is not None:
            name, lam = regulariser
            grads[f"W{layer}"] += lam / (X.shape[0] if n is None else n) * \
                ORACLE_REGULARISERS[name][1](params[f"W{layer}"])
        grads[f"b{layer}"] = delta.mean(axis=0)
        if layer > 1:
            delta = np.einsum("bj,jk->bk", delta, params[f"W{layer}"]) * \
                ORACLE_ACTIVATIONS[acts[layer - 2]][1](zs[layer - 2])
    return grads


def oracle_finite_differences(acts, cost, params, X, Y, h=1e-6, regulariser=None, n=None):
    params = {k: v.astype(np.float64).copy() for k, v in params.items()}
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for i in range(value.size):
            saved = value.flat[i]
            value.flat[i] = saved + h
            up = oracle_cost(acts, cost, params, X, Y, regulariser, n)
            value.flat[i] = saved - h
            down = oracle_cost(acts, cost, params, X, Y, regulariser, n)
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


def probability_targets(batch, width, seed=0, one_hot=False):
    """Targets whose rows add up to 1, as the log-likelihood needs: one-hot labels, or probabilities."""
    rng = np.random.default_rng(seed)
    if one_hot:
        return np.eye(width)[rng.integers(0, width, batch)]
    Y = rng.uniform(0.05, 1.0, (batch, width))
    return Y / Y.sum(axis=1, keepdims=True)


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
