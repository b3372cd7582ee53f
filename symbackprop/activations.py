"""The activation registry: adding an activation is one ``register(Activation(...))``.

An entry holds everything any part of symbackprop needs to know about an activation, so that
no module or template ever branches on its name:

* the SymPy expression σ(t) (its derivative is always computed by SymPy: ``derivative``), and
  the derivative written in terms of the output a = σ(z) where the lectures do so (σ(1 − σ));
* the name formulas give it (``latex``: σ, tanh, ReLU), for the lectures' form of σ';
* a numerically stable NumPy form that keeps the dtype, and the interval of its outputs;
* prose for the notes (what it is, where it is flat, what happens at its kinks) and its kink
  points, where verify samples on both sides.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

from .printing import ordered_product


@dataclass(frozen=True)
class Activation:
    name: str
    latex: str  # the function's name in formulas: r"\sigma", r"\tanh", r"\operatorname{ReLU}"
    expression: Callable  # t -> SymPy expression of σ(t)
    derivative_from_output: Callable  # a -> σ'(z) written with a = σ(z)
    numpy: Callable  # stable elementwise NumPy form, keeps the dtype
    output_range: tuple  # open interval (low, high) of σ's values
    description: str  # what it is, in words, for the notes
    flat: str = ""  # where its slope vanishes, and what that does to the gradient
    kinks: tuple = ()  # values of z where σ has no derivative (verify samples both sides)
    at_kinks: str = ""  # the value symbackprop takes for σ' there, in words
    title: str = ""  # how prose names it: "ReLU" (default: the name)
    elementwise: bool = True  # a_j depends on z_j alone; False: a_j = e(z_j) / Σ_k e(z_k), e = expression
    nielsen: str = ""  # where Michael Nielsen's book uses it, in words
    purpose: str = ""  # why a network uses it, for the notes' section on a normalised layer

    @property
    def words(self):
        return self.title or self.name

    def derivative(self, t):
        """σ'(t), computed by SymPy from the expression."""
        s = sp.Dummy("s", real=True)
        return sp.diff(self.expression(s), s).subs(s, t)

    def named(self, t):
        """σ(t) as the named function the lectures write: σ(z), tanh(z), ReLU(z)."""
        return sp.Function(self.latex)(t)

    def lecture_derivative(self, sigma_of_t):
        """σ'(z) written in terms of σ(z), as the lectures write it: σ(z)(1 − σ(z))."""
        return self.derivative_from_output(sigma_of_t)

    def lecture_form(self, t):
        """σ'(t) in terms of the named function: σ(t)(1 − σ(t)), 1 − tanh²(t)."""
        return self.derivative_from_output(self.named(t))


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


LEAK = sp.Rational(1, 100)

register(Activation(
    name="sigmoid",
    latex=r"\sigma",
    expression=lambda t: 1 / (1 + sp.exp(-t)),
    derivative_from_output=lambda a: ordered_product(a, 1 - a),  # σ(1 − σ), in the lectures' order
    numpy=_np_sigmoid,
    output_range=(0, 1),
    description="the logistic sigmoid 1/(1 + e^(-z)), which squashes any z into (0, 1)",
    flat="for large |z| the sigmoid saturates: its slope σ'(z) = σ(z)(1 − σ(z)) is at most 1/4 and nearly 0 "
         "far from 0, so a saturated neuron passes almost no gradient back",
    nielsen='the sigmoid neuron of chapter 1, used throughout chapters 1 and 2 (σ is his name for it)',
))

register(Activation(
    name="tanh",
    latex=r"\tanh",
    expression=sp.tanh,
    derivative_from_output=lambda a: 1 - a**2,
    numpy=np.tanh,
    output_range=(-1, 1),
    description="the hyperbolic tangent, which squashes any z into (-1, 1) and is centred on 0",
    flat="for large |z| tanh saturates: its slope 1 − tanh²(z) is at most 1 and nearly 0 far from 0, so a "
         "saturated neuron passes almost no gradient back",
    nielsen="chapter 3, 'Other models of artificial neuron': the tanh neuron, tanh(z) = 2σ(2z) − 1, a rescaled σ",
))

register(Activation(
    name="relu",
    latex=r"\operatorname{ReLU}",
    expression=lambda t: sp.Max(0, t),
    derivative_from_output=lambda a: sp.Heaviside(a, 0),
    numpy=lambda z: np.maximum(z, 0),
    output_range=(0, sp.oo),
    description="the rectified linear unit max(0, z)",
    flat="for z < 0 the ReLU is flat: its slope is 0, so a neuron that is off passes no gradient back (a dead "
         "ReLU); for z > 0 its slope is 1 and it never saturates",
    kinks=(0,),
    at_kinks="ReLU has no derivative at z = 0; symbackprop takes ReLU'(0) = 0",
    title="ReLU",
    nielsen="chapter 3, 'Other models of artificial neuron': the rectified linear unit max(0, z)",
))

register(Activation(
    name="leaky_relu",
    latex=r"\operatorname{LReLU}",
    expression=lambda t: sp.Piecewise((t, t > 0), (LEAK * t, True)),
    derivative_from_output=lambda a: sp.Piecewise((1, a > 0), (LEAK, True)),
    numpy=lambda z: np.maximum(z, 0.01 * z),
    output_range=(-sp.oo, sp.oo),
    description="the leaky ReLU: z for z > 0 and 0.01 z below, so that it is never completely flat",
    flat="for z < 0 the leaky ReLU's slope is only 0.01: a neuron that is off passes back a hundredth of the "
         "gradient, never nothing; for z > 0 its slope is 1",
    kinks=(0,),
    at_kinks="the leaky ReLU has no derivative at z = 0; symbackprop takes the slope 0.01 there",
    title="leaky ReLU",
    nielsen="not in Nielsen's book; a variant of the ReLU (Maas, Hannun and Ng, 2013)",
))

register(Activation(
    name="identity",
    latex=r"\operatorname{id}",
    expression=lambda t: t,
    derivative_from_output=lambda a: sp.Integer(1),
    numpy=lambda z: z,
    output_range=(-sp.oo, sp.oo),
    description="no nonlinearity: a = z",
    flat="its slope is 1 everywhere, so it never gates the gradient (and a network of identity layers is just "
         "one linear map)",
    nielsen='a linear neuron; chapter 3 asks what the quadratic cost gives with linear output neurons',
))

register(Activation(
    name="softplus",
    latex=r"\operatorname{softplus}",
    expression=lambda t: sp.log(1 + sp.exp(t)),
    derivative_from_output=lambda a: 1 - sp.exp(-a),
    numpy=lambda z: np.logaddexp(0, z),
    output_range=(0, sp.oo),
    description="ln(1 + e^z), a smooth ReLU whose slope is the sigmoid",
    flat="for z far below 0 softplus is flat (its slope, the sigmoid of z, is nearly 0); for large z its slope "
         "is nearly 1",
    nielsen="not in Nielsen's book; ln(1 + e^z), a smooth ReLU",
))


def _np_softmax(z):
    # shifted by the largest z of each row: every e^{...} is at most 1, so nothing overflows
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


register(Activation(
    name="softmax",
    latex=r"\operatorname{softmax}",
    expression=sp.exp,  # a_j = e^{z_j} / Σ_k e^{z_k}: the layer is normalised (elementwise=False)
    derivative_from_output=lambda a: ordered_product(a, 1 - a),  # ∂a_j/∂z_j only: the Jacobian's diagonal
    numpy=_np_softmax,
    output_range=(0, 1),
    description="the softmax e^(z_j) / Σ_k e^(z_k), which turns the output layer's weighted inputs into "
                "positive numbers that add up to 1: a probability for each class",
    flat="softmax is not element-wise: every output a_i depends on every weighted input z_j, through the "
         "Jacobian ∂a_i/∂z_j = a_i(δ_ij − a_j); an output near 0 or 1 passes little back, as a saturated "
         "sigmoid does",
    elementwise=False,
    title="softmax",
    purpose="its outputs are positive and add up to 1, so they can be read as the probabilities the network "
            "gives to the classes, the largest weighted input getting the largest share; raising one weighted input "
            "raises its own output and lowers all the others, which is why every output depends on every z",
    nielsen="chapter 3, 'Softmax': a softmax output layer, aᴸ_j = e^(zᴸ_j) / Σ_k e^(zᴸ_k), paired with the "
            "log-likelihood cost",
))
