"""The regulariser registry: weight decay (L2) and L1, each one ``register(Regulariser(...))``.

As in Nielsen's chapter 3, a regulariser adds (λ/n) Σ_w penalty(w) to the cost, over every
weight and no bias: L2's penalty w²/2 gives C = C₀ + λ/(2n) Σ w², L1's |w| gives C = C₀ +
(λ/n) Σ |w|.  n is the number of training examples the cost averages over (in ``check`` and
the generated code: the rows of X).  Per example, the cost C of a formula is C₀ plus that
example's equal share of the penalty, so ∂C/∂w = ∂C₀/∂w + (λ/n) penalty'(w) and ∂C/∂b = ∂C₀/∂b.
The derivative is SymPy's, of the entry's ``penalty``.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp


@dataclass(frozen=True)
class Regulariser:
    name: str
    option: str  # the command-line option: --l2
    penalty: Callable  # w -> SymPy expression of one weight's penalty, without λ/n
    numpy_penalty: Callable  # W -> the sum of the penalties of an array of weights
    numpy_slope: Callable  # W -> penalty'(W), entry by entry
    description: str  # what it does, for the notes
    title: str
    nielsen: str = ""  # where Michael Nielsen's book treats it, in words

    def slope(self, w):
        """penalty'(w), computed by SymPy (w taken real, so |w|' is sgn(w))."""
        t = sp.Dummy("t", real=True)
        return sp.diff(self.penalty(t), t).subs(t, w)


REGISTRY = {}


def register(regulariser):
    REGISTRY[regulariser.name] = regulariser
    return regulariser


def get(name):
    return REGISTRY[name]


register(Regulariser(
    name="l2", option="--l2",
    penalty=lambda w: w ** 2 / 2,
    numpy_penalty=lambda W: 0.5 * np.sum(W * W),
    numpy_slope=lambda W: W,
    description="weight decay: every step of gradient descent also shrinks each weight by the fraction ηλ/n, "
                "so that large weights are only kept where they lower C₀ enough to pay for themselves",
    title="L2 regularisation (weight decay)",
    nielsen="chapter 3, 'Regularization': L2 regularization or weight decay, C = C₀ + λ/(2n) Σ w², with the "
            "rescaled step w → (1 − ηλ/n) w − η ∂C₀/∂w; 'Why does regularization help reduce overfitting?' says why",
))

register(Regulariser(
    name="l1", option="--l1",
    penalty=sp.Abs,
    numpy_penalty=lambda W: np.sum(np.abs(W)),
    numpy_slope=np.sign,
    description="every step of gradient descent moves each weight towards 0 by the constant amount ηλ/n, "
                "which drives the unimportant weights to exactly 0 and keeps a few large ones",
    title="L1 regularisation",
    nielsen="chapter 3, 'Other techniques for regularization': L1 regularization, C = C₀ + (λ/n) Σ |w|, whose step "
            "w → w − (ηλ/n) sgn(w) − η ∂C₀/∂w shrinks every weight towards 0 by a constant amount",
))
