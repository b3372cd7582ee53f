r"""verify names the mistake: the general factor-by-factor and term-by-term comparison.

Each case is a mistake that once came back "unexplained" (or with contradicting messages); the
diagnosis must name it with its code and the quantity involved.
"""

import pytest

from symbackprop.spec import Network
from symbackprop.verifier import verify

ONE = Network.parse()
MULTI = Network.parse("3,4,2")
CE = Network.parse("3,4,2", "sigmoid", "cross_entropy")

CASES = [
    ("extra-activation-in-bias", r"\frac{\partial C_0}{\partial b^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE,
     "extra_factor", "a^(L-1)"),
    ("chain-stopped-early", r"\frac{\partial C_0}{\partial w^{(L-1)}} = a^{(L-2)} \sigma'(z^{(L-1)}) 2(a^{(L)} - y)", ONE,
     "missing_factor", "w^(L)·σ'(z^(L)) that carries the error back one layer"),
    ("weight-for-activation", r"\frac{\partial C_0}{\partial w^{(L)}} = w^{(L)} \sigma'(z^{(L)}) 2(a^{(L)} - y)", ONE,
     "wrong_factor", "w^(L) stands where a^(L-1) is due"),
    ("stray-sum", r"\frac{\partial C_0}{\partial w^{(L)}_{jk}} = \sum_j a^{(L-1)}_k \sigma'(z^{(L)}_j) 2(a^{(L)}_j - y_j)",
     MULTI, "stray_sum", "without the sum your formula is right"),
    ("extra-slope-with-cross-entropy", r"\delta^L = (a^L - y) \odot \sigma'(z^L)", CE, "extra_factor", "cancels"),
    ("kept-the-square", r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)^2", ONE,
     "extra_factor", "kept the power"),
    ("local-derivative", r"\frac{\partial z^{(L)}}{\partial a^{(L-1)}} = a^{(L-1)}", ONE, "wrong_factor", "w^(L) is due"),
    ("extra-term", r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y) + 10^{-12}", ONE,
     "extra_term", "without it your right-hand side is right"),
    ("zero-with-relu", r"\frac{\partial C_0}{\partial w^{(1)}} = 0", Network.parse("1,1,1,1", "relu"),
     "constant_factor", "is 0 here"),
    ("expanded-with-extra-factor", r"\frac{\partial C_0}{\partial w^{(L)}} = 2 a^{(L-1)} \sigma'(z^{(L)}) a^{(L)} - "
     r"2 a^{(L-1)} \sigma'(z^{(L)}) a^{(L)} y", ONE, "extra_factor", "a^(L)"),
]


@pytest.mark.parametrize("formula, network, code, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_mistake_is_named(formula, network, code, words):
    result = verify(formula, network)
    assert not result.equivalent
    messages = [d["message"] for d in result.diagnosis if d["code"] == code]
    assert messages and any(words in m for m in messages), result.text()
    assert "unexplained" not in [d["code"] for d in result.diagnosis]


def test_one_message_for_the_kept_square():
    result = verify(CASES[5][1], ONE)
    assert len(result.diagnosis) == 1, result.text()


def test_expected_is_written_as_the_student_wrote():
    expanded = verify(CASES[-1][1], ONE)
    assert expanded.expected.count(" - ") == 1 and r"\left(a^{(L)} - y\right)" not in expanded.expected
    cancelled = verify(CASES[4][1], CE)
    assert cancelled.expected.endswith("= a^{(L)} - y")
    local = verify(CASES[6][1], ONE)
    assert local.expected.endswith("= w^{(L)}")
