"""``verify(formula, network)``: is a hand-written formula right, where does it fail, and why.

The steps, each in its own module: ``guard`` and ``parse`` read the LaTeX into notation's SymPy
objects; ``bindings`` binds the free layer ``l`` and neuron indices to every value where the
formula makes sense; ``compare`` computes both sides at random points of the network, where a
``∂X/∂Y`` stands for its true value; ``expected`` finds the derivation's own statement for the
left-hand side; ``diagnose`` says what differs; ``result`` presents it.
"""

import time

import sympy as sp

from .. import notation as nt
from .. import printing
from ..derivation import derive
from ..errors import FormulaError
from ..spec import Network
from .bindings import bindings, check_cost, check_meaning
from . import timelimit
from .compare import Checker, same
from .diagnose import diagnose
from .expected import chain_factors, expected, is_shorthand
from .parse import parse
from .result import Result, rounded, symbol_values, text_of, worst_entry


def symbolic_check(rhs, want):
    """'identical' when the student's right side expands to the derivation's, else 'not shown'."""
    if want is None or rhs.has(*nt.MATRIX_OPERATIONS, sp.Sum) or want.has(*nt.MATRIX_OPERATIONS, sp.Sum) or sp.count_ops(rhs) > 150:
        return "skipped"
    try:
        return "identical" if sp.expand((rhs - want).doit()) == 0 else "undecided"
    except Exception:  # noqa: BLE001 - the symbolic check is only a bonus
        return "skipped"


def read(formula, network=None):
    """How verify reads ``formula`` (a live preview): {"latex", "text", "notes"}, or a FormulaError.

    Parsing only, no comparison: cheap enough to call on every keystroke.
    """
    network = Network.parse() if network is None else network
    parsed = parse(formula, network)
    return {"latex": " = ".join(printing.latex(s) for s in parsed.sides),
            "text": " = ".join(text_of(s) for s in parsed.sides), "notes": parsed.notes}


def verify(formula, network=None, time_limit=timelimit.DEFAULT):
    """Verdict, parsed form, expected right-hand side, counterexample and diagnosis for ``formula``.

    Returns within ``time_limit`` seconds or raises a FormulaError saying it is too costly.
    """
    network = Network.parse() if network is None else network
    with timelimit.limit(time_limit, formula) as deadline:
        return _verify(formula, network, deadline)


def _verify(formula, network, deadline):
    start = time.monotonic()
    parsed = parse(formula, network)
    check_meaning(parsed)
    binds = bindings(parsed, network)
    check_cost(parsed, network, binds)
    checker = Checker(parsed, network, binds, deadline)
    derivation = derive(network)
    lhs = parsed.lhs
    shorthand = is_shorthand(lhs, network)
    match = expected(lhs, derivation, shorthand, parsed.rhs[-1])
    want = None if match is None else match.rhs
    diagnosis, counterexample, ok, checked = [], None, True, 0
    for number, rhs in enumerate(parsed.rhs):
        samples = checker.samples(rhs)
        checked += len(samples)
        for s in samples:
            if s.error and "out of range" in s.error and s.error.startswith(("neuron index", "layer", "n_")):
                raise FormulaError(f"{s.error} (while computing the right-hand side)", formula=formula)
        bad = [s for s in samples if s.error is not None or not same(s.student, s.truth)]
        if not bad:
            continue
        ok = False
        first = bad[0]
        label = {str(k): v for k, v in first.env.items() if k != nt.L}
        counterexample = {
            "binding": label,
            "point": first.point,
            "values": symbol_values([lhs, rhs, want], first.env, checker.points[first.point], network),
            "student": rounded(first.student),
            "true": rounded(first.truth),
            "error": first.error,
            "mismatches": f"{len(bad)} of {len(samples)}",
        }
        worst = worst_entry(first.student, first.truth) if first.error is None else None
        if worst:
            counterexample["largest_difference"] = worst
        if len(parsed.rhs) > 1:
            counterexample["side"] = number + 1
        factors = chain_factors(lhs, derivation, shorthand, match)
        diagnosis = diagnose(parsed, rhs, samples, checker, derivation, factors, want)
        if len(parsed.rhs) > 1:
            diagnosis.insert(0, {"code": "chain_part", "message": f"part {number + 1} of the chain of equalities "
                                 f"({printing.latex(rhs)}) is where it goes wrong"})
        break
    sym = symbolic_check(parsed.rhs[-1], want) if ok else "skipped"
    return Result(
        formula=formula, network=network, equivalent=ok,
        parsed=" = ".join(printing.latex(s) for s in parsed.sides),
        parsed_text=" = ".join(text_of(s) for s in parsed.sides),
        expected=(f"{printing.latex(lhs)} = {printing.latex(want)}" if want is not None else ""),
        expected_text=(f"{text_of(lhs)} = {text_of(want)}" if want is not None else ""),
        checked=checked, bindings_total=binds.total, layers=[lv for lv in binds.layers if lv is not None],
        counterexample=counterexample, diagnosis=diagnosis, notes=parsed.notes, symbolic=sym,
        seconds=time.monotonic() - start,
    )
