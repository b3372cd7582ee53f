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
