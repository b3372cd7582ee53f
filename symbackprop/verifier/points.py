"""Random points of a network and the true value of every derivative there.

A point fixes the input a^{(0)}, every weight and bias and the target y (from a fixed seed),
runs the forward pass, and backpropagates numerically: ∂C₀/∂a, δ = ∂C₀/∂z, ∂C₀/∂w, ∂C₀/∂b at
every layer.  Any other ∂X/∂Y of the network (∂z/∂w, ∂a^{(L)}/∂a^{(L-2)}, ...) comes from a
forward-mode pass that treats Y as the independent variable.  These are the truths a student's
formula is compared with; none of them reads the student's formula.

Points keep away from trouble: every weighted input is at least ``MARGIN`` away from 0 (the
ReLU's kink), targets lie in (0.1, 0.9) and sigmoid outputs stay inside (0, 1).
"""

from functools import lru_cache

import numpy as np
import sympy as sp

from .. import activations
from ..numeric import cost_slope

MARGIN = 0.05


@lru_cache(maxsize=None)
def activation_functions(name):
    """(σ, σ') as NumPy functions, σ' lambdified from SymPy's derivative of the registry entry."""
    entry = activations.get(name)
    t = sp.Symbol("t", real=True)
    slope = sp.lambdify(t, entry.derivative(t), modules=[{"Heaviside": lambda v, h=0.5: np.heaviside(v, h)}, "numpy"])
    return entry.numpy, lambda v: np.asarray(slope(v), dtype=float) * np.ones_like(v, dtype=float)


class Point:
    """One random point of the network with its forward pass and all cost derivatives."""

    def __init__(self, network, seed):
        self.network = network
        depth = network.depth
        rng = np.random.default_rng(seed)
        relu_like = {"relu"}
        self.a = [rng.uniform(-1.0, 1.0, network.width(0))]
        self.z = [None]
        self.W = [None]
        self.B = [None]
        for layer in range(1, depth + 1):
            rows, cols = network.width(layer), network.width(layer - 1)
            W = rng.uniform(-1.2, 1.2, (rows, cols)) / np.sqrt(cols)
            B = rng.uniform(-0.5, 0.5, rows)
            if network.activations[layer - 1] in relu_like:
                B = B + 0.3  # most neurons active, a few not
            z = W @ self.a[-1] + B
            near = np.abs(z) < MARGIN  # away from kinks: move the bias, which moves z
            B = B + np.where(near, np.where(z >= 0, 2 * MARGIN, -2 * MARGIN), 0.0)
            z = W @ self.a[-1] + B
            sigma, _ = activation_functions(network.activations[layer - 1])
            self.W.append(W)
            self.B.append(B)
            self.z.append(z)
            self.a.append(np.asarray(sigma(z), dtype=float))
        self.y = rng.uniform(0.1, 0.9, network.width(depth))
        self._backprop()

    def sigma(self, layer, v):
        return activation_functions(self.network.activations[layer - 1])[0](v)

    def sigma_prime(self, layer, v):
        return activation_functions(self.network.activations[layer - 1])[1](v)

    def _backprop(self):
        depth = self.network.depth
        self.dA = [None] * (depth + 1)
        self.dZ = [None] * (depth + 1)
        self.dW = [None] * (depth + 1)
        self.dB = [None] * (depth + 1)
        self.dA[depth] = np.asarray(cost_slope(self.network.cost)(self.a[depth], self.y), dtype=float) \
            * np.ones(self.network.width(depth))
        for layer in range(depth, 0, -1):
            self.dZ[layer] = self.dA[layer] * self.sigma_prime(layer, self.z[layer])
            self.dW[layer] = np.outer(self.dZ[layer], self.a[layer - 1])
            self.dB[layer] = self.dZ[layer]
            self.dA[layer - 1] = self.W[layer].T @ self.dZ[layer]

    # values ---------------------------------------------------------------------------------
    def table(self, kind):
        return {"a": self.a, "z": self.z, "w": self.W, "b": self.B, "delta": self.dZ}[kind]

    def cost_gradient(self, kind):
        """∂C₀/∂kind at every layer (δ for z)."""
        return {"a": self.dA, "z": self.dZ, "w": self.dW, "b": self.dB}[kind]

    def tangent(self, kind, layer, index):
        """Forward mode: (dz, da) per layer when the quantity (kind, layer, index) moves by 1."""
        depth = self.network.depth
        dz = [None] * (depth + 1)
        da = [None] * (depth + 1)
        start = layer
        if kind == "a":
            da[layer] = np.zeros(self.network.width(layer))
            da[layer][index[0]] = 1.0
        else:
            seed = np.zeros(self.network.width(layer))
            if kind == "w":
                seed[index[0]] = self.a[layer - 1][index[1]]
            else:  # b, z
                seed[index[0]] = 1.0
            dz[layer] = seed
            da[layer] = self.sigma_prime(layer, self.z[layer]) * seed
        for m in range(start + 1, depth + 1):
            dz[m] = self.W[m] @ da[m - 1]
            da[m] = self.sigma_prime(m, self.z[m]) * dz[m]
        return dz, da

    def derivative(self, numerator, var_kind, var_layer, var_index):
        """∂numerator/∂var at this point; numerator is 'C' or (kind, layer, index)."""
        if numerator == "C":
            if var_index is None:
                g = self.cost_gradient(var_kind)[var_layer]
                return g.reshape(-1, 1) if g.ndim == 1 else g
            return float(self.cost_gradient(var_kind)[var_layer][tuple(var_index)])
        kind, layer, index = numerator
        if var_kind == kind and var_layer == layer:
            return 1.0 if tuple(var_index) == tuple(index) else 0.0
        if layer < var_layer or (layer == var_layer and var_kind == "a"):
            return 0.0
        dz, da = self.tangent(var_kind, var_layer, var_index)
        table = dz if kind == "z" else da
        if table[layer] is None:
            return 0.0
        return float(table[layer][index[0]])
