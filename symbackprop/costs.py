"""The cost registry: adding a cost is one ``register(Cost(...))``.

A cost is a sum over the output neurons of a per-neuron term c(a_j, y_j); the lectures'
``quadratic`` has no ½.  The derivative ∂C₀/∂a_j is computed by SymPy in ``derive``.
``numpy`` gives the per-example cost from the output layer's z as well as a, so that
cross-entropy can be written stably in terms of z (it needs a sigmoid output layer).
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import sympy as sp


@dataclass(frozen=True)
class Cost:
    name: str
    per_neuron: Callable  # (a, y) -> SymPy expression of one output neuron's term
    numpy: Callable  # (a, z, y) -> per-example cost, shape (batch,), stable
    needs_output_range: Optional[tuple]  # open interval the outputs must lie in, if any
    description: str


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
    description="the lectures' squared error, summed over the output neurons, with no 1/2",
))

register(Cost(
    name="half_quadratic",
    per_neuron=lambda a, y: sp.Rational(1, 2) * (a - y) ** 2,
    numpy=lambda a, z, y: 0.5 * np.sum((a - y) ** 2, axis=-1),
    needs_output_range=None,
    description="half the squared error, as in Nielsen's book; its derivative has no 2",
))


def _np_cross_entropy(a, z, y):
    # With a = sigmoid(z): -[y ln a + (1-y) ln(1-a)] = softplus(z) - y z, finite for any z.
    return np.sum(np.logaddexp(0, z) - y * z, axis=-1)


register(Cost(
    name="cross_entropy",
    per_neuron=lambda a, y: -(y * sp.log(a) + (1 - y) * sp.log(1 - a)),
    numpy=_np_cross_entropy,
    needs_output_range=(0, 1),
    description="binary cross-entropy; with a sigmoid output its error term is simply a - y",
))
