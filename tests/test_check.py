"""`check`: four independent gradients agree, and a wrong one is reported with exit 1."""

import json

import numpy as np
import pytest

from symbackprop import gradcheck, numeric
from symbackprop.gradcheck import check
from symbackprop.spec import Network

from conftest import run_cli


@pytest.mark.parametrize("sizes,activation,cost", [
    ("1,1,1,1", "sigmoid", "quadratic"),
    ("2,3,2", "relu,sigmoid", "cross_entropy"),
    ("3,2,4,1", "tanh", "half_quadratic"),
    ("4,1,3", "softplus,identity", "quadratic"),
    ("5,4", "sigmoid", "cross_entropy"),
])
def test_all_methods_agree(sizes, activation, cost):
    report = check(Network.parse(sizes, activation, cost), batch=2)
    assert report.agree
    used = {m.key for m in report.methods if not m.skipped}
    assert {"derived", "backprop", "fd"} <= used
    for _, _, diffs in report.rows:
        assert diffs["derived"][1] < 1e-9 and diffs["fd"][0] < 1e-6


def test_small_networks_use_sympy_diff_and_big_ones_say_they_skip_it():
    small = check(Network.parse("1,1,1,1"), batch=1)
    assert not next(m for m in small.methods if m.key == "sympy").skipped
    big = check(Network.parse("20,20,10"), batch=1)
    sympy_method = next(m for m in big.methods if m.key == "sympy")
    assert "parameters > 30" in sympy_method.skipped
    assert "skipped" in big.text()


def test_a_wrong_gradient_is_a_disagreement(monkeypatch):
    """Sabotage the numerical backprop (drop the 2 of the cost): check must report it."""
    real = numeric.backprop

    def half(network, params, X, Y):
        return {k: v / 2 for k, v in real(network, params, X, Y).items()}

    monkeypatch.setattr(numeric, "backprop", half)
    report = gradcheck.check(Network.parse("1,2,1"), batch=1)
    assert not report.agree
    assert "DISAGREEMENT" in report.text()


def test_cli_check_prints_the_table_and_exits_0():
    result = run_cli("check", "--sizes", "2,2,1", "--activation", "tanh,sigmoid")
    assert result.returncode == 0, result.stderr
    for word in ("derived formulas", "sympy.diff", "finite differences", "W1", "b2", "absolute / relative", "all gradients agree"):
        assert word in result.stdout


def test_cli_check_json():
    result = run_cli("check", "--json", "--batch", "1")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["agree"] is True
    assert [r["parameter"] for r in data["rows"]] == ["W1", "b1", "W2", "b2", "W3", "b3"]


def test_cli_check_on_a_big_network_stays_bounded():
    result = run_cli("check", "--sizes", "784,256,10", "--batch", "2", timeout=60)
    assert result.returncode == 0
    assert "sampled entries" in result.stdout


def test_numeric_backprop_matches_an_independent_one():
    """A sigmoid/quadratic backprop written out here, sharing no code with the package."""
    net = Network.parse("3,4,2")
    params = numeric.init_params(net, seed=5)
    X, Y = numeric.random_batch(net, 6, seed=9)
    sig = lambda z: 1 / (1 + np.exp(-z))
    a0 = X
    z1 = a0 @ params["W1"].T + params["b1"]; a1 = sig(z1)
    z2 = a1 @ params["W2"].T + params["b2"]; a2 = sig(z2)
    d2 = 2 * (a2 - Y) * a2 * (1 - a2)
    d1 = (d2 @ params["W2"]) * a1 * (1 - a1)
    expected = {"W2": d2.T @ a1 / 6, "b2": d2.mean(0), "W1": d1.T @ a0 / 6, "b1": d1.mean(0)}
    got = numeric.backprop(net, params, X, Y)
    for name in expected:
        assert np.allclose(got[name], expected[name], rtol=1e-12)


def test_finite_differences_redone_from_the_nudged_neuron_equal_whole_forward_passes():
    """numeric.finite_differences keeps the forward pass and redoes it from the nudged neuron; a
    plain central difference with a whole forward pass per entry, written here, must agree."""
    import numpy as np

    from symbackprop import numeric

    net = Network.parse("4,5,3,2", "tanh,relu,sigmoid", "cross_entropy")
    params = numeric.init_params(net, seed=4)
    X, Y = numeric.random_batch(net, 5, seed=5)
    fast = numeric.finite_differences(net, params, X, Y)

    def mean_cost(p):
        a = X
        for layer in range(1, net.depth + 1):
            z = a @ p[f"W{layer}"].T + p[f"b{layer}"]
            a = net.activation(layer).numpy(z)
        return float(np.mean(net.cost_entry.numpy(a, z, Y)))

    for name, value in params.items():
        for index in range(value.size):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name].flat[index] += 1e-6
            down[name].flat[index] -= 1e-6
            slow = (mean_cost(up) - mean_cost(down)) / 2e-6
            assert abs(fast[name].flat[index] - slow) <= 1e-6 * max(1.0, abs(slow)), (name, index)


def test_a_big_network_is_sampled_and_says_how_much():
    report = check(Network.parse("60,60,10"), batch=2)
    assert report.agree, report.text()
    fd = next(m for m in report.methods if m.key == "fd")
    assert "sampled entries of 4,270" in fd.note
    assert "sympy.diff" in report.text() and "skipped" in report.text()


@pytest.mark.parametrize("sizes,activation,cost,regularisation", [
    ("3,4,3", "sigmoid,softmax", "log_likelihood", {}),
    ("4,3", "softmax", "log_likelihood", {"l2": 0.5}),
    ("2,3,4", "tanh,softmax", "quadratic", {}),
    ("3,2,3", "relu,softmax", "half_quadratic", {"l1": 0.2}),
    ("3,4,2", "sigmoid", "cross_entropy", {"l2": 0.1}),
    ("2,3,2", "tanh,identity", "quadratic", {"l1": 0.3}),
], ids=["softmax-ll", "softmax-ll-l2", "softmax-quadratic", "softmax-half-l1", "sigmoid-ce-l2", "identity-l1"])
def test_softmax_and_regularised_networks_agree_in_every_column(sizes, activation, cost, regularisation):
    report = check(Network.parse(sizes, activation, cost, **regularisation), batch=3)
    assert report.agree, report.text()
    used = {m.key for m in report.methods if not m.skipped}
    assert {"derived", "backprop", "fd", "generated"} <= used
    for _, _, diffs in report.rows:
        assert diffs["generated"][1] < 1e-10 and diffs["fd"][0] < 1e-6


def test_cli_check_with_l2_and_softmax_exits_0():
    result = run_cli("check", "--sizes", "3,4,3", "--activation", "sigmoid,softmax", "--cost", "log_likelihood",
                     "--l2", "0.1", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["agree"] is True and data["network"]["regularisation"] == {"l2": 0.1}
    assert all("generated" in row["diffs"] and row["diffs"]["generated"]["max_rel"] < 1e-10 for row in data["rows"])
