"""The derived formulas, instantiated for concrete networks, are sympy.diff of the expanded cost."""

import numpy as np
import pytest
import sympy as sp

from symbackprop import groundtruth
from symbackprop.derivation import derive
from symbackprop.spec import Network

ACTIVATIONS = ["sigmoid", "tanh", "relu", "identity", "softplus"]
COSTS = ["quadratic", "half_quadratic", "cross_entropy"]
SHAPES = ["1,1,1,1", "2,2,1", "1,3,2"]


def combos():
    """Every activation × every cost × every shape; cross-entropy puts a sigmoid on the output."""
    for sizes in SHAPES:
        depth = sizes.count(",")
        for act in ACTIVATIONS:
            for cost in COSTS:
                acts = ",".join([act] * (depth - 1) + ["sigmoid"]) if cost == "cross_entropy" else act
                yield pytest.param(sizes, acts, cost, id=f"{sizes}-{act}-{cost}")


@pytest.mark.parametrize("sizes", ["1,1", "1,1,1,1", "2,2,1", "1,3,2", "3,2,2,1", "2,3,2"])
@pytest.mark.parametrize("cost", COSTS)
def test_exactly_equal_with_sigma_as_an_undefined_function(sizes, cost):
    """With σ left undefined, the chain-rule bookkeeping must match sympy.diff symbol for symbol."""
    net = Network.parse(sizes, "sigmoid", cost)
    truth = groundtruth.explicit_gradients(net, generic=True)
    derived = groundtruth.derived_gradients(derive(net), generic=True)
    assert list(truth) == list(derived)
    for param in truth:
        assert sp.cancel(truth[param] - derived[param]) == 0, param


@pytest.mark.parametrize("sizes,activation,cost", list(combos()))
def test_equal_with_each_real_activation_and_cost(sizes, activation, cost):
    """With the real activations, the two agree to 1e-12 at random points (both lambdified)."""
    net = Network.parse(sizes, activation, cost)
    truth = groundtruth.lambdified(groundtruth.explicit_gradients(net), net)
    derived = groundtruth.lambdified(groundtruth.derived_gradients(derive(net)), net)
    rng = np.random.default_rng(7)
    count = len(groundtruth.leaves(net))
    for _ in range(3):
        # ReLU: positive inputs and weights keep every neuron alive, so gradients are not all 0
        point = rng.uniform(0.1, 1.5, count) if "relu" in activation else rng.uniform(-1.5, 1.5, count)
        point[-net.width(net.depth):] = rng.uniform(0.1, 0.9, net.width(net.depth))  # targets in (0, 1)
        expected, got = np.array(truth(point), dtype=float), np.array(derived(point), dtype=float)
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-14)
        assert np.abs(expected).max() > 0  # the comparison is not between zeros


def test_mixed_activations_per_layer():
    net = Network.parse("2,2,2,1", "relu,tanh,softplus", "half_quadratic")
    truth = groundtruth.lambdified(groundtruth.explicit_gradients(net), net)
    derived = groundtruth.lambdified(groundtruth.derived_gradients(derive(net)), net)
    point = np.random.default_rng(3).uniform(0.2, 1.2, len(groundtruth.leaves(net)))
    assert np.allclose(derived(point), truth(point), rtol=1e-12)


def test_a_wrong_derivation_is_caught():
    """The comparison can fail: drop the 2 of the quadratic cost and it does."""
    net = Network.parse("1,2,1")
    d = derive(net)
    broken = type(d)(**{**d.__dict__, "cost_slope": d.cost_slope / 2})
    truth = groundtruth.explicit_gradients(net, generic=True)
    derived = groundtruth.derived_gradients(broken, generic=True)
    assert any(sp.cancel(truth[p] - derived[p]) != 0 for p in truth)


@pytest.mark.parametrize("sizes,activation,cost,strengths", [
    ("1,2,3", "sigmoid,softmax", "log_likelihood", {}),
    ("1,2,2", "tanh,softmax", "quadratic", {}),
    ("2,2,1", "sigmoid", "quadratic", {"l2": 0.3}),
    ("2,1,2", "tanh,sigmoid", "cross_entropy", {"l1": 0.3}),
], ids=["softmax-log-likelihood", "softmax-quadratic", "l2", "l1"])
def test_chapter_three_is_sympy_diff_exactly(sizes, activation, cost, strengths):
    """Softmax's Jacobian sum (BP1 = Jᵀ∇_a C) and the regulariser's term (λ/n) penalty'(w), both
    derived by SymPy, equal sympy.diff of the expanded cost symbol for symbol (σ of the hidden
    layers left undefined; λ and n symbols)."""
    net = Network.parse(sizes, activation, cost, **strengths)
    truth = groundtruth.explicit_gradients(net, generic=True)
    derived = groundtruth.derived_gradients(derive(net), generic=True)
    for param in truth:
        assert sp.cancel(sp.expand(truth[param] - derived[param])) == 0, param


def test_softmax_with_log_likelihood_is_a_minus_y_by_sympy():
    d = derive(Network.parse("3,4,5", "relu,softmax", "log_likelihood"))
    a, y = d.output_error_symbols
    assert d.output_error == a - y and d.output_error_cancels
    quadratic = derive(Network.parse("3,4,5", "relu,softmax", "quadratic"))
    assert quadratic.output_error.has(sp.Sum) and not quadratic.output_error_cancels  # no cancellation there


def test_regularised_weight_gradient_by_sympy():
    from symbackprop import notation as nt

    for name, slope in (("l2", nt.w[nt.l, nt.j, nt.k]), ("l1", sp.sign(nt.w[nt.l, nt.j, nt.k]))):
        r, = derive(Network.parse("2,3,2", **{name: 0.5})).regularisation
        assert sp.simplify(r.weight.rhs - nt.partial(nt.C0, nt.w[nt.l, nt.j, nt.k])
                           - nt.lam / nt.n_examples * slope) == 0
        assert r.bias.rhs == nt.partial(nt.C0, nt.b[nt.l, nt.j]) and r.strength == 0.5
