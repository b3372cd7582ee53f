"""verify never crashes and never hangs: random strings and mutated valid formulas (hypothesis).

Whatever the input, ``verify`` returns a result or raises ``FormulaError`` (exit 2, one line);
any other exception would be a traceback for the user.  Each call must also finish quickly.
"""

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbackprop.errors import FormulaError
from symbackprop.spec import Network
from symbackprop.verifier import verify

from test_verify_corpus import CASES

NETWORKS = [Network.parse(), Network.parse("3,4,2"), Network.parse("2,3,3,2", "tanh", "half_quadratic"),
            Network.parse("3,4,2", "relu,sigmoid", "cross_entropy")]
TOKENS = [r"\frac", r"\partial", r"\sigma", r"\sigma'", r"\sigma^{\prime}", r"\delta", r"\nabla_a", r"\sum",
          r"\sum_{j=0}^{n_L-1}", r"\exp", r"\tanh", r"\tanh^2", r"\ln", r"\log", r"\cdot", r"\times", r"\odot", r"\left(", r"\right)",
          "^T", "^{(L)}", "^{(L-1)}", "^{(2)}", "^{l}", "^{l+1}", "^L", "_j", "_{jk}", "_{j,k}", "_{01}", "_k", "C_0",
          "C", "a", "z", "w", "b", "y", "x", "e", "n_L", "=", "+", "-", "(", ")", "{", "}", "[", "]", "^", "_", "'",
          "2", "1", "0.5", "/", ",", " ", r"\input", r"\def", "$", r"\alpha", "j", "k", "l", "L", "T", "**", ";"]
SEEDS = [c[1] for c in CASES if c[1] and len(c[1]) < 400]
TIME_PER_CALL = 10.0


def _check(text, network):
    start = time.monotonic()
    try:
        result = verify(text, network)
    except FormulaError as e:
        message = str(e)
        assert message and "\n" not in message
        assert "Traceback" not in message
    else:
        assert result.verdict in ("equivalent", "not_equivalent")
        json.dumps(result.to_dict())
        assert result.text()
        if not result.equivalent:
            assert result.diagnosis
    assert time.monotonic() - start < TIME_PER_CALL


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=80), st.sampled_from(NETWORKS))
def test_random_text(text, network):
    _check(text, network)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=30), st.sampled_from(NETWORKS))
def test_random_token_soup(tokens, network):
    _check("".join(tokens), network)


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "swap"]))
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 12)))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif kind == "replace":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            k = draw(st.integers(0, len(text)))
            a, b = sorted((i, k))
            text = text[a:b][::-1].join([text[:a], text[b:]]) if a < b else text
    return text


@FUZZ
@given(mutated(), st.sampled_from(NETWORKS))
def test_mutated_valid_formulas(text, network):
    _check(text, network)
