r"""verify never passes a wrong answer: the cases that once came back "equivalent".

Index and transpose mistakes on the lectures' 1-1-1-1 network (where they cannot show) are
caught on a witness network of the same depth; a dropped ReLU' is caught at the point where
every layer is active; vanishing gradients are compared relative to their size; near-misses
below double precision are caught at 50 digits; ``= 0`` is never "identical".
"""

import pytest

from symbackprop.spec import Network
from symbackprop.verifier import verify
from symbackprop.verifier.compare import points
from symbackprop.verifier.verdict import WITNESS_WIDTH

ONE = Network.parse()
RELU = Network.parse("1,1,1,1", "relu")
W_L = r"\frac{\partial C_0}{\partial w^{(L)}}"
RIGHT_W_L = W_L + r" = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"


def _deep_chain(layers):
    """∂C₀/∂b⁽¹⁾ on a one-neuron sigmoid chain: a product of ~layers factors below 1/4."""
    net = Network.parse(",".join(["1"] * (layers + 1)))
    chain = " ".join(rf"\sigma'(z^{{({i})}}) w^{{({i + 1})}}" for i in range(1, layers))
    return net, rf"\frac{{\partial C_0}}{{\partial b^{{(1)}}}} = {chain} \sigma'(z^{{({layers})}}) 2(a^{{({layers})}} - y)"


WITNESSED = [
    ("missing-transpose", r"\delta^l = (w^{l+1} \delta^{l+1}) \odot \sigma'(z^l)", "missing_transpose"),
    ("wrong-order", r"\frac{\partial C}{\partial w^l} = (a^{l-1})^T \delta^l", "wrong_order"),
    ("j-k-swapped", r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_j \delta^l_k", "swapped_indices"),
    ("w-jk-for-w-kj", r"\delta^{(L-1)}_{j} = \left(\sum_{k} w^{(L)}_{jk} \delta^{(L)}_{k}\right) \sigma'(z^{(L-1)}_{j})",
     "swapped_indices"),
    ("no-sum", r"\frac{\partial C_0}{\partial a^{(L-1)}_{k}} = w^{(L)}_{jk} \sigma'(z^{(L)}_{j}) 2(a^{(L)}_{j} - y_{j})",
     "missing_sum"),
]


@pytest.mark.parametrize("formula, code", [c[1:] for c in WITNESSED], ids=[c[0] for c in WITNESSED])
def test_index_and_transpose_mistakes_show_on_a_witness_network(formula, code):
    result = verify(formula, ONE)
    assert not result.equivalent, result.text()
    assert result.network.sizes == (WITNESS_WIDTH,) * 4  # same depth, every layer wide enough
    assert result.network.activations == ONE.activations and result.network.cost == ONE.cost
    assert code in [d["code"] for d in result.diagnosis], result.text()
    assert any("1-1-1-1" in note and "3-3-3-3" in note for note in result.notes)
    assert result.counterexample is not None
    assert result.parsed == verify(formula, result.network).parsed  # read as on the network that decided


def test_read_as_keeps_the_order_of_a_matrix_product_the_witness_judged():
    result = verify(r"\delta^l = (w^{l+1} \delta^{l+1}) \odot \sigma'(z^l)", ONE)
    assert result.parsed_text == "δ^(l) = (w^(l+1) δ^(l+1)) ⊙ σ'(z^(l))"


@pytest.mark.parametrize("formula", [
    r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)",
    r"\frac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^T",
    r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j",
    r"\frac{\partial C_0}{\partial a^{(L-1)}_{k}} = \sum_j w^{(L)}_{jk} \sigma'(z^{(L)}_{j}) 2(a^{(L)}_{j} - y_{j})",
    RIGHT_W_L,  # the lectures' one-neuron chain is not held to a wider network
])
def test_right_forms_stay_right_on_the_narrow_network(formula):
    result = verify(formula, ONE)
    assert result.equivalent, result.text()
    assert result.network == ONE


def test_a_dropped_relu_slope_is_caught_where_every_layer_is_active():
    assert points(RELU)[0].regime == "active" and all(z[0] > 0 for z in points(RELU)[0].z[1:])
    for formula in (W_L + r" = a^{(L-1)} 2(a^{(L)} - y)", r"\frac{\partial C_0}{\partial w^{(1)}} = 0",
                    r"\frac{\partial C_0}{\partial b^{(1)}} = w^{(2)} w^{(3)} \sigma'(z^{(3)}) 2(a^{(3)} - y)"):
        result = verify(formula, RELU)
        assert not result.equivalent, result.text()


def test_points_cover_both_sides_of_every_kink():
    net = Network.parse("3,4,4,2", "relu,leaky_relu,sigmoid")
    for layer in (1, 2):
        zs = [z for p in points(net) for z in p.z[layer]]
        assert min(zs) < -0.05 and max(zs) > 0.05
    narrow = [p.z[1][0] for p in points(RELU)]
    assert min(narrow) < 0 < max(narrow)  # one neuron: both sides from point to point


@pytest.mark.parametrize("layers", [12, 16])
def test_vanishing_gradients_are_compared_relative_to_their_size(layers):
    net, right = _deep_chain(layers)
    truth = verify(right, net)
    assert truth.equivalent, truth.text()
    lhs = right.split(" = ")[0]
    for wrong in (right.replace("2(a", "(a"), right.replace(" = ", " = -", 1), lhs + " = 0"):
        result = verify(wrong, net)
        assert not result.equivalent, wrong
        assert result.symbolic != "identical"


@pytest.mark.parametrize("wrong", [
    r"a^{(L-1)} \sigma'(z^{(L)}) 2.00000001(a^{(L)} - y)",
    r"a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y) + 10^{-12}",
    r"a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y) + (a^{(L)}-y)^{30}",
    r"a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y) + 10^{-30}",  # below double precision: the 50 digits
    r"a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y) + 10^{-20} (a^{(L)}-y)^{64}",
])
def test_near_misses_are_not_equivalent(wrong):
    result = verify(W_L + " = " + wrong, ONE)
    assert not result.equivalent, result.text()


def test_zero_is_never_identical_to_a_derivative():
    result = verify(r"\frac{\partial C_0}{\partial a^{(1)}} = 0", ONE)
    assert not result.equivalent and result.symbolic != "identical"


@pytest.mark.parametrize("formula", [
    RIGHT_W_L,
    W_L + r" = a^{(L-1)} a^{(L)}(1 - a^{(L)}) 2(a^{(L)} - y)",
    W_L + r" = a^{(L-1)} \sigma(z^{(L)})(1 - \sigma(z^{(L)})) (2a^{(L)} - 2y)",
])
def test_correct_rewrites_are_shown_identical(formula):
    result = verify(formula, ONE)
    assert result.equivalent and result.symbolic == "identical", result.text()
    assert "symbolically identical" in result.text()
