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
