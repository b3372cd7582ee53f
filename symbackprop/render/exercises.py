"""The notes' exercises: derivations to do by hand, each with the verify command that checks it.

An exercise that asks for a formula names the network its ``symbackprop verify`` command
checks the answer on.  That network is one where the usual mistakes show: at
least 2 neurons in every layer, all layers equally wide, so that swapped indices j, k and a
missing transpose give other numbers (not an index past a layer's end), and an activation whose
slope is not constant, so that a missing σ' shows (:func:`witness`).  Each exercise also carries a typical wrong answer (:func:`mistake`: the
weight's indices swapped, the transpose left out, σ for σ', the sign), which the tests check
that verify rejects.

Commands are copy-safe: the formula is broken over lines only at spaces where joining the
lines with or without a space reads the same (:func:`wrap`), and no line-break mark is
added, so a command copied from the PDF runs as printed; the Markdown and the
``.verify.sh`` file beside the notes hold the same text.
"""

import re
from dataclasses import dataclass, field

import sympy as sp

from .. import activations
from .. import notation as nt
from ..derivation import derive
from ..errors import SymbackpropError
from ..printing import latex, ordered_product, ordered_xreplace
from ..spec import DEFAULT_ACTIVATION, DEFAULT_COST, Network
from .lessons import cancelling_costs
from .normalised import chain_network, output_error
from .normalised import section as normalised_section

LINE = 84  # characters per line of a command (the PDF's listing holds about 90)
WIDTH = (2, 4)  # a network whose layers are all this wide is its own exercises' network
SQUARE = 3  # else the exercises run on one with every layer min(its widest, SQUARE) wide


@dataclass
class Exercise:
    key: str  # which exercise: the template words its question and answer by this key
    lhs: object = None  # the formula's left-hand side (None: not a formula)
    answer: object = None
    network: object = None  # the network verify checks it on
    wrong: object = None  # a typical mistake verify must reject
    data: dict = field(default_factory=dict)  # numbers of a numeric exercise, details for the words
    number: int = 0

    @property
    def formula(self):
        return self.lhs is not None

    @property
    def command(self):
        return verify_command(self.network, self.lhs, None) if self.formula else None

    @property
    def answer_command(self):
        return verify_command(self.network, self.lhs, self.answer) if self.formula else None

    @property
    def wrong_command(self):
        return verify_command(self.network, self.lhs, self.wrong) if self.formula else None

    @property
    def own(self):
        return self.data.get("own", False)


def verify_latex(expr):
    """The printer's LaTeX with σ' written as \\sigma^{\\prime}, so that it sits in single quotes."""
    return latex(expr).replace(r"\sigma'", r"\sigma^{\prime}")


def _safe_break(before, after):
    """May a line break fall between these two tokens?  Only where gluing them together (a PDF
    viewer that drops the line break) reads the same as with a space: not inside a control word
    (\\partial C), a number (2 3) or after a backslash, and not after a minus sign, which text
    extraction (and some viewers) take for a hyphen and drop."""
    if not before or not after or before[-1] in "\\-":  # a line ending in - reads as a hyphenated word
        return False
    if after[0].isalnum():
        return before[-1] in "})]=+"
    return True


def wrap(formula, width):
    """The formula in lines of at most ``width`` characters, broken at the last safe space before
    the limit (a line is longer only where no safe space allows)."""
    tokens = formula.split(" ")
    lines, line = [], [tokens[0]]
    for token in tokens[1:]:
        if len(" ".join(line + [token])) > width:
            safe = [i for i in range(1, len(line) + 1)
                    if _safe_break(line[i - 1], (line + [token])[i]) and len(" ".join(line[:i])) <= width]
            if safe:
                lines.append(" ".join(line[:safe[-1]]))
                line = line[safe[-1]:]
        line.append(token)
    return lines + [" ".join(line)]


def verify_command(network, lhs, answer):
    """``symbackprop verify NET 'lhs = answer'`` (``...`` for the reader's answer), in lines of
    at most LINE characters; the formula in single quotes, broken only where that is safe."""
    rhs = "..." if answer is None else verify_latex(answer)
    formula = f"{verify_latex(lhs)} = {rhs}"
    if "'" in formula:
        raise SymbackpropError("a formula for a verify command holds a single quote")
    head = f"symbackprop verify {network.cli_args()} \\"
    if len(head) > LINE:  # the options over as few lines as fit, each option whole
        lines = ["symbackprop verify"]
        for option in re.findall(r"--\S+ \S+", network.cli_args()):
            if len(f"{lines[-1]} {option} \\") > LINE:
                lines.append("   ")
            lines[-1] += f" {option}"
        head = " \\\n".join(lines) + " \\"
    lines = wrap(formula, LINE - 6)
    body = "\n".join(("    '" if i == 0 else "     ") + line for i, line in enumerate(lines))
    return f"{head}\n{body}'"


# The networks exercises are checked on ---------------------------------------------------------

def _constant_slope(name):
    return activations.get(name).derivative(sp.Symbol("t")).is_number


def _activations(network):
    """The network's activations, with any whose slope is constant (where a missing σ' cannot
    show) replaced by the default activation."""
    return tuple(DEFAULT_ACTIVATION if _constant_slope(name) else name for name in network.activations)


def witness(network, regularised=False):
    """The network index exercises are checked on: every layer equally wide (2 to 3 neurons; this
    network itself when its layers already are, 2 to 4 wide), so that j and k range alike and a
    swapped index or a missing transpose gives other numbers instead of leaving a layer, and
    activations whose slope varies."""
    low, high = WIDTH
    if len(set(network.sizes)) == 1 and low <= network.sizes[0] <= high:
        sizes = network.sizes
    else:
        sizes = (min(max(max(network.sizes), low), SQUARE),) * len(network.sizes)
    out = Network(sizes, _activations(network), network.cost, network.regularisation if regularised else ())
    out.validate()
    return out


def chain_witness(network):
    """The one-neuron chain the chain exercises are checked on: the notes' chain (where a layer that
    normalises, softmax, is 1 on a single neuron, its one-neuron counterpart and that of its cost),
    with activations whose slope varies."""
    shown = chain_network(network)
    names = tuple(name if activations.get(name).elementwise else DEFAULT_ACTIVATION for name in _activations(shown))
    cost = shown.cost
    try:
        out = Network((1,) * len(network.sizes), names, cost)
        out.validate()
    except SymbackpropError:  # a cost that needs the normalised layer: the lectures' cost
        out = Network((1,) * len(network.sizes), names, DEFAULT_COST)
    out.validate()
    return out


def cancelling_network(network):
    """A network (a witness) whose cost's slope cancels its output activation's σ': this one if
    it does, else this one with a cost that cancels its output activation; None when no cost
    of the registry cancels it (the exercise is then about another network's activation, and
    left out)."""
    base = witness(network)
    if derive(base).output_error_cancels:
        return base
    for cost in cancelling_costs(base):
        return Network(base.sizes, base.activations, cost.name)
    return None


# Typical mistakes ---------------------------------------------------------------------------

def _swap_weight_indices(expr):
    weights = {e for e in expr.atoms(sp.Indexed) if e.base == nt.w and len(e.indices) == 3}
    mapping = {e: nt.w[e.indices[0], e.indices[2], e.indices[1]] for e in weights}
    return _replace(expr, mapping)


def _replace(expr, mapping):
    return ordered_xreplace(expr, mapping)


def _sigma_for_slope(expr):
    primes = list(expr.atoms(nt.sigma_prime))
    return _replace(expr, {p: nt.sigma(p.args[0]) for p in primes})


def mistake(expr):
    """A typical wrong version of ``expr``: a weight's indices swapped (w_kj for w_jk), else the
    transpose left out, else j and k swapped, else σ for σ', else the opposite sign."""
    if any(e.base == nt.w and len(e.indices) == 3 for e in expr.atoms(sp.Indexed)):
        return _swap_weight_indices(expr)
    transposed = list(expr.atoms(nt.Transposed))
    if transposed:
        return _replace(expr, {t: t.args[0] for t in transposed})
    free = expr.free_symbols
    if nt.j in free and nt.k in free:
        return _replace(expr, {nt.j: nt.k, nt.k: nt.j})
    if expr.atoms(nt.sigma_prime):
        return _sigma_for_slope(expr)
    return -expr


# The exercises ------------------------------------------------------------------------------

def _formula(key, lhs, answer, network, own, **data):
    return Exercise(key, lhs, answer, network, mistake(answer), dict(data, own=own))


def _written_out(derivation, network, back):
    """∂C₀/∂w^{(L-back)}_{jk} with every sum written out: a^{(m-1)}_k σ'(z^{(m)}_j) Σ_p w σ' Σ_q ...;
    at a normalised output layer (softmax), whose a_q depends on every z, the innermost factor is its
    output error δ^{(L)}_q as the derivation simplified it (a − y with the log-likelihood)."""
    L, j, k = nt.L, nt.j, nt.k
    m = L - back
    letters = [nt.index_symbol(c) for c in "pqrs"][:back]
    d = derive(network)
    elementwise = network.activation(network.depth).elementwise
    top = d.cost_slope if elementwise else output_error(d)
    inner = ordered_xreplace(top, {nt.j: letters[-1]})
    # from the output layer down: Σ_q w^{(L)}_{q p} σ'(z^{(L)}_q) ∂C₀/∂a^{(L)}_q, then one layer lower ...
    for i in range(back - 1, -1, -1):
        layer = m + i + 1
        here = letters[i]
        below = letters[i - 1] if i > 0 else j
        slope = nt.sigma_prime(nt.z[layer, here]) if elementwise or layer != L else 1
        term = ordered_product(nt.w[layer, here, below], slope, inner)
        inner = sp.Sum(term, (here, 0, nt.n[layer] - 1))
    return nt.partial(nt.C0, nt.w[m, j, k]), ordered_product(nt.a[m - 1, k], nt.sigma_prime(nt.z[m, j]), inner)


def exercises(derivation, chain_of, hand=None, counts=None, decay=None):
    """The exercises for this network: the chain first, then several neurons per layer, then δ;
    then transfer questions (a weight two layers back written out, the transpose of BP2, the
    cancellation of σ', one number of the worked example, the cost of backpropagation); with a
    regulariser, the bias's gradient with the penalty and one weight's step (``decay``: the
    decay example's numbers)."""
    net = derivation.network
    chain_net = chain_witness(net)
    multi = witness(net)
    own_chain, own = chain_net == net.one_neuron_chain(), multi == net
    chain_d, multi_d = derive(chain_net), derive(multi)  # the exercises' own networks
    chain = chain_of(chain_d)
    top = chain[0]
    out = [_formula("chain_bias", top.bias.lhs, top.bias.rhs, chain_net, own_chain)]
    if top.previous is not None:
        out.append(_formula("chain_previous", top.previous.lhs, top.previous.rhs, chain_net, own_chain))
        below = chain[1]
        out.append(_formula("chain_back", below.weight.lhs, below.weight_expanded.product, chain_net, own_chain))
    out += [
        _formula("weight", multi_d.weight.lhs, multi_d.weight.rhs, multi, own),
        _formula("bias", multi_d.bias.lhs, multi_d.bias.rhs, multi, own),
        _formula("paths", multi_d.paths.lhs, multi_d.paths.rhs, multi, own),
        _formula("output_error", nt.delta[nt.L, nt.j], output_error(multi_d), multi, own),
    ]
    if net.depth > 1:
        bp2 = multi_d.bp_equation("BP2")
        out.append(_formula("bp2", bp2.index_lhs, bp2.index_rhs, multi, own))
        back = min(2, net.depth - 1)
        lhs, rhs = _written_out(multi_d, multi, back)
        out.append(_formula("written_out", lhs, rhs, multi, own, back=back,
                            normalised=not multi.activation(multi.depth).elementwise))
        out.append(_formula("transpose", bp2.matrix_lhs, bp2.matrix_rhs, multi, own))
    if not multi.activation(multi.depth).elementwise:  # a layer's Jacobian, with Kronecker's delta
        sm = normalised_section(multi_d)
        jacobian = _formula("jacobian", sm["jacobian_lhs"], sm["jacobian"], multi, own, raw=sm["raw"],
                            activation=multi.activation(multi.depth), kronecker=sm["kronecker"],
                            off_diagonal=sm["other"][1])
        jacobian.wrong = ordered_xreplace(sm["jacobian"], {sm["kronecker"]: 1})  # as if it acted neuron by neuron
        out.append(jacobian)
    cancel = cancelling_network(net)
    if cancel is not None:
        d = derive(cancel)
        a_j = nt.a[nt.L, nt.j]
        if cancel.activation(cancel.depth).elementwise:
            slope = ordered_xreplace(d.slope(cancel.activations[-1]).from_output, {nt.output: a_j})
            steps = [d.bp_equation("BP1").index_rhs, ordered_product(d.cost_slope, slope), output_error(d)]
        else:  # BP1's sum over the outputs, the cost's slope put in, and the sum collapsing (Σ y = 1)
            steps = normalised_section(d)["steps"]
        out.append(_formula("cancel", nt.delta[nt.L, nt.j], output_error(d), cancel, cancel == net,
                            activation=cancel.activation(cancel.depth), cost=cancel.cost_entry, steps=steps,
                            normalised=not cancel.activation(cancel.depth).elementwise))
    if hand is not None:
        out.append(Exercise("number", data=hand["asked"]))
    for r in derivation.regularisation:  # the weight's gradient with its penalty; biases are not penalised
        regularised = witness(net, regularised=True)
        regularised_d = derive(regularised)
        bp4, bias = regularised_d.bp_equation("BP4"), regularised_d.bp_equation("BP3")
        weight = regularised_d.regularisation[0].weight
        out.append(_formula("decay_weight", weight.lhs, ordered_xreplace(weight.rhs, {bp4.index_lhs: bp4.index_rhs}),
                            regularised, regularised == net, title=r.title, via=weight.rhs))
        out.append(_formula("decay_bias", r.bias.lhs, bias.index_rhs, regularised, regularised == net,
                            title=r.title, via=r.bias.rhs))
    if decay is not None:
        out.append(Exercise("decay_step", data=decay["asked"]))
    if counts is not None:
        out.append(Exercise("cheap", data=dict(counts=counts)))
    for i, ex in enumerate(out, 1):
        ex.number = i
    return out
