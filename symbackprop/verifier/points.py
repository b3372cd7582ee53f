"""Random points of a network at which verify compares both sides of a formula.

A point fixes the input a^{(0)}, every weight and bias and the target y (from a fixed seed);
``numeric`` computes the forward pass, backprop (∂C₀/∂a, δ, ∂C₀/∂w, ∂C₀/∂b at every layer)
and, for any other ∂X/∂Y (∂z/∂w, ∂a^{(L)}/∂a^{(L-2)}, ...), forward mode.  These are the truths
a student's formula is compared with; none of them reads the student's formula or the
derivation.

The points are chosen so that a mistake cannot hide behind one regime of the network: every
weighted input z is chosen first (the bias follows from it), in one of these regimes:

* ``active``: every neuron on the working side of its activation (past each kink, |z| < 1.5),
  so that a dropped ReLU' or a product that is 0 at a dead neuron shows;
* ``mixed`` (two points): z on both sides of every kink of the layer's activation (registry
  ``kinks``) — in a wide layer within the point, in a one-neuron layer from point to point;
* ``saturated``: |z| between 3 and 6, where sigmoid and tanh are flat, and the target far from
  the output, so that terms that are negligible elsewhere are not negligible here.

Every z stays at least ``MARGIN`` away from a kink, where the derivative does not exist.
"""

import numpy as np

from .. import numeric
from ..errors import FormulaError
from .evaluate import N_EXAMPLES

MARGIN = 0.1
REGIMES = ("active", "mixed", "mixed", "saturated")
"""The regime of each point, by seed."""


def _weighted_inputs(rng, regime, width, kinks, seed, layer):
    """The z of one layer's neurons for this regime, at least MARGIN away from every kink."""
    kink = max(kinks) if kinks else 0.0
    if regime == "active":
        z = rng.uniform(0.2, 1.5, width) * (1.0 if kinks else rng.choice([-1.0, 1.0], width))
        return z + kink
    if regime == "saturated":
        return rng.uniform(3.0, 6.0, width) * rng.choice([-1.0, 1.0], width) + kink
    z = rng.uniform(MARGIN, 2.0, width)
    signs = rng.choice([-1.0, 1.0], width)
    if width > 1:
        signs[:2] = (1.0, -1.0)  # both sides of the kink within the layer
    else:
        signs[:] = 1.0 if (seed + layer) % 2 else -1.0  # from point to point
    return kink + signs * z


class Point:
    """One random point of the network with its forward pass and all cost derivatives."""

    def __init__(self, network, seed):
        self.network = network
        self.regime = REGIMES[seed % len(REGIMES)]
        depth = network.depth
        rng = np.random.default_rng(seed)
        x = rng.uniform(-1.0, 1.0, network.width(0))
        params, a = {}, x
        for layer in range(1, depth + 1):
            rows, cols = network.width(layer), network.width(layer - 1)
            W = rng.uniform(-1.2, 1.2, (rows, cols)) / np.sqrt(cols)
            z = _weighted_inputs(rng, self.regime, rows, network.activation(layer).kinks, seed, layer)
            B = z - W @ a  # the bias that gives this z
            params[f"W{layer}"], params[f"b{layer}"] = W, B
            a = network.activation(layer).numpy(W @ a + B)
        self.params = params
        if self.regime == "saturated":  # the target far from the output: a − y is large
            self.y = np.where(a > 0.5, rng.uniform(0.05, 0.15, a.shape), rng.uniform(0.85, 0.95, a.shape))
        else:
            self.y = rng.uniform(0.1, 0.9, network.width(depth))
        if network.cost_entry.needs_normalised_output:  # targets a probability vector, as δᴸ = a − y assumes
            self.y = self.y / self.y.sum()
        back = numeric.backward(network, params, x[None, :], self.y[None, :])
        self.a = [np.asarray(v[0], dtype=float) for v in back.acts]
        self.z = [None] + [np.asarray(v[0], dtype=float) for v in back.zs[1:]]
        self.W = [None] + [params[f"W{layer}"] for layer in range(1, depth + 1)]
        self.B = [None] + [params[f"b{layer}"] for layer in range(1, depth + 1)]
        self.dA = [np.asarray(v[0], dtype=float) for v in back.d_a]
        self.dZ = [None] + [np.asarray(v[0], dtype=float) for v in back.delta[1:]]
        self.dW = [None] + [np.outer(self.dZ[layer], self.a[layer - 1]) for layer in range(1, depth + 1)]
        self.dB = self.dZ
        # λ of a regularised cost and n, the number of training examples: any values do, as long as a
        # formula cannot be right without them, so both change from point to point (λ/5 for λ/n fails)
        self.lam, self.n = 0.3 + 0.17 * seed, N_EXAMPLES + 2 * seed

    def sigma(self, layer, v):
        """σ of layer ``layer`` at v; for softmax (not element-wise) v is its z^{(L)} or a z^{(L)}_j."""
        if not self.network.activation(layer).elementwise:
            return self._softmax_output(layer, v)
        return self.network.activation(layer).numpy(v)

    def sigma_prime(self, layer, v):
        """σ'(v); for softmax, which has a Jacobian and no σ', the diagonal a_j(1 − a_j) a student
        writing σ'(z^{(L)}_j) means."""
        entry = self.network.activation(layer)
        if not entry.elementwise:
            a = self._softmax_output(layer, v)
            return a * (1 - a)
        slope = numeric.slope_of_z(self.network.activations[layer - 1])(v)
        return np.asarray(slope, dtype=float) * np.ones_like(v, dtype=float)

    def _softmax_output(self, layer, v):
        """The softmax output a^{(L)} (or a^{(L)}_j) where v is the layer's z^{(L)} (or one z^{(L)}_j):
        a normalised layer has no value at a z alone."""
        z, a = self.z[layer], self.a[layer]
        v = np.asarray(v, dtype=float)
        if v.size == z.size and np.array_equal(v.reshape(-1), z):
            return a.reshape(v.shape)
        if v.size == 1 and np.count_nonzero(z == float(v.reshape(-1)[0])) == 1:
            return float(a[z == float(v.reshape(-1)[0])][0])
        raise FormulaError("softmax has a value only at its own weighted inputs: write σ(z^{(L)}) or σ(z^{(L)}_j)")

    def penalty_slope(self, layer):
        """(λ/n) penalty'(W^{(l)}) of the network's regulariser at this point's λ and n (0 without)."""
        W = self.W[layer]
        return sum((self.lam / self.n * entry.numpy_slope(W) for entry, _ in self.network.regularisers),
                   np.zeros_like(W))

    # values ---------------------------------------------------------------------------------
    def table(self, kind):
        return {"a": self.a, "z": self.z, "w": self.W, "b": self.B, "delta": self.dZ}[kind]

    def cost_gradient(self, kind):
        """∂C₀/∂kind at every layer (δ for z)."""
        return {"a": self.dA, "z": self.dZ, "w": self.dW, "b": self.dB}[kind]

    def derivative(self, numerator, var_kind, var_layer, var_index):
        """∂numerator/∂var at this point; numerator is 'C' (the cost of a formula's C: with a
        regulariser, C₀ and its share of the penalty), 'C0' (C₀, C_x) or (kind, layer, index)."""
        if numerator in ("C", "C0"):
            g = self.cost_gradient(var_kind)[var_layer]
            if numerator == "C" and var_kind == "w":
                g = g + self.penalty_slope(var_layer)
            if var_index is None:
                return g.reshape(-1, 1) if g.ndim == 1 else g
            return float(g[tuple(var_index)])
        kind, layer, index = numerator
        if var_kind == kind and var_layer == layer:
            return 1.0 if tuple(var_index) == tuple(index) else 0.0
        if layer < var_layer or (layer == var_layer and var_kind == "a"):
            return 0.0
        dz, da = numeric.tangent(self.network, self.params, self.z, self.a, var_kind, var_layer, var_index)
        table = dz if kind == "z" else da
        if table[layer] is None:
            return 0.0
        return float(table[layer][index[0]])
