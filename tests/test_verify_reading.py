r"""How verify reads a formula (issue 10): the grammar's vocabulary, the objects it builds, and the limits that
keep every call short and every message in the student's terms.

The verdicts on the forms students type are in the corpus (tests/test_verify_corpus.py, ``READING``);
here are the properties behind them.
"""

import re
import sys
from pathlib import Path

import pytest
import sympy as sp

from symbackprop import notation as nt
from symbackprop import printing
from symbackprop.derivation import derive
from symbackprop.errors import FormulaError, SymbackpropError
from symbackprop.spec import Network
from symbackprop.verifier import verify
from symbackprop.verifier.evaluate import NotFinite, compile_expr, number_value
from symbackprop.verifier.guard import grammar, known_commands, prepare
from symbackprop.verifier.parse import friendly, parse
from symbackprop.verifier.timelimit import message, stage_of

from conftest import run_cli

ONE, MULTI = Network.parse(), Network.parse("3,4,2")
W_L = r"\frac{\partial C_0}{\partial w^{(L)}}"


# The vocabulary comes from the grammar ---------------------------------------------------------

def test_known_commands_are_read_from_the_grammar():
    known = known_commands()
    for command in (r"\circ", r"\dfrac", r"\big", r"\displaystyle", r"\intercal", r"\!", r"\;", r"\mathrm{d}",
                    r"\mathrm{T}", r"\operatorname{diag}", r"\Sigma", r"\mathbf", r"\boldsymbol", r"\over"):
        assert command in known


@pytest.mark.parametrize("command", known_commands())
def test_every_known_command_is_one_token_the_guard_lets_through(command):
    tokens = list(grammar().lex(command, dont_ignore=True))
    assert len(tokens) == 1 and tokens[0].value == command
    prepare(W_L + " = a " + command)  # no 'unknown command'


def test_the_unknown_command_message_lists_every_known_one():
    with pytest.raises(FormulaError) as info:
        verify(W_L + r" = \alpha")
    listed = str(info.value).split("known: ")[1]
    assert set(known_commands()) <= set(listed.split(" (column")[0].split())


@pytest.mark.parametrize("terminal", sorted(t.name for t in grammar().terminals
                                            if not t.name.startswith("__") and t.name not in grammar().ignore_tokens))
def test_every_terminal_has_a_name_a_student_knows(terminal):
    name = friendly(terminal)
    assert name and terminal not in name  # never DELTA, PRIME_CMD
    assert "_" not in terminal or terminal.lower() not in name  # never prime_cmd


def test_a_syntax_error_names_no_grammar_token():
    with pytest.raises(FormulaError) as info:
        verify(W_L + r" = \sigma^{")
    assert not re.search(r"[A-Z]{2,}_[A-Z]+|[a-z]+_[a-z]+", str(info.value)), str(info.value)


# The objects the parser builds are the derivation's -------------------------------------------

def test_sigma_prime_matrix_is_the_diagonal_of_sigma_prime():
    parsed = parse(r"\delta^L = \Sigma'(z^L) \nabla_a C", MULTI)
    assert parsed.rhs[0] == nt.MatrixProduct(nt.Diagonal(nt.sigma_prime(nt.z[nt.L])), nt.grad_a_C())
    assert parse(r"\delta^L = \operatorname{diag}(\sigma'(z^L)) \nabla_a C", MULTI).rhs[0] == parsed.rhs[0]
    one_neuron = parse(r"\delta^L = \Sigma'(z^L) \nabla_a C", ONE).rhs[0]
    assert printing.plain(one_neuron) == nt.sigma_prime(nt.z[nt.L]) * nt.grad_a_C()


def test_diagonal_prints_and_evaluates():
    d = nt.Diagonal(nt.sigma_prime(nt.z[nt.L]))
    assert printing.latex(d) == r"\operatorname{diag}\left(\sigma'(z^{(L)})\right)"
    assert printing.text(d) == "diag(σ'(z^(L)))"
    point = verify(r"\delta^L = \Sigma'(z^L) \nabla_a C", MULTI)
    assert point.equivalent


def test_the_average_over_examples_reads_as_the_derivative_for_one_example():
    wjk = nt.w[nt.l, nt.j, nt.k]
    average = parse(r"\frac{\partial C}{\partial w^{(l)}_{jk}} = \frac{1}{n}\sum_x \frac{\partial C_x}{\partial w^{(l)}_{jk}}",
                    MULTI)
    assert average.rhs[0] == nt.partial(nt.Cx, wjk)
    assert any("average" in note for note in average.notes)
    assert parse(r"\frac{\partial C}{\partial w^{(l)}_{jk}} = \frac{\sum_{x=1}^{n} a^{(l-1)}_k \delta^{(l)}_j}{n}",
                 MULTI).rhs[0] == nt.a[nt.l - 1, nt.k] * nt.delta[nt.l, nt.j]
    total = parse(r"\frac{\partial C}{\partial w^{(l)}_{jk}} = \sum_x \frac{\partial C_x}{\partial w^{(l)}_{jk}}", MULTI)
    assert printing.plain(total.rhs[0]) == nt.n_examples * nt.partial(nt.Cx, wjk)  # n times too large


def test_nabla_with_respect_to_b_and_w_are_the_derivatives():
    assert parse(r"\nabla_b C = \delta", MULTI).lhs == nt.partial(nt.C, nt.b[nt.L])
    assert parse(r"\nabla_{w^l} C = 0", MULTI).lhs == nt.partial(nt.C, nt.w[nt.l])
    assert parse(r"\nabla_a C = 0", MULTI).lhs == nt.grad_a_C()


def test_derivative_of_an_expression_is_sympys_diff():
    parsed = parse(r"\frac{\partial C_0}{\partial a^{(L)}_j} = \frac{\partial}{\partial a^{(L)}_j} \sum_k (a^{(L)}_k - y_k)^2",
                   MULTI)
    assert sp.expand(parsed.rhs[0] - 2 * (nt.a[nt.L, nt.j] - nt.y[nt.j])) == 0
    assert any("read as its derivative" in note for note in parsed.notes)


@pytest.mark.parametrize("formula", [
    r"\frac{\mathrm{d} C_0}{\mathrm{d} w^{(L)}} = 1", r"{\partial C_0 \over \partial w^{(L)}} = 1",
    r"\frac{\partial C_0}{\partial \mathbf{w}^{(L)}} = 1", r"\begin{equation}\frac{\partial C_0}{\partial w^{(L)}} = 1."
    r"\end{equation}", r"$\frac{\partial C_0}{\partial w^{(L)}} = 1$",
])
def test_layout_and_fonts_read_as_the_plain_form(formula):
    assert parse(formula, ONE).lhs == nt.partial(nt.C0, nt.w[nt.L])


def test_unwrapping_keeps_every_column():
    text = r"\begin{align*} a &= b \\ &= c. \end{align*}"
    assert len(prepare(text)) == len(text)
    two = r"\begin{align} \frac{\partial C}{\partial b} &= 1 \\ \delta^l &= 2 \end{align}"
    with pytest.raises(FormulaError, match="one equation at a time") as info:
        verify(two)
    assert info.value.position == two.index(r"\delta")


# Bounded: long, deep, huge --------------------------------------------------------------------

def test_a_long_product_is_one_flat_product():
    parsed = parse(W_L + " = " + " ".join(["a^{(L)}"] * 230), ONE)
    assert isinstance(parsed.rhs[0], printing.OrderedMul) and len(parsed.rhs[0].args) == 230
    assert printing.latex(parsed.rhs[0]).count("a^{(L)}") == 230


def test_long_sums_and_cdot_chains_are_flat_too():
    sides = parse(W_L + " = " + r" \cdot ".join(["a^{(L-1)}"] * 60) + " + " + " - ".join(["b^{(L)}"] * 60), ONE).rhs[0]
    assert isinstance(sides, sp.Add) and max(len(a.args) for a in sp.preorder_traversal(sides)) >= 60
    assert printing.text(sides)


def test_the_deepest_bracket_nesting_allowed_still_prints_and_verifies():
    formula = W_L + " = " + r"\sigma(" * 37 + "z^{(L)}" + ")" * 37
    result = verify(formula)
    assert result.verdict == "not_equivalent" and printing.latex(parse(formula, ONE).rhs[0])


def test_nesting_beyond_the_limit_is_one_clear_line():
    with pytest.raises(FormulaError, match="nested"):
        verify(W_L + " = " + r"\ln " * 150 + "a^{(L)}")
    with pytest.raises(FormulaError, match="nested"):
        verify(W_L + " = " + "-" * 500 + "a^{(L)}")


def test_huge_integers_print_without_converting_every_digit():
    huge = sp.Integer(10) ** 6000
    assert "about 6001 digits" in printing.latex(huge) and "about 6001 digits" in printing.text(huge)
    assert printing.latex(sp.Integer(12345)) == "12345"


def test_power_of_nabla_prints_in_both_printers():
    power = sp.Pow(nt.grad_a_C(), 2)
    assert printing.latex(power) == r"\left(\nabla_a C\right)^{2}"
    assert printing.text(power) == "(∇_a C)^2"


# Numbers that are not finite real numbers -------------------------------------------------------

@pytest.mark.parametrize("expr,words", [
    (sp.log(-1, evaluate=False), "logarithm of a number ≤ 0"), (sp.exp(sp.exp(100), evaluate=False), "beyond 10^308"),
    (sp.Pow(-8, sp.Rational(1, 3), evaluate=False), "fractional power of a negative number"),
    (sp.Pow(0, -1, evaluate=False), "divides by zero"),
])
def test_numbers_are_floats_and_not_finite_ones_are_refused(expr, words):
    with pytest.raises(FormulaError, match=re.escape(words)) as info:
        number_value(expr, "f", 3)
    assert "not a finite real number (column 4)" in str(info.value)


def test_a_value_not_finite_at_the_sample_points_is_exit_2():
    f = compile_expr(sp.log(nt.a[nt.L] - 5), ONE)
    from symbackprop.verifier.compare import points
    with pytest.raises(NotFinite, match="at the sample points"):
        f(points(ONE)[0], {nt.L: 3})


@pytest.mark.parametrize("symbol,words", [(nt.C, "cost C"), (nt.Cx, "cost C"), (nt.index_symbol("i"), "neuron index"),
                                          (nt.l, "layer number")])
def test_symbols_without_a_value_are_formula_errors_not_key_errors(symbol, words):
    with pytest.raises(FormulaError, match=words):
        compile_expr(2 * symbol, ONE)


def test_an_index_with_no_value_is_a_formula_error():
    f = compile_expr(nt.a[nt.L, nt.index_symbol("i")], MULTI)
    from symbackprop.verifier.compare import points
    with pytest.raises(FormulaError, match="the index i has no value"):
        f(points(MULTI)[0], {nt.L: 2})


# The time limit says what took long ------------------------------------------------------------

def test_time_limit_messages_name_what_took_long():
    big = Network.parse("4096,4096,10")
    assert "16,822,282 parameters" in message(2, "points", big) and "sample points" in message(2, "points", big)
    assert "sums have too many terms" in message(2, "sums", None)
    for stage in ("points", "derive", "sums", ""):
        assert "nested" not in message(2, stage, big)


def _frame_in(module, function):
    """A frame of ``function`` in a module named ``module`` that holds a network, as the interrupted step's does."""
    namespace = {"sys": sys}
    exec(compile(f"def {function}(network):\n    return sys._getframe()\n", f"/x/{module}", "exec"), namespace)
    return namespace[function](ONE)


def test_the_stage_is_found_from_the_interrupted_frame():
    assert stage_of(_frame_in("points.py", "__init__")) == ("points", ONE)
    assert stage_of(_frame_in("evaluate.py", "over")) == ("sums", ONE)
    assert stage_of(_frame_in("evaluate.py", "quantity"))[0] == ""  # evaluating, but not a sum
    assert stage_of(sys._getframe()) == ("", None)


def test_one_sum_on_a_large_network_never_speaks_of_nested_sums():
    network = Network.parse("2001,1999,7")  # not cached by any other test
    with pytest.raises(FormulaError) as info:
        verify(r"\frac{\partial C_0}{\partial a^{(L-1)}_k} = \sum_j w^{(L)}_{jk}", network, time_limit=0.001)
    assert "nested" not in str(info.value) and "\n" not in str(info.value)


# Control characters never reach the terminal ---------------------------------------------------

def test_a_bell_in_a_formula_is_named_not_echoed():
    result = run_cli("verify", W_L + " = a\x07")
    assert result.returncode == 2
    assert "\x07" not in result.stderr and "U+0007" in result.stderr


def test_every_example_of_the_notation_page_verifies():
    page = (Path(__file__).resolve().parents[1] / "docs" / "notation.md").read_text(encoding="utf-8")
    examples = [line.strip() for line in page.split("Examples:")[1].splitlines() if line.startswith("    ")]
    assert len(examples) >= 7
    for formula in examples:
        result = verify(formula)
        assert result.equivalent, result.text()


def test_the_default_time_limit_is_2_s_and_the_environment_can_set_it(monkeypatch):
    from symbackprop.verifier import timelimit

    monkeypatch.delenv(timelimit.ENVIRONMENT)
    assert timelimit.default() == 2.0
    monkeypatch.setenv(timelimit.ENVIRONMENT, "7.5")
    assert timelimit.default() == 7.5
    for bad, words in (("soon", "give a number of seconds"), ("0", "between 0.1 and 600"), ("nan", "between")):
        monkeypatch.setenv(timelimit.ENVIRONMENT, bad)
        with pytest.raises(SymbackpropError, match=words):
            verify(W_L + " = 0")


def test_the_time_limit_reaching_into_the_parser_is_still_one_clear_line():
    """Past the limit inside the grammar's transformer, the interruption is not wrapped by Lark (a crash)."""
    formula = W_L + " = " + r"\ln " * 40 + "a^{(L)} " + " ".join(["a^{(L)}"] * 150)
    with pytest.raises(FormulaError, match="within 0.001 s"):
        verify(formula, time_limit=0.001)


def test_powers_stay_small_enough_to_compute_exactly():
    with pytest.raises(FormulaError, match="more than 2000 digits"):
        verify(W_L + r" = (((0.5)^{64})^{64})^{64}")
    with pytest.raises(FormulaError, match="same neuron indices"):
        verify(r"\frac{\partial C_0}{\partial a} = \frac{\partial (a_k-y)^2}{\partial a}")
