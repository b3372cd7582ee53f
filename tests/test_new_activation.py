"""A new activation is one registry entry: leaky_relu appears correctly everywhere.

derive (SymPy's derivative of its expression), the notes (its prose, from the entry), verify
(sample points on both sides of its kink; a missing σ' is caught), codegen and check — with no
module or template that knows its name.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symbackprop
from symbackprop import activations, numeric
from symbackprop.derivation import derive
from symbackprop.gradcheck import check
from symbackprop.render import render_notes
from symbackprop.spec import Network
from symbackprop.verifier import verify
from symbackprop.verifier.compare import points

NET = Network.parse("3,4,4,2", "leaky_relu,leaky_relu,sigmoid", "cross_entropy")
PACKAGE = Path(symbackprop.__file__).parent


def test_no_module_or_template_names_an_activation_or_a_cost():
    """The registries are the only place names appear (spec's aliases and defaults aside)."""
    names = set(activations.REGISTRY) | set(symbackprop.COSTS)
    names.discard("tanh")  # also the math function \\tanh, which the parser reads and the printers write
    allowed = {"activations.py", "costs.py", "spec.py", "__init__.py"}
    for path in list(PACKAGE.rglob("*.py")) + list(PACKAGE.rglob("*.j2")):
        if path.name in allowed or "web" in path.parts:
            continue
        text = path.read_text()
        for name in names:
            assert not re.search(rf"""["']{name}["']""", text), f"{path.name} names {name!r}"


def test_derive_takes_the_derivative_from_the_expression():
    slope = derive(NET).slope("leaky_relu")
    z = sp.Symbol("z")
    assert slope.derivative.subs(z, 2) == 1 and slope.derivative.subs(z, -2) == sp.Rational(1, 100)
    assert "LReLU" in slope.latex()


def test_check_agrees_for_every_method():
    report = check(NET)
    assert report.agree, report.text()
    assert {m.key for m in report.methods if not m.skipped} >= {"derived", "backprop", "fd", "generated"}


def test_generated_code_matches_the_numerical_backprop():
    module = symbackprop.compile(NET)
    params = numeric.init_params(NET, seed=3)
    X, Y = numeric.random_batch(NET, 16, seed=4)
    X[:, 0] = -5.0  # push some neurons below the kink
    expected = numeric.backprop(NET, params, X, Y)
    got = module.gradients(params, X, Y)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, atol=1e-12)


def test_notes_carry_the_entrys_prose():
    text = render_notes(NET, "markdown")
    entry = activations.get("leaky_relu")
    assert entry.description in text and entry.flat in text and entry.at_kinks in text
    prose = re.sub(r"```.*?```|!\[[^]]*\]\([^)]*\)", "", text, flags=re.S)  # not the commands, not file names
    assert "leaky_relu" not in prose and "cross_entropy" not in prose and "leaky ReLU" in prose


def test_verify_samples_both_sides_of_the_kink():
    zs = np.concatenate([p.z[layer] for p in points(NET) for layer in (1, 2)])
    assert (zs > 0).any() and (zs < 0).any()
    right = verify(r"\frac{\partial C_0}{\partial b^{(1)}_j} = \delta^{(1)}_j", NET)
    assert right.equivalent, right.text()
    no_slope = verify(r"\delta^{(1)}_j = \sum_k w^{(2)}_{kj} \delta^{(2)}_k", NET)
    assert not no_slope.equivalent


@pytest.mark.parametrize("z, slope", [(2.0, 1.0), (-2.0, 0.01)])
def test_numeric_slope_on_each_side(z, slope):
    assert float(numeric.slope_of_z("leaky_relu")(np.array(z))) == pytest.approx(slope)
    a = activations.get("leaky_relu").numpy(np.array(z))
    assert float(numeric.slope_from_output("leaky_relu")(a)) == pytest.approx(slope)
