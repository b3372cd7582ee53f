"""codegen with L2 and L1 regularisation: (λ/n) Σ penalty(w) in the cost, (λ/n) penalty'(W) in every
weight's gradient, biases free, n the rows of X unless the keyword n= gives the training-set size.

Against the hand-written oracle (``codegen_oracle``) and its finite differences.
"""

import io

import numpy as np
import pytest

import symbackprop as sb
from symbackprop.codegen import compile as generate, source

from codegen_oracle import (ORACLE_ACTIVATIONS, ORACLE_COSTS, close, oracle_backprop, oracle_cost,
                            oracle_finite_differences, probability_targets, random_problem)

REGULARISERS = [("l2", 0.7), ("l1", 0.3)]
# every activation and cost that make sense together: cross-entropy needs a sigmoid output (a softmax
# makes the outputs share one probability, so it is refused), the log-likelihood a softmax one
PAIRS = ([(act, cost) for act in ORACLE_ACTIVATIONS for cost in ORACLE_COSTS
          if cost not in ("cross_entropy", "log_likelihood") or act == "sigmoid" and cost == "cross_entropy"]
         + [("tanh,softmax", cost) for cost in ORACLE_COSTS if cost != "cross_entropy"])


def problem(sizes, cost, batch, seed=0):
    params, X, Y = random_problem(sizes, batch, seed=seed)
    if cost == "log_likelihood":
        Y = probability_targets(batch, sizes[-1], seed=seed)
    return params, X, Y


def network(sizes, acts, cost, regulariser):
    name, lam = regulariser
    return sb.Network.parse(list(sizes), acts, cost, **{name: lam})


@pytest.mark.parametrize("regulariser", REGULARISERS, ids=lambda r: r[0])
@pytest.mark.parametrize("acts,cost", PAIRS, ids=[f"{a}-{c}" for a, c in PAIRS])
def test_against_oracle(acts, cost, regulariser):
    sizes = (3, 5, 4)
    names = acts.split(",") if "," in acts else [acts] * 2
    gen = generate(network(sizes, acts, cost, regulariser))
    for batch in (1, 200):
        params, X, Y = problem(sizes, cost, batch, seed=batch)
        want = oracle_backprop(names, cost, params, X, Y, regulariser)
        close(gen.gradients(params, X, Y), want, 1e-9, 1e-12)
        want_cost = oracle_cost(names, cost, params, X, Y, regulariser)
        assert gen.cost(params, X, Y) == pytest.approx(want_cost, rel=1e-12)
        value, grads = gen.value_and_gradients(params, X, Y)
        assert value == pytest.approx(want_cost, rel=1e-12)
        close(grads, want, 1e-9, 1e-12)
        p32 = {k: v.astype(np.float32) for k, v in params.items()}
        got32 = gen.gradients(p32, X, Y)
        assert all(g.dtype == np.float32 for g in got32.values())
        assert np.asarray(gen.cost(p32, X, Y)).dtype == np.float32
        close(got32, oracle_backprop(names, cost, p32, X, Y, regulariser), 2e-3, 2e-4)


@pytest.mark.parametrize("regulariser", REGULARISERS, ids=lambda r: r[0])
@pytest.mark.parametrize("acts,cost", [("sigmoid", "cross_entropy"), ("tanh,softmax", "log_likelihood"),
                                       ("softplus", "quadratic")])
def test_against_finite_differences(acts, cost, regulariser):
    sizes = (3, 4, 3)
    names = acts.split(",") if "," in acts else [acts] * 2
    params, X, Y = problem(sizes, cost, 5, seed=4)
    for name in ("W1", "W2"):  # |w| has no slope at 0: keep the weights away from it
        params[name] = np.where(np.abs(params[name]) < 0.05, 0.1, params[name])
    got = generate(network(sizes, acts, cost, regulariser)).gradients(params, X, Y)
    close(got, oracle_finite_differences(names, cost, params, X, Y, regulariser=regulariser), 1e-5, 1e-7)


@pytest.mark.parametrize("regulariser", REGULARISERS, ids=lambda r: r[0])
def test_large_arrays_and_biases_free(regulariser):
    """On the in-place path too; the biases' gradients are those of the network without the penalty."""
    sizes, acts, cost = (40, 130, 70, 10), "relu,tanh,softmax", "log_likelihood"
    gen = generate(network(sizes, acts, cost, regulariser))
    params, X, Y = problem(sizes, cost, 64, seed=5)
    got = gen.gradients(params, X, Y)
    close(got, oracle_backprop(acts.split(","), cost, params, X, Y, regulariser), 1e-9, 1e-12)
    plain = generate(sb.Network.parse(list(sizes), acts, cost)).gradients(params, X, Y)
    for layer in (1, 2, 3):
        assert np.array_equal(got[f"b{layer}"], plain[f"b{layer}"])
        assert not np.allclose(got[f"W{layer}"], plain[f"W{layer}"])


# n: the training-set size ------------------------------------------------------------------------

@pytest.mark.parametrize("regulariser", REGULARISERS, ids=lambda r: r[0])
def test_n_is_the_training_set_size(regulariser):
    """n= replaces the batch in λ/n only; the mean over the batch stays a mean over the batch."""
    sizes = (3, 5, 2)
    gen = generate(network(sizes, "sigmoid", "cross_entropy", regulariser))
    params, X, Y = problem(sizes, "cross_entropy", 10, seed=6)
    names = ["sigmoid", "sigmoid"]
    for n in (10, 50_000, 3, 1234.5):
        want = oracle_backprop(names, "cross_entropy", params, X, Y, regulariser, n=n)
        close(gen.gradients(params, X, Y, n=n), want, 1e-9, 1e-12)
        want_cost = oracle_cost(names, "cross_entropy", params, X, Y, regulariser, n=n)
        assert gen.cost(params, X, Y, n=n) == pytest.approx(want_cost, rel=1e-12)
        value, grads = gen.value_and_gradients(params, X, Y, n=n)
        assert value == pytest.approx(want_cost, rel=1e-12)
        close(grads, want, 1e-9, 1e-12)
    # the default is the rows of X; the contract's positional calls work as before
    assert gen.cost(params, X, Y) == gen.cost(params, X, Y, n=10) == gen.cost(params, X, Y, n=None)
    close(gen.gradients(params, X, Y), gen.gradients(params, X, Y, n=10), 0, 0)
    # a larger training set weakens the penalty: λ/n → 0
    unregularised = generate(sb.Network.parse(list(sizes), "sigmoid", "cross_entropy"))
    close(gen.gradients(params, X, Y, n=1e15), unregularised.gradients(params, X, Y), 1e-12, 1e-14)


def test_n_is_keyword_only_checked_and_harmless_without_regularisation():
    gen = generate(sb.Network.parse("3,4,2", "sigmoid", "quadratic", l2=0.1))
    params, X, Y = random_problem((3, 4, 2), 5)
    with pytest.raises(TypeError):
        gen.gradients(params, X, Y, 100)  # n is a keyword: no fourth positional argument
    for bad, error, message in [(0, ValueError, "above 0"), (-5, ValueError, "above 0"),
                                (float("inf"), ValueError, "above 0"), (float("nan"), ValueError, "above 0"),
                                ("many", TypeError, "a number; got 'many'"), ([10], TypeError, "a number")]:
        for function in (gen.cost, gen.gradients, gen.value_and_gradients):
            with pytest.raises(error, match=f"n must be the number of training examples, {message}"):
                function(params, X, Y, n=bad)
    plain = generate(sb.Network.parse("3,4,2", "sigmoid", "quadratic"))  # no λ: n changes nothing
    assert plain.cost(params, X, Y, n=1000) == plain.cost(params, X, Y)
    close(plain.gradients(params, X, Y, n=1000), plain.gradients(params, X, Y), 0, 0)
    with pytest.raises(ValueError, match="above 0"):
        plain.gradients(params, X, Y, n=0)


# Printed from the derivation --------------------------------------------------------------------

def test_the_penalty_is_printed_from_the_derivation():
    l2 = source(sb.Network.parse("3,4,2", "sigmoid", "quadratic", l2=0.25))
    assert "LAMBDA_L2 = 0.25  # lambda of L2 regularisation (weight decay)" in l2
    assert "grad_W1 += (LAMBDA_L2/n)*W1" in l2 and "grad_W2 = grad_W2 + (LAMBDA_L2/n)*W2" in l2
    assert r"\frac{\partial C}{\partial w^{(l)}} = \frac{\partial C_{0}}{\partial w^{(l)}} + \frac{\lambda}{n} w^{(l)}" in l2
    assert "np.vdot(W1, W1) + np.vdot(W2, W2)" in l2  # Σ w² as BLAS dot products
    assert "grad_b1 +=" not in l2 and "grad_b1 = grad_b1" not in l2  # biases are not penalised
    l1 = source(sb.Network.parse("3,4,2", "sigmoid", "quadratic", l1=0.5))
    assert "grad_W1 += (LAMBDA_L1/n)*np.sign(W1)" in l1 and "(LAMBDA_L1/n)*xp.sign(W2)" in l1
    assert "return LAMBDA_L1*(np.sum(abs(W1)) + np.sum(abs(W2)))/n" in l1  # abs(): __abs__ of any array library


def test_a_new_regulariser_is_one_registry_entry(monkeypatch):
    """The code follows the registry's penalty through SymPy: w⁴/4 gives the slope w³."""
    import sympy

    from symbackprop import regularisers

    entry = regularisers.Regulariser(
        name="l4", option="--l4", penalty=lambda w: w ** 4 / 4, numpy_penalty=lambda W: np.sum(W ** 4) / 4,
        numpy_slope=lambda W: W ** 3, description="a quartic penalty", title="L4 regularisation")
    monkeypatch.setitem(regularisers.REGISTRY, "l4", entry)
    assert sympy.diff(entry.penalty(sympy.Symbol("w")), "w") == sympy.Symbol("w") ** 3
    net = sb.Network.parse("3,4,2", "tanh", "half_quadratic", l4=0.4)
    gen = generate(net)
    assert "grad_W1 += (LAMBDA_L4/n)*W1**3" in gen.SOURCE
    params, X, Y = random_problem((3, 4, 2), 6, seed=2)
    want = oracle_backprop(["tanh"] * 2, "half_quadratic", params, X, Y)
    for name in ("W1", "W2"):
        want[name] = want[name] + 0.4 / 6 * params[name] ** 3
    close(gen.gradients(params, X, Y), want, 1e-9, 1e-12)
    penalty = 0.4 / 6 * sum(np.sum(params[name] ** 4) / 4 for name in ("W1", "W2"))
    assert gen.cost(params, X, Y) == pytest.approx(oracle_cost(["tanh"] * 2, "half_quadratic", params, X, Y) + penalty)


def test_generated_regularised_modules_have_no_unused_names():
    import pyflakes.api as pyflakes_api
    from pyflakes.reporter import Reporter

    for sizes, acts, cost, reg in [("5,7,3", "relu,softmax", "log_likelihood", {"l2": 5.0}),
                                   ("3,4", "sigmoid", "cross_entropy", {"l1": 0.1}),
                                   ("3,4,6,2", "tanh,identity,sigmoid", "quadratic", {"l2": 1e-3})]:
        out = io.StringIO()
        count = pyflakes_api.check(source(sb.Network.parse(sizes, acts, cost, **reg)), "generated.py",
                                   Reporter(out, out))
        assert count == 0, out.getvalue()
