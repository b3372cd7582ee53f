"""The notes' exercises: every command verifies its answer (exit 0) and rejects a typical wrong
one (a swapped j/k, a missing transpose, σ for σ') with exit 1, on a network where such mistakes
show; the commands survive being copied from the PDF (lines glued together).

The commands run in-process through the CLI's ``main`` (the same argument parsing and exit
codes as the installed command, without a Python start-up per command).
"""

import contextlib
import io
import re
import shlex

import numpy as np
import pytest
import sympy as sp

from symbackprop import activations, cli
from symbackprop import notation as nt
from symbackprop.render import exercises as ex_module
from symbackprop.render import notes
from symbackprop.spec import Network

pytest.importorskip("symbackprop.verifier")

NETWORKS = {
    "chain": ("1,1,1,1", None, None),
    "lectures": ("3,3,2", None, None),
    "cross-entropy": ("4,4,4,2", "relu,tanh,sigmoid", "cross_entropy"),
    "identity": ("2,1", "identity", "half_quadratic"),
    "deep-tanh": ("1,1,1,1,1,1,1", "tanh", "half_quadratic"),
    "wide": ("784,30,10", "relu,sigmoid", "cross_entropy"),
    "leaky": ("3,2,4,2", "leaky_relu,softplus,sigmoid", "quadratic"),
    "softmax-l2": ("3,4,3", "tanh,softmax", "log_likelihood", {"l2": 0.5}),
    "softmax-quadratic-l1": ("3,3,2", "sigmoid,softmax", "quadratic", {"l1": 0.1}),
    "softmax-depth1": ("4,3", "softmax", "log_likelihood"),
}


def _parse(spec):
    """A network of NETWORKS: sizes, activation, cost and, optionally, the regularisers' strengths."""
    return Network.parse(*spec[:3], **(spec[3] if len(spec) > 3 else {}))


def _run(command):
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[:2] == ["symbackprop", "verify"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv[1:])
    return code, out.getvalue() + err.getvalue()


@pytest.fixture(scope="module", params=list(NETWORKS), ids=list(NETWORKS))
def exercises(request):
    net = _parse(NETWORKS[request.param])
    return net, notes.context(net)["exercises"]


def test_every_answer_verifies_and_every_mistake_is_rejected(exercises):
    _, items = exercises
    formulas = [ex for ex in items if ex.formula]
    assert len(formulas) >= 6
    for ex in formulas:
        code, out = _run(ex.answer_command)
        assert code == 0, (ex.key, ex.answer_command, out)
        assert "EQUIVALENT" in out
        code, out = _run(ex.wrong_command)
        assert code == 1, (ex.key, ex.wrong_command, out)


def test_the_mistakes_are_the_typical_ones(exercises):
    net, items = exercises
    by_key = {ex.key: ex for ex in items}
    weight = by_key["weight"]  # j and k swapped
    assert weight.wrong.free_symbols >= {nt.j, nt.k} and weight.wrong != weight.answer
    paths = by_key["paths"]  # w_kj for w_jk
    ws = [e for e in paths.wrong.atoms(sp.Indexed) if e.base == nt.w]
    assert ws and all(e.indices[1:] == (nt.k, nt.j) for e in ws)
    if "transpose" in by_key:  # the transpose left out
        t = by_key["transpose"]
        assert t.answer.atoms(nt.Transposed) and not t.wrong.atoms(nt.Transposed)


def test_index_exercises_run_on_networks_where_index_mistakes_show(exercises):
    net, items = exercises
    z = sp.Symbol("z")
    for ex in items:
        if not ex.formula:
            continue
        for name in ex.network.activations:  # a missing σ' shows only where σ' is not constant
            assert not activations.get(name).derivative(z).is_number
        if ex.key.startswith("chain"):
            assert ex.network.one_neuron_per_layer and ex.network.depth == net.depth
        else:
            assert min(ex.network.sizes) >= 2 and ex.network.depth == net.depth


def test_every_formula_exercise_states_its_network(exercises):
    net, items = exercises
    md = notes.render_notes(net, "markdown")
    section = md[md.index('<a id="sec-exercises"></a>'):md.index('<a id="sec-answers"></a>')]
    for ex in items:
        if ex.formula:
            assert ex.command in section
            states = "this network" if ex.network == net else notes.title(ex.network)
            assert f"Check it on {states}" in section or f"Check it on the one-neuron chain {states}" in section \
                or f"Check it on the network {states}" in section


def test_commands_survive_a_copy_from_the_pdf(exercises):
    """Lines break only at spaces where gluing them (a viewer that drops the line break) or
    joining them with a space reads the same, and no line is longer than the listing."""
    _, items = exercises
    for ex in items:
        if not ex.formula:
            continue
        lines = ex.answer_command.splitlines()
        assert max(len(line) for line in lines) <= ex_module.LINE + 6
        quoted = ex.answer_command[ex.answer_command.index("'"):]
        parts = [line.strip() for line in quoted.splitlines()]
        for glue in ("", " "):
            command = ex.answer_command[:ex.answer_command.index("'")] + glue.join(parts)
            code, out = _run(command)
            assert code == 0, (glue, command, out)


@pytest.mark.parametrize("before, after, safe", [
    (r"\partial", "C_0}", False), ("a^{(L)}", r"\sigma'(z)", True), ("2", "(a", True), ("=", "a", True),
    ("}", "2", True), ("2", "3", False), ("-", "y_{j}", False), ("a", "- y", True), (r"\sum_{j}", "w", True), (r"\odot", r"\sigma'", True), (r"x\\", "(a", False)])
def test_safe_breaks(before, after, safe):
    assert ex_module._safe_break(before, after) is safe


def test_numeric_exercises_use_the_worked_examples_numbers():
    ctx = notes.context(Network.parse("3,3,2"))
    number = next(ex for ex in ctx["exercises"] if ex.key == "number")
    hand = ctx["hand"]
    assert float(number.data["value"]) == pytest.approx(float(hand["grads"]["W1"][0, 1]))
    assert float(number.data["value"]) == pytest.approx(float(number.data["a"]) * float(number.data["delta"]), rel=1e-3)
    cheap = next(ex for ex in ctx["exercises"] if ex.key == "cheap")
    assert cheap.data["counts"].forward == 3 * 3 + 3 * 2


def test_the_cancellation_exercise_is_left_out_where_no_cost_cancels():
    ctx = notes.context(Network.parse("2,3,2", "tanh"))
    assert "cancel" not in [ex.key for ex in ctx["exercises"]]
    ctx = notes.context(Network.parse("2,3,2", "sigmoid", "quadratic"))
    cancel = next(ex for ex in ctx["exercises"] if ex.key == "cancel")
    assert cancel.network.cost != "quadratic" and notes.derive(cancel.network).output_error_cancels
    assert re.search(r"a\^\{\(L\)\}_\{j\} - y_\{j\}", cancel.answer_command)


@pytest.mark.parametrize("spec", [("3,4,3", "tanh,softmax", "log_likelihood", {"l2": 0.5}),
                                  ("3,3,2", "sigmoid,softmax", "quadratic", {"l1": 0.1})], ids=["l2", "l1"])
def test_regularised_networks_ask_for_the_bias_and_one_decayed_weight(spec):
    """∂C/∂b with the penalty (checked by verify on the regularised network) and one weight's step with the
    penalty, whose numbers are the weight-decay example's, and ∂C/∂w with its λ/n term."""
    net = _parse(spec)
    ctx = notes.context(net)
    by_key = {ex.key: ex for ex in ctx["exercises"]}
    bias = by_key["decay_bias"]
    assert bias.network.regularisation == net.regularisation and "--" + net.regularisation[0][0] in bias.answer_command
    code, out = _run(bias.answer_command)
    assert code == 0, out
    weight = by_key["decay_weight"]
    assert weight.answer.has(nt.lam, nt.n_examples) and "\\lambda" in weight.answer_command
    for command, expected in ((weight.answer_command, 0), (weight.wrong_command, 1)):
        code, out = _run(command)
        assert code == expected, out
    step = by_key["decay_step"].data
    (entry, lam), = net.regularisers
    w, g, new = step["values"]
    rate, n = ctx["decay_example"]["values"]["rate"], step["n"]
    assert new == pytest.approx(w - rate * (g + lam / n * float(entry.numpy_slope(np.array(w)))))
    assert new == pytest.approx(ctx["decay_example"]["new"]["W1"][0, 1])
    answers = notes.render_notes(net, "markdown", ctx)
    answers = answers[answers.index('<a id="sec-answers"></a>'):]
    assert f"= {step['new'].latex()}" in answers


def test_softmax_written_out_goes_through_the_output_error():
    """The output layer of a softmax has no σ' of its own: the written-out weight two layers back ends in
    the derivation's output error (a − y with the log-likelihood), which verify accepts."""
    net = Network.parse("3,4,3", "tanh,softmax", "log_likelihood")
    ex = next(e for e in notes.context(net)["exercises"] if e.key == "written_out")
    assert not [p for p in ex.answer.atoms(nt.sigma_prime) if nt.layer_of(p.args[0]) == nt.L]
    assert r"\left(a^{(L)}_{p} - y_{p}\right)" in ex.answer_command


def test_a_softmax_network_asks_for_its_jacobian_with_the_kronecker_delta():
    """Only where the output layer is not element-wise; the answer a_i(δ_ij − a_j) verifies and the
    neuron-by-neuron slope a_i(1 − a_j) is rejected (both by the generic test above as well)."""
    softmax = {ex.key: ex for ex in notes.context(Network.parse("3,4,3", "tanh,softmax", "log_likelihood"))["exercises"]}
    jacobian = softmax["jacobian"]
    assert jacobian.answer.has(sp.KroneckerDelta) and not jacobian.wrong.has(sp.KroneckerDelta)
    assert r"\delta_{i j}" in jacobian.answer_command
    assert _run(jacobian.answer_command)[0] == 0 and _run(jacobian.wrong_command)[0] == 1
    plain = {ex.key for ex in notes.context(Network.parse("3,4,3", "tanh,sigmoid", "cross_entropy"))["exercises"]}
    assert "jacobian" not in plain
