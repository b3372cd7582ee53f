"""The cost registry: adding a cost is one ``register(Cost(...))``.

A cost is a sum over the output neurons of a per-neuron term c(a_j, y_j); the lectures'
``quadratic`` has no ½.  An entry holds everything any part of symbackprop needs to know, so
that no module or template branches on its name: the SymPy term, the slope ∂c/∂a as the
lectures write it (checked against SymPy's derivative by ``derive`` and by the tests), a
stable NumPy form, the output range it needs, and prose for the notes.  ``numpy`` gives the
per-example cost from the output layer's z as well as a, so that cross-entropy can be written
stably in terms of z.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import sympy as sp

from .printing import ordered_product, ordered_sum


@dataclass(frozen=True)
class Cost:
    name: str
    per_neuron: Callable  # (a, y) -> SymPy expression of one output neuron's term
    numpy: Callable  # (a, z, y) -> per-example cost, shape (batch,), stable
    needs_output_range: Optional[tuple]  # open interval the outputs must lie in, if any
    description: str  # what it adds up, in words, for the notes
    slope: Callable = None  # (a, y) -> ∂c/∂a as the lectures write it (None: SymPy's, tidied)
    slope_meaning: str = ""  # what ∂C₀/∂a says, in words
    title: str = ""  # how prose names it: "cross-entropy" (default: the name)
    needs_normalised_output: bool = False  # only with an output layer that adds up to 1 (softmax)
    binary_outputs: bool = False  # each output its own probability: not after an output layer that adds up to 1
    written: Callable = None  # (a, y) -> the term as people write it, for display (None: per_neuron)
    adds_up: str = ""  # what C₀ adds up over the output neurons, in words
    nielsen: str = ""  # how Michael Nielsen's book writes or uses this cost

    @property
    def words(self):
        return self.title or self.name

    def display_term(self, a, y):
        """The per-neuron term in the order people write it (the same value as ``per_neuron``)."""
        return (self.written or self.per_neuron)(a, y)


REGISTRY = {}


def register(cost):
    REGISTRY[cost.name] = cost
    return cost


def get(name):
    return REGISTRY[name]


register(Cost(
    name="quadratic",
    per_neuron=lambda a, y: (a - y) ** 2,
    numpy=lambda a, z, y: np.sum((a - y) ** 2, axis=-1),
    needs_output_range=None,
    description="the squared error: it adds up the squares of the differences between the output "
                "activations and the desired outputs (the lectures' convention, with no 1/2)",
    slope=lambda a, y: ordered_product(2, a - y),
    slope_meaning="proportional to the difference between the output and what we want it to be: if the output "
                  "is far off, even slight changes of it have a big impact on the cost",
    title="quadratic",
    adds_up="the squares of the differences between the output activations and the desired outputs",
    nielsen="Nielsen's quadratic cost has a 1/2 in front, C = (1/2n) Σₓ ‖y(x) − aᴸ(x)‖², so his ∂C/∂aⱼ is "
            "aⱼ − yⱼ where this cost gives 2(aⱼ − yⱼ); every δ here is twice his",
))

register(Cost(
    name="half_quadratic",
    per_neuron=lambda a, y: sp.Rational(1, 2) * (a - y) ** 2,
    numpy=lambda a, z, y: 0.5 * np.sum((a - y) ** 2, axis=-1),
    needs_output_range=None,
    description="half the squared error, as in Nielsen's book: it adds up half the squares of the "
                "differences between the output activations and the desired outputs",
    slope=lambda a, y: a - y,
    slope_meaning="the difference between the output and what we want it to be (the 1/2 cancels the 2 of the "
                  "square): the further off, the stronger the signal",
    title="half quadratic",
    adds_up="half the squares of the differences between the output activations and the desired outputs",
    nielsen="this is Nielsen's quadratic cost (chapter 1, 'Learning with gradient descent'), "
            "C = (1/2n) Σₓ ‖y(x) − aᴸ(x)‖², whose slope is ∇ₐC = aᴸ − y",
))


def _np_cross_entropy(a, z, y):
    # With a = sigmoid(z): -[y ln a + (1-y) ln(1-a)] = softplus(z) - y z, finite for any z.
    return np.sum(np.logaddexp(0, z) - y * z, axis=-1)


register(Cost(
    name="cross_entropy",
    per_neuron=lambda a, y: -(y * sp.log(a) + (1 - y) * sp.log(1 - a)),
    numpy=_np_cross_entropy,
    needs_output_range=(0, 1),
    description="the binary cross-entropy: for each output it adds up −ln a where the desired output is 1 "
                "and −ln(1 − a) where it is 0, so a confidently wrong output costs a lot",
    slope=lambda a, y: (a - y) / (a * (1 - a)),
    slope_meaning="(a − y)/(a(1 − a)): the error a − y, divided by the sigmoid's own slope a(1 − a), which is why "
                  "the two cancel at a sigmoid output",
    title="cross-entropy",
    binary_outputs=True,
    written=lambda a, y: sp.Mul(-1, ordered_sum(ordered_product(y, sp.log(a)),
                                                 ordered_product(1 - y, sp.log(1 - a))), evaluate=False),
    adds_up="one term per output neuron, −ln a where the desired output is 1 and −ln(1 − a) where it is 0",
    nielsen="chapter 3, 'The cross-entropy cost function': C = −(1/n) Σₓ Σⱼ [yⱼ ln aᴸⱼ + (1 − yⱼ) ln(1 − aᴸⱼ)]; "
            "he shows there that with sigmoid output neurons the σ' cancels and δᴸ = aᴸ − y",
))


def _np_log_likelihood(a, z, y):
    # with a = softmax(z): ln a_j = z_j − ln Σ_k e^{z_k} (log-sum-exp, shifted by the largest z)
    top = np.max(z, axis=-1, keepdims=True)
    log_a = z - top - np.log(np.sum(np.exp(z - top), axis=-1, keepdims=True))
    return -np.sum(y * log_a, axis=-1)


register(Cost(
    name="log_likelihood",
    per_neuron=lambda a, y: -y * sp.log(a),
    numpy=_np_log_likelihood,
    needs_output_range=(0, 1),
    description="the log-likelihood of Nielsen's chapter 3: −ln a_y, minus the logarithm of the probability the "
                "softmax output gives to the right class (with one-hot targets y, or any targets adding up to 1)",
    slope=lambda a, y: -y / a,
    slope_meaning="−y/a: large when the right class gets a small probability",
    title="log-likelihood",
    needs_normalised_output=True,
    written=lambda a, y: sp.Mul(-1, ordered_product(y, sp.log(a)), evaluate=False),
    adds_up="−y ln a for each output neuron: with a one-hot target, minus the logarithm of the probability "
            "given to the right class",
    nielsen="chapter 3, 'Softmax': the log-likelihood cost C = −ln aᴸ_y; he shows there that with softmax "
            "outputs δᴸ = aᴸ − y, as the cross-entropy gives with sigmoid outputs",
))
