"""``verify(formula, network)``: is a hand-written formula right, where does it fail, and why.

The steps, each in its own module: ``guard`` and ``parse`` read the LaTeX into notation's SymPy
objects; ``bindings`` binds the free layer ``l`` and neuron indices to every value where the
formula makes sense; ``compare`` computes both sides at random points of the network, where a
``∂X/∂Y`` stands for its true value; ``expected`` finds the derivation's own statement for the
left-hand side; ``diagnose`` says what differs; ``result`` presents it.
"""

import dataclasses
import re
import time
from dataclasses import dataclass, field

import sympy as sp

from .. import notation as nt
from .. import printing
from ..derivation import derive
from ..errors import FormulaError
from ..instantiate import layers_relative
from ..spec import Network
from .bindings import bindings, check_cost, check_meaning
from . import precise, timelimit
from .compare import Checker, points
from .diagnose import diagnose
from .expected import chain_factors, expected, in_students_form, is_shorthand
from .parse import grammar, parse
from .result import Result, rounded, symbol_values, text_of, worst_entry
from .shapes import free_indices


def read(formula, network=None):
    """How verify reads ``formula`` (a live preview): {"latex", "text", "notes"}, or a FormulaError.

    Parsing only, no comparison: cheap enough to call on every keystroke.
    """
    network = Network.parse() if network is None else network
    parsed = parse(formula, network)
    return {"latex": " = ".join(printing.latex(s) for s in parsed.sides),
            "text": " = ".join(text_of(s) for s in parsed.sides), "notes": parsed.notes}


def verify(formula, network=None, time_limit=None, question=None, forbid_partials=False, hint=False):
    """Verdict, parsed form, expected right-hand side, counterexample and diagnosis for ``formula``.

    Returns within ``time_limit`` seconds (None: 2 s or $SYMBACKPROP_TIME_LIMIT) or raises a FormulaError
    saying it is too costly.
    Teachers' options: ``question``, the left-hand side that was asked for (an answer to another
    derivative is marked as such); ``forbid_partials``, a right-hand side that still holds a ∂ (or
    repeats the left side) is not an answer; ``hint``, the diagnosis without the expected answer.
    """
    network = Network.parse() if network is None else network
    warm_up(network)
    with timelimit.limit(time_limit, formula) as deadline:
        result = _verify(formula, network, deadline, question, forbid_partials)
    return dataclasses.replace(result, expected="", expected_text="") if hint else result


def warm_up(network):
    """What every formula on ``network`` needs and a process computes once: the grammar, the
    derivation and the sample points.  Done before the time limit starts, which is then the
    formula's own (a first call under load is not refused for the process's set-up)."""
    grammar()
    derive(network)
    points(network)


def read_question(question, network):
    """The left-hand side a teacher asked for, read like a student's (``\\delta^{(l)}_j``)."""
    if not isinstance(question, str) or not question.strip():
        raise FormulaError("the question is empty: give the left-hand side that was asked for")
    parsed = parse(question if "=" in question else f"{question} = 0", network)
    return parsed.lhs


def _canonical(lhs, depth):
    """``lhs`` with C, C_x as C₀, numbered layers relative to L and neuron indices renamed in
    order of appearance, so that ∂C/∂w^{(3)}_{pq} and ∂C_0/∂w^{(L)}_{jk} compare equal."""
    lhs = layers_relative(lhs, depth)
    if isinstance(lhs, sp.Derivative) and lhs.expr in nt.COSTS:
        lhs = nt.partial(nt.C0, lhs.variable_count[0][0])
    order = []
    for e in sp.preorder_traversal(lhs):
        if nt.is_index_symbol(e) and e not in order:
            order.append(e)
    return lhs.xreplace({s: sp.Symbol(f"index{i}") for i, s in enumerate(order)})


def _refused(parsed, network, start, code, message):
    """A not-equivalent verdict without comparison: the answer is to something else, or not one."""
    return Result(formula=parsed.text, network=network, equivalent=False,
                  parsed=" = ".join(printing.latex(s) for s in parsed.sides),
                  parsed_text=" = ".join(text_of(s) for s in parsed.sides), expected="", expected_text="",
                  checked=0, bindings_total=0, layers=[], diagnosis=[{"code": code, "message": message}],
                  notes=list(parsed.notes), seconds=time.monotonic() - start)


WITNESS_WIDTH = 3
"""Width of every layer of the witness network, where indices and orientation can show."""
PRECISE_CHECKS = 4
"""Samples checked again at 50 digits once double precision found no difference."""


@dataclass
class Judgement:
    """How one parsed formula fares on one network."""

    network: object
    equivalent: bool = True
    counterexample: dict = None
    diagnosis: list = field(default_factory=list)
    checked: int = 0
    bindings_total: int = 0
    layers: list = field(default_factory=list)
    want: object = None
    symbolic: str = "skipped"


_MATRIX_SIGNS = re.compile(r"\\odot|\\circ|\\nabla|\\Sigma|\\operatorname|\^\s*\{?\s*(T\b|\\top|\\intercal|\\mathrm)")
"""What marks a formula as the matrix form even where the network makes every layer a number."""


def about_indices(parsed):
    """True when the formula says something about neurons or matrices (indices, sums, ⊙, ^T, ∇),
    which a network with one neuron per layer cannot tell apart."""
    if _MATRIX_SIGNS.search(parsed.text):
        return True
    for side in parsed.sides:
        if side.has(sp.Sum, nt.grad_a_C, *nt.MATRIX_OPERATIONS) or free_indices(side):
            return True
        if any(len(e.indices) > 1 or e.base == nt.y for e in side.atoms(sp.Indexed) if nt.letter(e)):
            return True
    return False


def witness_network(network):
    """The network of the same depth, activations, cost and regulariser with every layer WITNESS_WIDTH
    wide or wider, or None when the network is that wide already."""
    if min(network.sizes) >= WITNESS_WIDTH:
        return None
    return Network(tuple(max(w, WITNESS_WIDTH) for w in network.sizes), network.activations, network.cost,
                   network.regularisation)


def _counterexample(sample, lhs, rhs, want, checker, samples, bad, number, parsed):
    out = {
        "binding": {str(k): v for k, v in sample.env.items() if k != nt.L},
        "point": sample.point,
        "values": symbol_values([lhs, rhs, want], sample.env, checker.points[sample.point], checker.network),
        "student": rounded(sample.student),
        "true": rounded(sample.truth),
        "error": sample.error,
        "mismatches": f"{len(bad)} of {len(samples)}",
    }
    worst = worst_entry(sample.student, sample.truth) if sample.error is None else None
    if worst:
        out["largest_difference"] = worst
    if len(parsed.rhs) > 1:
        out["side"] = number + 1
    return out


def _precise_difference(rhs, lhs, samples, checker, shorthand):
    """The first sample where rhs and lhs differ at 50 digits, as (sample, difference), or None."""
    for sample in samples[:PRECISE_CHECKS]:
        if time.monotonic() > checker.deadline - 0.5:
            return None
        found = precise.difference(rhs, lhs, sample.env, checker.points[sample.point], checker.network, shorthand)
        if found is None:
            return None
        diff, size = found
        if abs(diff) > precise.NOISE * max(size, 1e-300):
            return sample, diff
    return None


def judge(parsed, network, deadline):
    """Compare every part of ``parsed`` with the truth on ``network``; diagnose the first that fails."""
    lhs = parsed.lhs
    binds = bindings(parsed, network)
    check_cost(parsed, network, binds)
    checker = Checker(parsed, network, binds, deadline)
    derivation = derive(network)
    shorthand = is_shorthand(lhs, network)
    match = expected(lhs, derivation, shorthand, parsed.rhs[-1])
    want = None if match is None else match.rhs
    out = Judgement(network, bindings_total=binds.total, layers=[lv for lv in binds.layers if lv is not None],
                    want=want)
    for number, rhs in enumerate(parsed.rhs):
        samples = checker.samples(rhs)
        out.checked += len(samples)
        for s in samples:
            if s.error and "out of range" in s.error and s.error.startswith(("neuron index", "layer", "n_")):
                raise FormulaError(f"{s.error} (while computing the right-hand side)", formula=parsed.text)
        bad = [s for s in samples if not s.agrees]
        tiny = None if bad else _precise_difference(rhs, lhs, samples, checker, shorthand)
        if not bad and tiny is None:
            continue
        out.equivalent = False
        first = bad[0] if bad else tiny[0]
        out.counterexample = _counterexample(first, lhs, rhs, want, checker, samples, bad or [first], number, parsed)
        if bad:
            factors = chain_factors(lhs, derivation, shorthand, match)
            out.diagnosis = diagnose(parsed, rhs, samples, checker, derivation, factors, want)
        else:
            out.counterexample["difference"] = float(f"{tiny[1]:.6g}")
            out.diagnosis = [{"code": "tiny_difference", "message": (
                f"your right-hand side differs from the true value by {tiny[1]:.3g} here: too little to show in "
                "double precision, but computed with 50 digits it is not zero, so some term is not right")}]
        if len(parsed.rhs) > 1:
            out.diagnosis.insert(0, {"code": "chain_part", "message": f"part {number + 1} of the chain of "
                                     f"equalities ({printing.latex(rhs)}) is where it goes wrong"})
        return out
    proven = all(precise.identical(rhs, want, derivation, shorthand) for rhs in parsed.rhs)
    out.symbolic = "identical" if proven else "numeric"
    return out


def _verify(formula, network, deadline, question=None, forbid_partials=False):
    start = time.monotonic()
    parsed = parse(formula, network)
    check_meaning(parsed)
    if question is not None:
        asked = read_question(question, network)
        if _canonical(asked, network.depth) != _canonical(parsed.lhs, network.depth):
            return _refused(parsed, network, start, "other_question",
                            f"this answers {text_of(parsed.lhs)}, but the question asks for {text_of(asked)}")
    if forbid_partials:
        for rhs in parsed.rhs:
            if rhs.has(sp.Derivative) or rhs == parsed.lhs:
                return _refused(parsed, network, start, "not_an_answer",
                                "the right-hand side still holds a derivative ∂X/∂Y: write it out in a, z, w, y and σ'")
    result = judge(parsed, network, deadline)
    notes = list(parsed.notes)
    witness = witness_network(network) if result.equivalent and about_indices(parsed) else None
    if witness is not None:
        try:
            on_witness_parsed = parse(formula, witness)
            on_witness = judge(on_witness_parsed, witness, deadline)
        except FormulaError:
            on_witness = None  # e.g. the formula only makes sense with one neuron per layer
        if on_witness is not None and not on_witness.equivalent:
            notes.append(f"on your network {'-'.join(map(str, network.sizes))} the indices or the orientation of "
                         f"this formula cannot show (a layer has fewer than {WITNESS_WIDTH} neurons), so it was also "
                         f"checked on the network {'-'.join(map(str, witness.sizes))} with the same depth, "
                         "activations and cost, where it fails: the counterexample is from that network")
            result, parsed = on_witness, on_witness_parsed  # read as on that network: w δ is not δ w there
    lhs, want = parsed.lhs, in_students_form(result.want, parsed.rhs[-1])
    return Result(
        formula=formula, network=result.network, equivalent=result.equivalent,
        parsed=" = ".join(printing.latex(s) for s in parsed.sides),
        parsed_text=" = ".join(text_of(s) for s in parsed.sides),
        expected=(f"{printing.latex(lhs)} = {printing.latex(want)}" if want is not None else ""),
        expected_text=(f"{text_of(lhs)} = {text_of(want)}" if want is not None else ""),
        checked=result.checked, bindings_total=result.bindings_total, layers=result.layers,
        counterexample=result.counterexample, diagnosis=result.diagnosis, notes=notes, symbolic=result.symbolic,
        seconds=time.monotonic() - start,
    )
