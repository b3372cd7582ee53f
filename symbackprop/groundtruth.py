"""Ground truth: ``sympy.diff`` of the fully expanded cost of a small concrete network.

No chain rule of ours is involved: the cost is written out in the inputs, weights, biases and
targets, and SymPy differentiates it.  This explodes with size (measured: 0.04 s for 1-1-1-1,
0.3 s for 3-3-3, 8.7 s for 5-5-5-5), so it is only done up to ``EXPLICIT_LIMIT`` parameters.
"""

import sympy as sp

from . import instantiate
from .model import ExplicitModel, bind_activations

EXPLICIT_LIMIT = 30
"""Largest number of weights and biases for which the expanded cost is differentiated."""


def small_enough(network):
    return network.num_parameters <= EXPLICIT_LIMIT


def explicit_gradients(network, generic=False):
    """{parameter: ∂C/∂parameter} by ``sympy.diff`` of the expanded cost, in the leaves (with a
    regulariser, its penalty's derivative added to each weight's, in the symbols λ and n)."""
    model = ExplicitModel(network, generic=generic)
    cost = model.cost()
    penalties = model.penalty_slopes()
    return {p: sp.diff(cost, p) + penalties.get(p, 0) for p in model.parameters()}


def derived_gradients(derivation, generic=False):
    """The derivation's BP1-BP4 for every parameter, written in the same leaves.

    With ``generic=True`` σ stays the undefined function, so the chain-rule bookkeeping can be
    compared with ``sympy.diff`` exactly and fast, whatever the activation.
    """
    net = derivation.network
    formulas = instantiate.expand_deltas(instantiate.gradient_formulas(derivation),
                                         instantiate.deltas(derivation))
    model = ExplicitModel(net, generic=generic)
    forward = model.forward()
    out = {}
    for param in model.parameters():
        formula = formulas[param]
        if not generic:
            formula = bind_activations(formula, net)
        out[param] = formula.xreplace(forward)
    return out


def leaves(network):
    model = ExplicitModel(network)
    return model.inputs() + model.parameters() + model.targets()


def lambdified(gradients, network):
    """One NumPy function of (inputs, parameters, targets) returning every gradient."""
    args = leaves(network)
    names = {s: sp.Symbol(f"v{i}") for i, s in enumerate(args)}
    exprs = [g.xreplace(names) for g in gradients.values()]
    return sp.lambdify([list(names.values())], exprs, modules="numpy", cse=True)

