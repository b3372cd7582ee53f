"""Plain NumPy numbers for a network: parameters, forward pass, backprop, forward mode, finite
differences.  The one numerical implementation that ``check``, the notes' worked example and
verify's sample points all use.

It is the matrix form applied to a batch, with σ' and ∂C/∂a lambdified from the registries'
SymPy expressions (never from the derivation, which it checks).  Parameters are a dict
``{"W1": (n1, n0), "b1": (n1,), ...}``, inputs ``X`` are (batch, n0), targets ``Y`` (batch, nL),
and the cost is the mean over the batch of the per-example cost, as everywhere in symbackprop.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from . import activations, costs
from . import notation as nt

# σ' at a kink (ReLU's z = 0) is the registry's own choice, stated in its prose: H(0) = 0
_MODULES = [{"Heaviside": lambda v, at_zero=0: np.heaviside(v, 0)}, "numpy"]


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
    """Inputs ~ N(0, 1) and targets in (0.05, 0.95), valid for every cost; for a cost that needs a
    normalised output (log-likelihood) each row of targets is scaled to add up to 1, as its δ = a − y assumes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, network.width(0)))
    Y = rng.uniform(0.05, 0.95, (batch, network.width(network.depth)))
    if network.cost_entry.needs_normalised_output:
        Y /= Y.sum(axis=1, keepdims=True)
    return X, Y


@lru_cache(maxsize=None)
def slope_from_output(name):
    """σ'(z) of the activation ``name`` as a NumPy function of a = σ(z)."""
    return sp.lambdify(nt.output, activations.get(name).derivative_from_output(nt.output), _MODULES)


@lru_cache(maxsize=None)
def slope_of_z(name):
    """σ'(z) of the activation ``name`` as a NumPy function of z, from SymPy's derivative."""
    t = sp.Symbol("t", real=True)
    return sp.lambdify(t, activations.get(name).derivative(t), _MODULES)


@lru_cache(maxsize=None)
def cost_slope(name):
    """∂c/∂a of the cost ``name`` as a NumPy function of (a, y), from SymPy's derivative."""
    a, y = nt.output, nt.target
    return sp.lambdify((a, y), sp.diff(costs.get(name).per_neuron(a, y), a), "numpy")


def _filled(values, like):
    """A slope that SymPy simplified to a constant, broadcast to the shape of ``like``."""
    return np.broadcast_to(np.asarray(values, dtype=float), np.shape(like))


def forward(network, params, X):
    """Lists zs[l], acts[l] (acts[0] = X), each (batch, n_l)."""
    acts, zs = [np.asarray(X)], [None]
    for layer in range(1, network.depth + 1):
        z = acts[-1] @ params[f"W{layer}"].T + params[f"b{layer}"]
        zs.append(z)
        acts.append(network.activation(layer).numpy(z))
    return zs, acts


def penalty(network, params, n):
    """The regularisers' (λ/n) Σ_w penalty(w) over every weight (0 without regularisation)."""
    return sum(lam / n * entry.numpy_penalty(params[f"W{layer}"])
               for entry, lam in network.regularisers for layer in range(1, network.depth + 1))


def cost(network, params, X, Y):
    """The mean cost over the rows of X, Y, with the regularisers' penalty (n = the rows)."""
    zs, acts = forward(network, params, X)
    return float(np.mean(network.cost_entry.numpy(acts[-1], zs[-1], Y))) + penalty(network, params, len(X))


@dataclass
class Backward:
    """Every derivative of the mean cost that backprop finds, per layer (index 0 unused for z)."""

    zs: list
    acts: list
    d_a: list  # ∂C/∂a^{(l)}, (batch, n_l), of the per-example costs
    delta: list  # δ^{(l)} = ∂C/∂z^{(l)}, (batch, n_l), of the per-example costs
    grads: dict  # {"W1": ∂C/∂W1, ...} of the mean


def backward(network, params, X, Y):
    """BP1-BP4 on the batch: the δ of every example and layer, and the gradients of the mean."""
    zs, acts = forward(network, params, X)
    batch = acts[0].shape[0]
    L = network.depth
    d_a, delta = [None] * (L + 1), [None] * (L + 1)
    d_a[L] = _filled(cost_slope(network.cost)(acts[L], Y), acts[L])
    grads = {}
    for layer in range(L, 0, -1):
        delta[layer] = through_activation(network, layer, acts[layer], d_a[layer])
        grads[f"W{layer}"] = delta[layer].T @ acts[layer - 1] / batch
        for entry, lam in network.regularisers:  # ∂C/∂w = ∂C₀/∂w + (λ/n) penalty'(w); biases are not penalised
            grads[f"W{layer}"] = grads[f"W{layer}"] + lam / batch * entry.numpy_slope(params[f"W{layer}"])
        grads[f"b{layer}"] = delta[layer].sum(axis=0) / batch
        d_a[layer - 1] = delta[layer] @ params[f"W{layer}"]
    return Backward(zs, acts, d_a, delta, {name: grads[name] for name in parameter_names(network)})


def through_activation(network, layer, a, d_a):
    """∂C/∂z from ∂C/∂a across layer ``layer``'s activation: σ'(z) ⊙ ∂C/∂a entry by entry, or for a
    normalised layer (softmax) Jᵀ ∂C/∂a with J_ij = a_i(δ_ij − a_j): a ⊙ (∂C/∂a − Σ_i a_i ∂C/∂a_i)."""
    entry = network.activation(layer)
    if not entry.elementwise:
        return a * (d_a - np.sum(a * d_a, axis=-1, keepdims=True))
    return d_a * _filled(slope_from_output(entry.name)(a), a)


def backprop(network, params, X, Y):
    """The gradients of the mean cost, {"W1": ..., "b1": ...}."""
    return backward(network, params, X, Y).grads


def tangent(network, params, zs, acts, kind, layer, index):
    """Forward mode for one example: (dz, da) per layer when the quantity (kind in a, z, b, w;
    layer; neuron index, or (j, k) for w) moves by 1, from its forward pass ``zs``, ``acts``
    (lists of 1-D arrays)."""
    depth = network.depth
    dz, da = [None] * (depth + 1), [None] * (depth + 1)
    if kind == "a":
        da[layer] = np.zeros(network.width(layer))
        da[layer][index[0]] = 1.0
    else:
        seed = np.zeros(network.width(layer))
        seed[index[0]] = acts[layer - 1][index[1]] if kind == "w" else 1.0  # w_jk moves z_j by a_k
        dz[layer] = seed
        da[layer] = _tangent_activation(network, layer, zs[layer], acts[layer], seed)
    for m in range(layer + 1, depth + 1):
        dz[m] = params[f"W{m}"] @ da[m - 1]
        da[m] = _tangent_activation(network, m, zs[m], acts[m], dz[m])
    return dz, da


def _tangent_activation(network, layer, z, a, dz):
    """da from dz across the layer's activation: σ'(z) dz, or J dz = a ⊙ (dz − Σ a dz) for softmax."""
    if not network.activation(layer).elementwise:
        return a * (dz - np.sum(a * dz))
    return slope_of_z(network.activations[layer - 1])(z) * dz


def sample_entries(params, count, seed=0):
    """About ``count`` flat indices spread over every tensor in proportion to its size (at least
    one each): the entries a finite-difference check can afford on a big network."""
    rng = np.random.default_rng(seed)
    total = sum(p.size for p in params.values())
    share = min(1.0, count / total)
    return {name: np.sort(rng.choice(p.size, max(1, int(round(p.size * share))), replace=False))
            for name, p in params.items()}


def finite_differences(network, params, X, Y, h=1e-6, entries=None, progress=None):
    """Central differences (C(θ+h) − C(θ−h)) / 2h, for every entry or only ``entries``.

    ``entries`` maps a parameter name to the flat indices to perturb; the others stay NaN.
    A nudge to W^{(l)}_{jk} or b^{(l)}_j changes only z^{(l)}_j, so the forward pass is kept and
    redone from there: that neuron's column, then every layer above (on a wide first layer this
    is thousands of times cheaper than a whole forward pass per entry).  ``progress`` is called
    with the number of entries done after each one.
    """
    zs, acts = forward(network, params, X)
    n = len(X)
    grads = {}
    done = 0
    for name in parameter_names(network):
        value = params[name]
        grad = np.full(value.shape, np.nan)
        which = range(value.size) if entries is None else entries[name]
        layer = int(name[1:])
        for index in which:
            j, k = np.unravel_index(index, value.shape) if value.ndim == 2 else (index, None)
            costs = []
            for step in (h, -h):
                inputs = acts[layer - 1][:, k] if k is not None else 1.0
                z = zs[layer][:, j] + step * inputs  # z^{(l)}_j after the nudge, for every example
                nudged = value.flat[index] + step if k is not None else None
                costs.append(_cost_from(network, params, zs, acts, layer, j, z, Y)
                             + _penalty_change(network, value.flat[index], nudged, n))
            grad.flat[index] = (costs[0] - costs[1]) / (2 * h)
            done += 1
            if progress is not None:
                progress(done)
        grads[name] = grad
    return grads


def _penalty_change(network, weight, nudged, n):
    """How much the penalty moves when one weight goes from ``weight`` to ``nudged`` (None: a bias)."""
    if nudged is None:
        return 0.0
    return sum(lam / n * (entry.numpy_penalty(np.array(nudged)) - entry.numpy_penalty(np.array(weight)))
               for entry, lam in network.regularisers)


def _cost_from(network, params, zs, acts, layer, j, z_j, Y):
    """The mean cost when neuron j of ``layer`` has the weighted inputs ``z_j`` and all else is as
    in the forward pass ``zs``, ``acts``."""
    z = zs[layer].copy()
    z[:, j] = z_j
    entry = network.activation(layer)
    if entry.elementwise:
        a = acts[layer].copy()
        a[:, j] = entry.numpy(z_j)
    else:
        a = entry.numpy(z)
    for above in range(layer + 1, network.depth + 1):
        z = a @ params[f"W{above}"].T + params[f"b{above}"]
        a = network.activation(above).numpy(z)
    return float(np.mean(network.cost_entry.numpy(a, z, Y)))
