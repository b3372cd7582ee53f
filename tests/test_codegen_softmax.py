"""codegen with a softmax output layer: the log-likelihood, and softmax with the other costs.

Against the hand-written oracle (``codegen_oracle``: the softmax by another route, δᴸ = Jᵀ ∂C/∂a
through the whole Jacobian, written out per example), its finite differences, and numbers worked
out by hand for huge |z|.
"""

import io
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import symbackprop as sb
from symbackprop.codegen import compile as generate, source

from codegen_oracle import (BLOCK_SYMPY, close, oracle_backprop, oracle_cost, oracle_finite_differences, oracle_forward,
                            probability_targets, random_problem)
from conftest import run_cli

COSTS = ["log_likelihood", "quadratic", "half_quadratic"]  # (cross-entropy's outputs are not a distribution)
SHAPES = [((4, 3), "softmax"), ((3, 5, 4), "tanh,softmax"), ((2, 6, 4, 3), "relu,sigmoid,softmax"),
          ((3, 4, 2), "softplus,softmax")]


def problem(sizes, cost, batch, seed=0):
    """Parameters, X and targets; for the log-likelihood each row of Y adds up to 1 (half one-hot)."""
    params, X, Y = random_problem(sizes, batch, seed=seed)
    if cost == "log_likelihood":
        Y = probability_targets(batch, sizes[-1], seed=seed)
        Y[::2] = probability_targets(batch, sizes[-1], seed=seed, one_hot=True)[::2]
    return params, X, Y


GRID = [(sizes, acts, cost) for sizes, acts in SHAPES for cost in COSTS]


@pytest.mark.parametrize("sizes,acts,cost", [("3,4,1", "tanh,softmax", "log_likelihood"),
                                             ("3,4,3", "tanh,softmax", "cross_entropy")])
def test_what_softmax_cannot_be_is_refused(sizes, acts, cost):
    """One softmax output is always 1; cross-entropy takes each output as its own probability."""
    with pytest.raises(sb.SymbackpropError, match="softmax"):
        sb.Network.parse(sizes, acts, cost)


@pytest.mark.parametrize("sizes,acts,cost", GRID, ids=[f"{'-'.join(map(str, s))}-{a}-{c}" for s, a, c in GRID])
def test_against_oracle(sizes, acts, cost):
    net = sb.Network.parse(list(sizes), acts, cost)
    gen = generate(net)
    names = acts.split(",")
    for batch in (1, 300):
        params, X, Y = problem(sizes, cost, batch, seed=batch)
        want = oracle_backprop(names, cost, params, X, Y)
        got = gen.gradients(params, X, Y)
        assert all(got[k].shape == params[k].shape and got[k].dtype == np.float64 for k in params)
        close(got, want, 1e-9, 1e-12)
        np.testing.assert_allclose(gen.cost(params, X, Y), oracle_cost(names, cost, params, X, Y), rtol=1e-12)
        out = gen.forward(params, X)
        np.testing.assert_allclose(out, oracle_forward(names, params, X)[1], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-14)
        value, grads = gen.value_and_gradients(params, X, Y)
        assert value == gen.cost(params, X, Y)
        close(grads, want, 1e-9, 1e-12)

        p32 = {k: v.astype(np.float32) for k, v in params.items()}
        X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
        got32 = gen.gradients(p32, X32, Y32)
        assert all(g.dtype == np.float32 for g in got32.values())
        assert gen.forward(p32, X32).dtype == np.float32 and np.asarray(gen.cost(p32, X32, Y32)).dtype == np.float32
        close(got32, oracle_backprop(names, cost, p32, X32, Y32), 2e-3, 2e-4)


@pytest.mark.parametrize("cost", COSTS)
def test_against_finite_differences(cost):
    sizes, acts = (3, 4, 3), ["tanh", "softmax"]
    params, X, Y = problem(sizes, cost, 6, seed=3)
    got = generate(sb.Network.parse(list(sizes), acts, cost)).gradients(params, X, Y)
    close(got, oracle_finite_differences(acts, cost, params, X, Y), 1e-5, 1e-7)


@pytest.mark.parametrize("cost", COSTS)
def test_large_arrays_take_the_in_place_path(cost):
    sizes, acts = (40, 130, 70, 10), "relu,tanh,softmax"
    gen = generate(sb.Network.parse(list(sizes), acts, cost))
    params, X, Y = problem(sizes, cost, 64, seed=5)
    assert 64 * 70 >= gen.IN_PLACE_FROM
    close(gen.gradients(params, X, Y), oracle_backprop(acts.split(","), cost, params, X, Y), 1e-9, 1e-12)


# Numerics: |z| up to 1e4 -------------------------------------------------------------------------

def _one_layer(dtype):
    """A 3-3 softmax layer with W = I and b = 0: z is X itself."""
    return {"W1": np.eye(3, dtype=dtype), "b1": np.zeros(3, dtype)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_likelihood_is_exact_for_huge_z(dtype):
    """z = (1e4, 0, -1e4): softmax is (1, 0, 0) in floating point; C₀ = ln Σ e^z − z_y exactly
    (e^{1e4} alone overflows; the log-sum-exp shifted by the largest z does not)."""
    gen = generate(sb.Network.parse("3,3", "softmax", "log_likelihood"))
    params = _one_layer(dtype)
    X = np.array([[1e4, 0, -1e4]] * 3, dtype)
    Y = np.eye(3, dtype=dtype)
    with np.errstate(all="raise"):
        out = gen.forward(params, X)
        per_example = [gen.cost(params, X[i:i + 1], Y[i:i + 1]) for i in range(3)]
        value, grads = gen.value_and_gradients(params, X, Y)
    assert out.dtype == dtype and np.array_equal(out, np.array([[1, 0, 0]] * 3, dtype))
    assert per_example == [0.0, 1e4, 2e4] and all(np.asarray(c).dtype == dtype for c in per_example)
    assert value == pytest.approx(1e4) and np.asarray(value).dtype == dtype
    # δ = (a − y)/batch for each row: the gradient of b is the mean of a − y
    np.testing.assert_allclose(grads["b1"], (np.array([3, 0, 0]) - 1) / 3, rtol=1e-6)
    assert all(g.dtype == dtype and np.isfinite(g).all() for g in grads.values())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cost", ["log_likelihood", "quadratic", "half_quadratic"])
def test_finite_and_quiet_for_huge_z(cost, dtype):
    """|z| up to 1e4, every hidden activation: nothing raises under np.errstate(all="raise"), nothing
    is inf or NaN, float32 stays float32, on both the small and the in-place path."""
    sizes = (2, 80, 5)
    for acts in ("sigmoid,softmax", "softplus,softmax", "tanh,softmax", "identity,softmax"):
        gen = generate(sb.Network.parse(list(sizes), acts, cost))
        params, _, Y = problem(sizes, cost, 100, seed=2)
        params = {k: v.astype(dtype) for k, v in params.items()}
        params["W1"] = np.ones_like(params["W1"])
        if acts.startswith("identity"):
            params["W2"] = np.full_like(params["W2"], 1 / 80)  # the identity passes 1e4 on: z^{(2)} near ±1e4
        for batch in (100, 3):
            X = np.linspace(-1e4, 1e4, 2 * batch, dtype=dtype).reshape(batch, 2)
            with np.errstate(all="raise"):
                value, grads = gen.value_and_gradients(params, X, Y[:batch].astype(dtype))
                out = gen.forward(params, X)
            assert np.isfinite(value) and np.asarray(value).dtype == dtype
            assert all(np.isfinite(g).all() and g.dtype == dtype for g in grads.values())
            assert np.isfinite(out).all() and out.dtype == dtype


# What the generated code says and checks -------------------------------------------------------

def test_targets_must_add_up_to_one_for_the_log_likelihood():
    gen = generate(sb.Network.parse("3,4,3", "sigmoid,softmax", "log_likelihood"))
    params, X, _ = random_problem((3, 4, 3), 5)
    Y = probability_targets(5, 3, seed=1)
    Y[3] *= 0.6
    with pytest.raises(ValueError, match=r"every row of Y must add up to 1 .*log_likelihood cost, whose output "
                                         r"error a - y assumes it; row 3 adds up to 0\.6\b"):
        gen.gradients(params, X, Y)
    with pytest.raises(ValueError, match="row 3 adds up to 0.6"):
        gen.value_and_gradients(params, X, Y)
    assert np.isfinite(gen.cost(params, X, Y))  # the cost itself is defined for any targets
    Y[3] /= 0.6
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    gen.gradients(p32, X, (Y * (1 + 1e-6)).astype(np.float32))  # within float32's rounding: passes
    assert "TARGETS ADD UP TO 1" in gen.SOURCE
    other = generate(sb.Network.parse("3,4,3", "sigmoid,softmax", "quadratic"))  # δ assumes nothing there
    other.gradients(params, X, np.full((5, 3), 0.9))
    assert "TARGETS ADD UP TO 1" not in other.SOURCE


def test_the_output_error_is_printed_from_the_derivation():
    """a − y where the derivation simplifies Jᵀ∇ₐC to it (log-likelihood); a ⊙ (g − Σ a g) with the Σ
    along each row otherwise (quadratic: g = 2(a − y))."""
    ll = sb.Network.parse("2,3,4", "tanh,softmax", "log_likelihood")
    d = sb.derive(ll)
    assert d.output_error_cancels and d.output_error == d.output_error_symbols[0] - d.output_error_symbols[1]
    text = source(ll)
    assert "    delta2 = a2 - Y\n" in text
    assert r"\frac{\partial a^{(L)}_{i}}{\partial z^{(L)}_{j}} = \left(\delta_{i j} - a^{(L)}_{j}\right) a^{(L)}_{i}" in text
    assert "a2 = z2 - z2.max(axis=1, keepdims=True)" in text  # the stable softmax
    assert ("top = z2.max(axis=1, keepdims=True)\n"  # the log-sum-exp
            "    log_norm = top + np.log(np.sum(np.exp(z2 - top), axis=1, keepdims=True))") in text
    quad = source(sb.Network.parse("2,3,4", "tanh,softmax", "quadratic"))
    assert not sb.derive(sb.Network.parse("2,3,4", "tanh,softmax", "quadratic")).output_error_cancels
    assert "delta2 = (2.0 / batch)*a2*(a2 - Y - np.sum(a2*(a2 - Y), axis=1, keepdims=True))" in quad
    assert "delta2 = (2.0 / batch)*a2*(a2 - Y - xp.sum(a2*(a2 - Y), axis=1, keepdims=True))" in quad


def test_a_normalised_layer_follows_its_registry_entry(monkeypatch):
    """codegen reads ``elementwise`` and the expression, not the name: a normalised layer with
    e(z) = e^{2z} (softmax of 2z) is shifted too, and its gradients match the oracle's softmax of 2z."""
    import sympy

    from symbackprop import activations

    entry = activations.Activation(
        name="softmax2", latex=r"\operatorname{softmax_2}", expression=lambda t: sympy.exp(2 * t),
        derivative_from_output=lambda a: 2 * a * (1 - a), numpy=None, output_range=(0, 1),
        description="softmax of 2z", elementwise=False)
    monkeypatch.setitem(activations.REGISTRY, "softmax2", entry)
    gen = generate(sb.Network.parse("3,4,3", "tanh,softmax2", "half_quadratic"))
    assert "a2 -= a2.max(axis=1, keepdims=True)\n    a2 *= 2.0\n    np.exp(a2, out=a2)" in gen.SOURCE
    params, X, Y = random_problem((3, 4, 3), 7, seed=1)
    doubled = dict(params, W2=2 * params["W2"], b2=2 * params["b2"])  # softmax(2z) = softmax of the doubled layer
    want = oracle_backprop(["tanh", "softmax"], "half_quadratic", doubled, X, Y)
    want["W2"], want["b2"] = 2 * want["W2"], 2 * want["b2"]  # ∂C/∂W2 = 2 ∂C/∂(2 W2); W1, b1 as they are
    close(gen.gradients(params, X, Y), want, 1e-9, 1e-12)
    with np.errstate(all="raise"):
        assert np.isfinite(gen.forward(params, np.full((2, 3), 1e4))).all()


def test_generated_softmax_modules_have_no_unused_names():
    import pyflakes.api as pyflakes_api
    from pyflakes.reporter import Reporter

    for sizes, acts, cost in [("5,7,3", "relu,softmax", "log_likelihood"), ("3,4", "softmax", "quadratic"),
                              ("3,4,6,2", "tanh,identity,softmax", "half_quadratic")]:
        out = io.StringIO()
        count = pyflakes_api.check(source(sb.Network.parse(sizes, acts, cost)), "generated.py", Reporter(out, out))
        assert count == 0, out.getvalue()


def test_no_warning_from_the_targets_check_or_the_shift():
    gen = generate(sb.Network.parse("4,3", "softmax", "log_likelihood"))
    params, X, _ = random_problem((4, 3), 4)
    Y = probability_targets(4, 3, one_hot=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen.value_and_gradients(params, X, Y)


_RUN = BLOCK_SYMPY + """
import json, numpy as np
sys.path.insert(0, sys.argv[1])
import chapter3 as m
p = m.init_params(seed=0)
rng = np.random.default_rng(0)
X = rng.normal(size=(9, m.SIZES[0]))
Y = np.eye(m.SIZES[-1])[rng.integers(0, m.SIZES[-1], 9)]
value, g = m.value_and_gradients(p, X, Y, n=100)
print(json.dumps({"modules": sorted(k for k in sys.modules if k.split(".")[0] in ("sympy", "symbackprop")),
                  "cost": float(value), "lambda": m.LAMBDA_L2, "grads": {k: v.tolist() for k, v in g.items()},
                  "params": {k: v.tolist() for k, v in p.items()}, "X": X.tolist(), "Y": Y.tolist()}))
"""


def test_cli_writes_a_softmax_l2_module_that_runs_without_sympy(tmp_path):
    result = run_cli("codegen", "--sizes", "5,7,4", "--activation", "tanh,softmax", "--cost", "log_likelihood",
                     "--l2", "0.3", "-o", str(tmp_path / "chapter3.py"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "chapter3.py").read_text()
    assert "--cost log_likelihood --l2 0.3 -o FILE.py" in text and "LAMBDA_L2 = 0.3" in text
    run = subprocess.run([sys.executable, "-I", "-c", _RUN, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["modules"] == [] and data["lambda"] == 0.3
    params = {k: np.array(v) for k, v in data["params"].items()}
    X, Y = np.array(data["X"]), np.array(data["Y"])
    want = oracle_backprop(["tanh", "softmax"], "log_likelihood", params, X, Y, ("l2", 0.3), n=100)
    close({k: np.array(v) for k, v in data["grads"].items()}, want, 1e-9, 1e-12)
    assert data["cost"] == pytest.approx(oracle_cost(["tanh", "softmax"], "log_likelihood", params, X, Y,
                                                     ("l2", 0.3), n=100), rel=1e-12)
