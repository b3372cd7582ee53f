"""The derivation is data that follows the lectures step by step."""

import json

import pytest
import sympy as sp

from symbackprop import notation as nt
from symbackprop import printing
from symbackprop.derivation import ChainRule, PathSum, derive
from symbackprop.spec import Network

L, j, k, l = nt.L, nt.j, nt.k, nt.l


def same(a, b):
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


@pytest.fixture(scope="module")
def lectures():
    return derive()


def test_chain_rule_for_the_last_weight_has_the_lectures_three_factors(lectures):
    step = lectures.chain.steps[0]
    assert isinstance(step, ChainRule)
    assert step.lhs == nt.partial(nt.C0, nt.w[L])
    partials = [f.partial for f in step.factors]
    assert partials == [nt.partial(nt.z[L], nt.w[L]), nt.partial(nt.a[L], nt.z[L]), nt.partial(nt.C0, nt.a[L])]
    values = [f.value for f in step.factors]
    assert values[0] == nt.a[L - 1]
    assert values[1] == nt.sigma_prime(nt.z[L])
    assert same(values[2], 2 * (nt.a[L] - nt.target))
    assert [f.role for f in step.factors] == ["input_activation", "activation_slope", "cost_slope"]
    assert "fire together" in step.factors[0].meaning
    assert "satur" in step.factors[1].meaning


def test_bias_factor_is_one_and_previous_activation_factor_is_the_weight(lectures):
    bias, prev = lectures.chain.steps[1], lectures.chain.steps[2]
    assert bias.target == nt.b[L] and bias.factors[0].value == 1
    assert prev.target == nt.a[L - 1] and prev.factors[0].value == nt.w[L]


@pytest.mark.parametrize("sizes", ["1,1", "1,1,1,1", "1,1,1,1,1,1"])
def test_chain_reaches_every_layer_of_the_network(sizes):
    net = Network.parse(sizes)
    steps = derive(net).chain.steps
    # w and b for every layer, and ∂C/∂a for every hidden layer
    assert len(steps) == 3 * net.depth - 1
    targets = {s.target for s in steps}
    for i in range(net.depth):
        assert nt.w[L - i] in targets and nt.b[L - i] in targets
    assert nt.a[L - net.depth] not in targets  # never ∂C/∂x: nobody adjusts the input


def test_recursion_expands_to_the_product_along_the_chain(lectures):
    last = lectures.chain.steps[-1]  # ∂C0/∂b^(L-2)
    expanded = lectures.chain.expanded(last)
    assert not expanded.has(sp.Derivative)
    expected = (nt.sigma_prime(nt.z[L - 2]) * nt.w[L - 1] * nt.sigma_prime(nt.z[L - 1])
                * nt.w[L] * nt.sigma_prime(nt.z[L]) * 2 * (nt.a[L] - nt.target))
    assert same(expanded, expected)


def test_weight_with_indices_and_the_sum_over_paths(lectures):
    assert same(lectures.weight.rhs, nt.a[L - 1, k] * nt.sigma_prime(nt.z[L, j]) * 2 * (nt.a[L, j] - nt.y[j]))
    assert isinstance(lectures.paths, PathSum)
    assert lectures.paths.index == j and lectures.paths.upper == nt.n[L] - 1
    summand = lectures.paths.rhs.function
    assert summand.has(nt.w[L, j, k]) and summand.has(nt.sigma_prime(nt.z[L, j]))


def test_bp_equations_in_index_form(lectures):
    bp = {e.name: e for e in lectures.bp}
    assert set(bp) == {"BP1", "BP2", "BP3", "BP4"}
    assert bp["BP3"].index_rhs == nt.delta[l, j]
    assert same(bp["BP4"].index_rhs, nt.a[l - 1, k] * nt.delta[l, j])
    bp2 = bp["BP2"].index_rhs
    assert bp2.has(nt.w[l + 1, k, j]) and bp2.has(nt.delta[l + 1, k]) and bp2.has(nt.sigma_prime(nt.z[l, j]))


@pytest.mark.parametrize("sizes", ["4,3,2", "1,1,1", "2,1,3"])
@pytest.mark.parametrize("name", ["BP1", "BP2", "BP3", "BP4"])
def test_matrix_form_is_the_index_form_entry_by_entry(lectures, sizes, name):
    """Each BP equation in matrix form, made explicit for concrete widths, equals its index form."""
    from symbackprop.instantiate import concrete, explicit_matrix

    net = Network.parse(sizes)
    eq = lectures.bp_equation(name)
    layer = 2 if name == "BP1" else 1
    matrix = explicit_matrix(eq.matrix_rhs, net, l=layer)
    rows, cols = matrix.shape
    assert rows == net.width(layer)
    for jj in range(rows):
        for kk in range(cols):
            index_form = concrete(eq.index_rhs, net, l=layer, j=jj, k=kk)
            assert sp.expand(matrix[jj, kk] - index_form) == 0, (jj, kk)


def test_sigmoid_with_cross_entropy_simplifies_to_a_minus_y():
    d = derive(Network.parse("3,2", "sigmoid", "cross_entropy"))
    a, y = d.output_error_symbols
    assert d.output_error == a - y


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "identity", "softplus"])
@pytest.mark.parametrize("cost", ["quadratic", "half_quadratic"])
def test_output_error_is_cost_slope_times_activation_slope(act, cost):
    d = derive(Network.parse("2,2", act, cost))
    a, y = d.output_error_symbols
    from symbackprop import activations, costs

    expected = sp.diff(costs.get(cost).per_neuron(a, y), a) * activations.get(act).derivative_from_output(a)
    for av, yv in [(0.3, 0.8), (0.6, 0.1)]:
        assert float(d.output_error.subs({a: av, y: yv})) == pytest.approx(float(expected.subs({a: av, y: yv})))


def test_derivation_does_not_depend_on_width():
    narrow = derive(Network.parse("1,1,1"))
    wide = derive(Network.parse("4096,4096,10"))
    assert [e.latex() for e in narrow.bp] == [e.latex() for e in wide.bp]
    assert narrow.paths.latex() == wide.paths.latex()


def test_layers_cover_every_concrete_layer():
    d = derive(Network.parse("3,4,5,2", "relu,tanh,sigmoid"))
    assert [s.number for s in d.layers] == [3, 2, 1]
    assert [s.activation for s in d.layers] == ["sigmoid", "tanh", "relu"]
    assert d.layers[0].delta.name == "BP1" and d.layers[1].delta.name == "BP2"
    assert printing.latex(d.layers[2].label) == "L - 2"


def test_average_over_examples(lectures):
    text = lectures.average.latex()
    assert r"\frac{1}{n}" in text and r"\sum_{x=1}^{n}" in text and "C_{x}" in text


def test_printing_follows_the_notation(lectures):
    assert printing.latex(nt.w[L - 1, j, k]) == "w^{(L-1)}_{jk}"
    assert printing.latex(nt.w[2, 10, 3]) == "w^{(2)}_{10,3}"
    assert printing.latex(nt.sigma_prime(nt.z[L])) == r"\sigma'(z^{(L)})"
    assert lectures.bp_equation("BP2").matrix_latex() == (
        r"\delta^{(l)} = \left(\left(w^{(l+1)}\right)^{T} \delta^{(l+1)}\right) \odot \sigma'(z^{(l)})")
    assert lectures.chain.steps[0].latex().startswith(
        r"\frac{\partial C_{0}}{\partial w^{(L)}} = \frac{\partial z^{(L)}}{\partial w^{(L)}} "
        r"\frac{\partial a^{(L)}}{\partial z^{(L)}} \frac{\partial C_{0}}{\partial a^{(L)}}")
    assert lectures.chain.steps[0].latex().endswith(r"a^{(L-1)} \sigma'(z^{(L)}) \cdot 2 \left(a^{(L)} - y\right)")


def test_jupyter_display_and_json(lectures):
    assert lectures._repr_latex_().startswith("$") and lectures.weight._repr_latex_().endswith("$")
    data = json.loads(json.dumps(lectures.to_dict()))
    assert [b["name"] for b in data["bp"]] == ["BP1", "BP2", "BP3", "BP4"]
    assert data["chain"]["steps"][0]["factors"][0]["role"] == "input_activation"
