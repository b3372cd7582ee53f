r"""verify on Nielsen's chapter 3: a softmax output with the log-likelihood, and regularisation."""

from symbackprop.spec import Network
from symbackprop.verifier import verify

SOFTMAX = Network.parse("3,4,3", "tanh,softmax", "log_likelihood")
L2 = Network.parse("3,4,2", l2=0.1)


def test_softmax_with_log_likelihood_is_a_minus_y():
    for formula in (r"\delta^{(L)}_j = a^{(L)}_j - y_j", r"\delta^L = a^L - y",
                    r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \delta^{(L)}_j",
                    r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k (a^{(L)}_j - y_j)"):
        result = verify(formula, SOFTMAX)
        assert result.equivalent, result.text()
    assert verify(r"\delta^L = a^L - y", SOFTMAX).expected.endswith("= a^{(L)} - y")


def test_the_element_wise_slope_on_softmax_is_named_as_the_mistake():
    for formula in (r"\delta^L = \nabla_a C \odot \sigma'(z^L)",
                    r"\delta^{(L)}_j = \frac{\partial C_0}{\partial a^{(L)}_j} \sigma'(z^{(L)}_j)"):
        result = verify(formula, SOFTMAX)
        assert not result.equivalent
        assert result.diagnosis[0]["code"] == "not_elementwise", result.text()
        assert "Jᵀ∇_a C" in result.diagnosis[0]["message"] and "a - y" in result.diagnosis[0]["message"]


def test_softmax_targets_are_a_probability_vector_at_every_point():
    from symbackprop.verifier.compare import points

    for point in points(SOFTMAX):
        assert abs(point.y.sum() - 1) < 1e-12


def test_the_regularised_weight_gradient_is_expected_and_a_missing_term_named():
    missing = verify(r"\frac{\partial C}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \delta^{(L)}_j", L2)
    assert not missing.equivalent
    assert missing.expected.endswith(r"+ \frac{\lambda}{n} w^{(L)}_{jk}")
    assert [d["code"] for d in missing.diagnosis] == ["missing_term"]
    # C₀ has no penalty: the same right-hand side is right for ∂C₀/∂w, and biases are not penalised
    assert verify(r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = a^{(L-1)}_k \delta^{(L)}_j", L2).equivalent
    assert verify(r"\frac{\partial C}{\partial b^{(L)}_{j}} = \delta^{(L)}_j", L2).equivalent


L1 = Network.parse("3,4,2", "tanh,sigmoid", "cross_entropy", l1=0.2)
WEIGHT = r"\frac{\partial C}{\partial w^{(l)}_{jk}} = "


def test_nielsens_regularised_gradients_written_with_lambda_and_n_are_equivalent():
    for formula, network in ((WEIGHT + r"\frac{\partial C_0}{\partial w^{(l)}_{jk}} + \frac{\lambda}{n} w^{(l)}_{jk}", L2),
                             (WEIGHT + r"a^{(l-1)}_k \delta^{(l)}_j + \frac{\lambda w^{(l)}_{jk}}{n}", L2),
                             (r"\frac{\partial C}{\partial w^{(L)}} = \delta^{(L)} (a^{(L-1)})^T + \frac{\lambda}{n} w^{(L)}",
                              L2),
                             (WEIGHT + r"a^{(l-1)}_k \delta^{(l)}_j + \frac{\lambda}{n} \operatorname{sgn}(w^{(l)}_{jk})", L1),
                             (WEIGHT + r"\frac{\partial C_0}{\partial w^{(l)}_{jk}} + \frac{\lambda}{n}"
                              r" \mathrm{sign}(w^{(l)}_{jk})", L1)):
        result = verify(formula, network)
        assert result.equivalent, result.text()
        assert "too little to show" not in result.text()


def test_regularised_gradients_with_lambda_and_n_wrong_are_caught_and_named():
    no_n = verify(WEIGHT + r"a^{(l-1)}_k \delta^{(l)}_j + \lambda w^{(l)}_{jk}", L2)
    assert not no_n.equivalent and "missing: 1/n" in no_n.diagnosis[0]["message"], no_n.text()
    l2_for_l1 = verify(WEIGHT + r"a^{(l-1)}_k \delta^{(l)}_j + \frac{\lambda}{n} w^{(l)}_{jk}", L1)
    assert not l2_for_l1.equivalent
    assert [d["code"] for d in l2_for_l1.diagnosis] == ["wrong_factor"], l2_for_l1.text()
    assert "sign(w^(l)_jk) is due" in l2_for_l1.diagnosis[0]["message"]
    halved = verify(WEIGHT + r"a^{(l-1)}_k \delta^{(l)}_j + \frac{\lambda}{2n} w^{(l)}_{jk}", L2)
    assert not halved.equivalent
    # the constant is the term's, not the whole result's: "your result is half the true value" would be false
    assert [d["code"] for d in halved.diagnosis] == ["constant_factor"], halved.text()
    assert "the term λ·w^(l)_jk/(2·n) is 0.5 times what it should be" in halved.diagnosis[0]["message"]
    assert "your result" not in halved.text()
    negative = verify(WEIGHT + r"a^{(l-1)}_k \delta^{(l)}_j - \frac{\lambda}{n} w^{(l)}_{jk}", L2)
    assert [d["code"] for d in negative.diagnosis] == ["flipped_sign"], negative.text()
    assert "the term" in negative.diagnosis[0]["message"]
    number = verify(WEIGHT + r"a^{(l-1)}_k \delta^{(l)}_j + \frac{0.1}{n} w^{(l)}_{jk}", L2)
    assert not number.equivalent
    assert [d["code"] for d in number.diagnosis] == ["number_for_symbol"], number.text()
    assert "write λ (\\lambda) as a letter" in number.diagnosis[0]["message"]
    assert "λ = 0.1 is one of them" in number.diagnosis[0]["message"]
    # n changes from point to point too: 5 examples written for n is not equivalent (it once was)
    five = verify(WEIGHT + r"a^{(l-1)}_k \delta^{(l)}_j + \frac{\lambda}{5} w^{(l)}_{jk}", L2)
    assert not five.equivalent
    assert [d["code"] for d in five.diagnosis] == ["number_for_symbol"], five.text()
    assert "write n as a letter" in five.diagnosis[0]["message"]


def test_a_sum_over_the_examples_without_its_average_is_n_times_too_large():
    lhs = r"\frac{\partial C}{\partial w^{(L)}_{jk}} = "
    assert verify(lhs + r"\frac{1}{n} \sum_x \frac{\partial C_x}{\partial w^{(L)}_{jk}}", Network.parse("3,4,2")).equivalent
    for rhs, words in ((r"\sum_x \frac{\partial C_x}{\partial w^{(L)}_{jk}}", "n times the true value"),
                       (r"\frac{1}{n^2} \sum_x \frac{\partial C_x}{\partial w^{(L)}_{jk}}", "1/n of the true value")):
        result = verify(lhs + rhs, Network.parse("3,4,2"))
        assert not result.equivalent
        assert result.diagnosis[0]["code"] == "constant_factor" and words in result.diagnosis[0]["message"], result.text()
    penalised_bias = verify(r"\frac{\partial C}{\partial b^{(l)}_j} = \delta^{(l)}_j + \frac{\lambda}{n} b^{(l)}_j", L2)
    assert not penalised_bias.equivalent and penalised_bias.diagnosis[0]["code"] == "extra_term"


def test_lambda_without_a_regulariser_and_with_a_subscript_are_one_line_errors():
    import pytest

    from symbackprop.errors import SymbackpropError

    with pytest.raises(SymbackpropError, match="this network has none; add --l2 or --l1"):
        verify(WEIGHT + r"\frac{\partial C_0}{\partial w^{(l)}_{jk}} + \frac{\lambda}{n} w^{(l)}_{jk}",
               Network.parse("3,4,2"))
    with pytest.raises(SymbackpropError, match="takes no subscript"):
        verify(WEIGHT + r"\frac{\partial C_0}{\partial w^{(l)}_{jk}} + \frac{\lambda_1}{n} w^{(l)}_{jk}", L2)
    with pytest.raises(SymbackpropError, match="program code"):
        verify(WEIGHT + r"lambda x: x", L2)


JACOBIAN = r"\frac{\partial a^{(L)}_i}{\partial z^{(L)}_j} = "


def test_the_kronecker_delta_of_the_softmax_jacobian_is_read():
    """δ_{ij} with two indices and no layer is Kronecker's (δ_j alone stays the error δ^{(L)}_j)."""
    for rhs in (r"a^{(L)}_i (\delta_{ij} - a^{(L)}_j)", r"a^{(L)}_i (\delta_{i,j} - a^{(L)}_j)",
                r"a^{(L)}_i \delta_{ij} - a^{(L)}_i a^{(L)}_j", r"a^{(L)}_i (\delta_{ij} - a^{(L)}_j) + \delta_{01}"):
        result = verify(JACOBIAN + rhs, SOFTMAX)
        assert result.equivalent, result.text()
    assert any("Kronecker" in note for note in verify(JACOBIAN + r"a^{(L)}_i (\delta_{ij} - a^{(L)}_j)", SOFTMAX).notes)
    through = verify(r"\delta^{(L)}_j = \sum_i \frac{\partial C_0}{\partial a^{(L)}_i} a^{(L)}_i (\delta_{ij} - a^{(L)}_j)",
                     SOFTMAX)
    assert through.equivalent, through.text()
    assert verify(r"\delta_j = a_j - y_j", SOFTMAX).equivalent  # one index: the error of layer L


def test_kronecker_mistakes_are_not_equivalent():
    for rhs in (r"a^{(L)}_i (\delta_{ij} - a^{(L)}_i)", r"a^{(L)}_i (1 - a^{(L)}_j)", r"a^{(L)}_i (\delta_{ii} - a^{(L)}_j)",
                r"a^{(L)}_i (\delta_{ij} + a^{(L)}_j)", r"a^{(L)}_i (\delta_{ij} - a^{(L)}_j) + \delta_{00}"):
        result = verify(JACOBIAN + rhs, SOFTMAX)
        assert not result.equivalent, rhs
    wrong = verify(JACOBIAN + r"a^{(L)}_i (\delta_{ij} - a^{(L)}_i)", SOFTMAX)
    assert "the neuron index there is j, not i" in wrong.diagnosis[0]["message"]
    diagonal = verify(JACOBIAN + r"a^{(L)}_i (1 - a^{(L)}_j)", SOFTMAX)  # the slope as if neuron by neuron
    assert [d["code"] for d in diagonal.diagnosis] == ["missing_kronecker"], diagonal.text()
    assert "1 stands where the Kronecker delta δ_ij is due" in diagonal.diagnosis[0]["message"]


def test_the_cost_slope_written_for_the_softmax_error_is_named():
    for rhs, network in ((r"-\frac{y_j}{a^{(L)}_j}", SOFTMAX), (r"\frac{\partial C_0}{\partial a^{(L)}_j}", SOFTMAX),
                         (r"2(a^{(L)}_j - y_j)", Network.parse("3,4,3", "tanh,softmax", "quadratic"))):
        result = verify(r"\delta^{(L)}_j = " + rhs, network)
        assert not result.equivalent
        assert [d["code"] for d in result.diagnosis] == ["slope_for_error"], result.text()
        assert "Jᵀ∇_a C" in result.diagnosis[0]["message"]


def test_the_witness_network_keeps_the_regulariser():
    """On 1-1-1-1 with L2, a transposed or index-swapped penalty term only shows on a wider network, which
    must carry λ too (without it, reading λ failed there and the wrong answer stood as equivalent)."""
    narrow = Network.parse("1,1,1,1", l2=0.3)
    for formula in (r"\frac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^T + \frac{\lambda}{n} (w^l)^T",
                    r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j + \frac{\lambda}{n} w^l_{kj}"):
        result = verify(formula, narrow)
        assert not result.equivalent, result.text()
        assert result.network.regularisation == narrow.regularisation and result.network.sizes == (3, 3, 3, 3)
    assert verify(r"\frac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^T + \frac{\lambda}{n} w^l", narrow).equivalent


def test_indices_swapped_in_the_chain_rules_term_beside_the_penalty_are_named():
    result = verify(WEIGHT + r"a^{(l-1)}_j \delta^{(l)}_k + \frac{\lambda}{n} w^{(l)}_{jk}", L2)
    assert not result.equivalent
    assert [d["code"] for d in result.diagnosis] == ["swapped_indices"], result.text()
    assert "swapped in the term a^(l-1)_j·δ^(l)_k" in result.diagnosis[0]["message"]
