"""The activation registry: adding an activation is one ``register(Activation(...))``.

An entry holds the SymPy expression σ(t), the derivative written in terms of the activation's
own output where the lectures do so (σ' = σ(1−σ) for the sigmoid), its LaTeX name, the open
interval of its outputs and a numerically stable NumPy form.  The derivative itself is always
computed by SymPy from the expression (``Activation.derivative``).
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

from .printing import ordered_product

_t = sp.Symbol("t", real=True)


@dataclass(frozen=True)
class Activation:
    name: str
    latex: str  # how the notes name it, e.g. r"\tanh"
    expression: Callable  # t -> SymPy expression of σ(t)
    derivative_from_output: Callable  # a -> σ'(z) written with a = σ(z)
    numpy: Callable  # stable elementwise NumPy form, keeps the dtype
    output_range: tuple  # open interval (low, high) of σ's values
    description: str

    def derivative(self, t):
        """σ'(t), computed by SymPy from the expression."""
        s = sp.Dummy("s", real=True)
        return sp.diff(self.expression(s), s).subs(s, t)

    def lecture_derivative(self, sigma_of_t):
        """σ'(z) written in terms of σ(z), as the lectures write it: σ(z)(1 − σ(z))."""
        return self.derivative_from_output(sigma_of_t)


REGISTRY = {}


def register(activation):
    REGISTRY[activation.name] = activation
    return activation


def get(name):
    return REGISTRY[name]


def _np_sigmoid(z):
    # exp of a non-positive number never overflows; both branches stay in (0, 1].
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


register(Activation(
    name="sigmoid",
    latex=r"\sigma",
    expression=lambda t: 1 / (1 + sp.exp(-t)),
    derivative_from_output=lambda a: ordered_product(a, 1 - a),  # σ(1 − σ), in the lectures' order
    numpy=_np_sigmoid,
    output_range=(0, 1),
    description="the logistic function 1/(1+e^{-z}); it saturates for large |z|",
))

register(Activation(
    name="tanh",
    latex=r"\tanh",
    expression=sp.tanh,
    derivative_from_output=lambda a: 1 - a**2,
    numpy=np.tanh,
    output_range=(-1, 1),
    description="the hyperbolic tangent; like the sigmoid but centred on 0",
))

register(Activation(
    name="relu",
    latex=r"\operatorname{ReLU}",
    expression=lambda t: sp.Max(0, t),
    derivative_from_output=lambda a: sp.Heaviside(a, 0),
    numpy=lambda z: np.maximum(z, 0),
    output_range=(0, sp.oo),
    description="max(0, z); its slope is 1 for z > 0 and 0 below, so it does not saturate for z > 0",
))

register(Activation(
    name="identity",
    latex=r"\operatorname{id}",
    expression=lambda t: t,
    derivative_from_output=lambda a: sp.Integer(1),
    numpy=lambda z: z,
    output_range=(-sp.oo, sp.oo),
    description="no nonlinearity: a = z",
))

register(Activation(
    name="softplus",
    latex=r"\operatorname{softplus}",
    expression=lambda t: sp.log(1 + sp.exp(t)),
    derivative_from_output=lambda a: 1 - sp.exp(-a),
    numpy=lambda z: np.logaddexp(0, z),
    output_range=(0, sp.oo),
    description="ln(1+e^z), a smooth ReLU whose slope is the sigmoid",
))
