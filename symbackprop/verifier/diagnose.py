"""What differs between a student's right-hand side and the truth, in the student's words.

Two ways of finding out, both numeric and both on the same bindings and points as the verdict:

* **variants**: change one thing in the student's formula (σ for σ', w_{kj} for w_{jk}, a_j for
  a_k, a layer superscript, a transpose, a missing Σ) and see whether that makes it right;
* **ratios**: divide the student's value by the true value; a constant says a constant factor
  or a flipped sign, a ratio equal to one chain-rule factor (or its inverse) says which factor
  is extra (or missing).

Each finding is a ``{code, message}``; the codes are listed in ``CODES``.
"""

import time

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import printing
from ..derivation import ROLES
from ..errors import FormulaError
from ..printing import plain, rebuilt
from .evaluate import EvaluationError
from ..instantiate import to_shorthand
from .compare import same
from .factors import Evaluator, factor_findings, split_factors, term_findings
from .shapes import as_expr, free_indices, has_whole_target, layered, neuron_positions

CODES = ("not_elementwise", "other_question", "not_an_answer", "missing_sum", "stray_sum", "cost_for_slope", "wrong_factor", "extra_term", "missing_term", "tiny_difference", "shape_mismatch", "sigma_for_sigma_prime", "sigma_prime_for_sigma", "swapped_indices",
         "wrong_index", "wrong_layer", "missing_transpose", "extra_transpose", "flipped_sign", "constant_factor",
         "missing_factor", "extra_factor", "wrong_order", "only_some_layers", "unexplained", "chain_part", "number_for_symbol",
         "missing_kronecker", "slope_for_error")

MAX_VARIANTS = 80



def _named(expr):
    """How a diagnosis names a quantity: plain Unicode, σ'(z^(L)), w^(L)_jk, readable in a terminal."""
    return printing.text(expr)


def _role(role):
    """A factor's role as a diagnosis names it: '∂a/∂z, the slope of the activation'."""
    return f"{ROLES[role].ratio}, {ROLES[role].name}"


def _finding(code, message):
    return {"code": code, "message": message}


# Variants: one change to the student's formula --------------------------------------------------

def _sites(expr, path=()):
    """(path, node) for every node of ``expr`` a student wrote (not inside ∂X/∂Y or an index)."""
    yield path, expr
    if isinstance(expr, (sp.Derivative, sp.Indexed)) or not expr.args:
        return
    args = expr.args[:1] if isinstance(expr, sp.Sum) else expr.args
    for i, arg in enumerate(args):
        yield from _sites(arg, path + (i,))


def _replace(expr, path, new):
    if not path:
        return new
    args = list(expr.args)
    args[path[0]] = _replace(args[path[0]], path[1:], new)
    return rebuilt(expr, args)


def variants(rhs, lhs, network):
    """(code, message, changed rhs) for each single change worth trying."""
    out = []
    for code, message, where, new in _changes(rhs, lhs):
        try:
            changed = rhs.xreplace(new) if where is None else _replace(rhs, where, new)
        except (ValueError, TypeError):  # a change SymPy refuses is simply not a candidate
            continue
        out.append((code, message, changed))
        if len(out) >= MAX_VARIANTS:
            break
    return out


def _one_layer_pair(lhs):
    """(i, j) of a left-hand side ∂a_i/∂z_j within one layer (a softmax's Jacobian), else None."""
    if not isinstance(lhs, sp.Derivative) or not isinstance(lhs.expr, sp.Indexed):
        return None
    (var, _), = lhs.variable_count
    top, bottom = lhs.expr, var
    if not isinstance(bottom, sp.Indexed) or len(top.indices) != 2 or len(bottom.indices) != 2:
        return None
    if top.indices[0] != bottom.indices[0] or top.indices[1] == bottom.indices[1]:
        return None
    return top.indices[1], bottom.indices[1]


def _lhs_elements(lhs):
    if isinstance(lhs, sp.Derivative):
        (var, _), = lhs.variable_count
        return [var] + ([lhs.expr] if isinstance(lhs.expr, sp.Indexed) else [])
    return layered(lhs)


def _changes(rhs, lhs):
    """(code, message, path or None, replacement) for each single change worth trying.

    With a path, the one node there is replaced (a^{(L)} in a^{(L)} σ'(z) 2(a^{(L)} − y) is two
    different places); without, the replacement is a rule for the whole right-hand side.
    """
    out = []
    pool = sorted(({s for e in _lhs_elements(lhs) + layered(rhs) for i in e.indices[1:] + (
        e.indices if e.base == nt.y else ()) for s in as_expr(i).free_symbols if nt.is_index_symbol(s)}
        | {nt.j, nt.k}), key=str)
    for path, node in _sites(rhs):
        if isinstance(node, nt.sigma):
            out.append(("sigma_for_sigma_prime",
                        f"you wrote {_named(node)} where {_named(nt.sigma_prime(*node.args))} is due: ∂a/∂z is the slope of "
                        f"the activation, σ', not the activation σ itself", path, nt.sigma_prime(*node.args)))
        elif isinstance(node, nt.sigma_prime):
            out.append(("sigma_prime_for_sigma", f"you wrote {_named(node)} where {_named(nt.sigma(*node.args))} is due",
                        path, nt.sigma(*node.args)))
        elif isinstance(node, nt.Transposed):
            out.append(("extra_transpose", f"the transpose in {_named(node)} is not due", path, node.args[0]))
        elif isinstance(node, nt.MatrixProduct) and len(node.args) > 1:
            turned = nt.MatrixProduct(*reversed(node.args))
            out.append(("wrong_order", f"the factors of {_named(node)} are in the wrong order: matrix products do not "
                        f"commute; it is {_named(turned)}", path, turned))
        elif isinstance(node, sp.Indexed) and (node.base in nt.LAYERED or node.base == nt.y):
            out += _index_changes(node, path, pool)
    pair = _one_layer_pair(lhs)
    if pair is not None and not rhs.has(sp.KroneckerDelta):
        kronecker = sp.KroneckerDelta(*pair)
        for path, node in _sites(rhs):
            if node == 1:
                out.append(("missing_kronecker", f"1 stands where the Kronecker delta {_named(kronecker)} is due: "
                            f"the slope of {_named(lhs.expr)} by {_named(lhs.variable_count[0][0])} is not the same "
                            f"for {pair[0]} ≠ {pair[1]} as for {pair[0]} = {pair[1]} (a softmax's outputs share one "
                            "sum, so each depends on every weighted input of its layer)", path, kronecker))
    if rhs.has(nt.n_examples):  # n changes from point to point, so "n times" is no constant ratio
        out.append(("constant_factor", "your result is n times the true value: Σₓ adds up the derivatives of the "
                    "n training examples; the gradient of C is their average, (1/n) Σₓ", (), rhs / nt.n_examples))
        out.append(("constant_factor", "your result is 1/n of the true value: a stray 1/n (the average over the "
                    "examples is taken once)", (), rhs * nt.n_examples))
    free = sorted({s for e in _lhs_elements(lhs) for i in e.indices for s in as_expr(i).free_symbols
                   if nt.is_index_symbol(s)}, key=str)
    for n, first in enumerate(free):
        for second in free[n + 1:]:
            out.append(("swapped_indices", f"{first} and {second} are swapped throughout the right-hand side: "
                        f"{first} and {second} count neurons of different layers", None,
                        {first: second, second: first}))
            if isinstance(rhs, sp.Add):  # in one term only: the chain rule's term beside a regulariser's
                for i, term in enumerate(rhs.args):
                    if {first, second} <= term.free_symbols:
                        out.append(("swapped_indices", f"{first} and {second} are swapped in the term "
                                    f"{_named(term)}: {first} and {second} count neurons of different layers",
                                    (i,), term.xreplace({first: second, second: first})))
    return out


def _index_changes(e, path, pool):
    out = []
    if e.base == nt.w and len(e.indices) == 3 and e.indices[1] != e.indices[2]:
        swapped = nt.w[e.indices[0], e.indices[2], e.indices[1]]
        out.append(("swapped_indices", f"the indices of {_named(e)} are swapped: it should be {_named(swapped)} (w_jk "
                    f"goes to neuron j of layer l from neuron k of layer l-1)", path, swapped))
    for pos in (list(range(1, len(e.indices))) if e.base != nt.y else [0]):
        current = e.indices[pos]
        if not nt.is_index_symbol(current):
            continue
        for other in pool:
            if other != current:
                idx = list(e.indices)
                idx[pos] = other
                changed = e.base[tuple(idx)]
                out.append(("wrong_index", f"{_named(e)} should be {_named(changed)}: the neuron index there is "
                            f"{other}, not {current}", path, changed))
    if e.base in nt.LAYERED:
        for step in (-1, 1):
            idx = list(e.indices)
            idx[0] = idx[0] + step
            changed = e.base[tuple(idx)] if len(idx) > 1 else e.base[idx[0]]
            out.append(("wrong_layer", f"wrong layer: {_named(e)} should be {_named(changed)}", path, changed))
    if e.base == nt.w and len(e.indices) == 1:
        out.append(("missing_transpose", f"{_named(e)} needs a transpose: ({_named(e)})^T sends the error back from "
                    f"layer {_named(e.indices[0])} to layer {_named(e.indices[0] - 1)}", path, nt.Transposed(e)))
    if e.base == nt.a and len(e.indices) == 1:
        out.append(("missing_transpose", f"{_named(e)} needs a transpose: ∂C/∂w is the column δ times the row "
                    f"({_named(e)})^T", path, nt.Transposed(e)))
    return out


# Ratios: the student's value over the true value -------------------------------------------------

def _ratios(samples):
    r = []
    for s in samples:
        if s.error is not None or s.student is None:
            return None
        a, b = np.asarray(s.student, dtype=float).reshape(-1), np.asarray(s.truth, dtype=float).reshape(-1)
        if a.shape != b.shape or not np.all(np.isfinite(a)):
            return None
        keep = b != 0  # a ratio is relative: a vanishing gradient of 1e-19 keeps its entries
        with np.errstate(over="ignore"):  # 1e300 / 1e-19 is inf: no constant ratio, and no warning on stderr
            r.extend((a[keep] / b[keep]).tolist())
    return np.array(r) if r else None


def _constant(r, value=None, rtol=1e-6):
    if r is None or not len(r):
        return None
    c = np.median(r) if value is None else value
    return c if np.allclose(r, c, rtol=rtol, atol=1e-9) else None


def _sign_message(rhs, derivation):
    for add in rhs.atoms(sp.Add):
        ys = [t for t in add.args if t.has(nt.y) or t.has(nt.target)]
        outs = [t for t in add.args if any(e.base == nt.a for e in t.atoms(sp.Indexed))]
        if ys and outs and not ys[0].could_extract_minus_sign() and outs[0].could_extract_minus_sign():
            return (f"the sign is flipped: you have ({_named(add)}), i.e. y − a; the cost's slope ∂C₀/∂a = "
                    f"{_named(derivation.cost_slope)} has a − y, with a first")
    return "the sign is flipped: your right-hand side is the negative of the true value"


def _constant_message(c, rhs, derivation):
    """A constant ratio in words, from this cost's own term and slope (2(a − y) has a 2, ½(a − y)² a ½)."""
    slope = derivation.cost_slope
    coefficient = plain(slope).as_coeff_Mul()[0]
    term_has_half = sp.Rational(1, 2) in derivation.cost_term.atoms(sp.Rational)
    student_has_half = any(r == sp.Rational(1, 2) for r in rhs.atoms(sp.Rational))
    if np.isclose(c, 0.5):
        if coefficient == 2 and student_has_half:
            return (f"a stray ½: this cost, C₀ = Σ_j {_named(derivation.cost_term)}, has no ½, so its slope is "
                    f"{_named(slope)}; your result is half the true value")
        if coefficient == 2:
            return (f"your result is half the true value: the factor 2 of the cost's slope ∂C₀/∂a = {_named(slope)} "
                    "(from differentiating the square) is missing")
        return "your result is half the true value: a stray factor ½"
    if np.isclose(c, 2):
        if term_has_half:
            return (f"your result is twice the true value: the ½ of the cost C₀ = Σ_j {_named(derivation.cost_term)} "
                    f"cancels the 2 of the square, so ∂C₀/∂a = {_named(slope)}")
        return "your result is twice the true value: an extra factor 2"
    return f"your result is {c:.6g} times the true value: a wrong constant factor"


# The diagnosis ------------------------------------------------------------------------------------

def _missing_sums(rhs, lhs):
    extra = sorted(free_indices(rhs) - free_indices(lhs), key=str)
    out = []
    for s in extra:
        layer = next((lay for e in sorted(rhs.atoms(sp.Indexed), key=sp.default_sort_key)
                      for i, lay in neuron_positions(e) if i == s), None)
        out.append((s, layer))
    return out


def diagnose(formula, rhs, samples, checker, derivation, factors, want):
    """[{code, message}]: what differs between ``rhs`` and the truth; ``factors`` are the
    chain-rule factors (value, role) of the statement the derivation has for the left side."""
    lhs = formula.lhs
    findings = []
    normalised = (_elementwise_slope_on_a_normalised_layer(rhs, derivation)
                  or _slope_for_error(rhs, samples, checker, derivation, lhs))
    if normalised:
        return [normalised]
    for s, layer in _missing_sums(rhs, lhs):
        fixed = sp.Sum(rhs, (s, 0, nt.n[layer] - 1)) if layer is not None else None
        works = fixed is not None and checker.equivalent(fixed)
        findings.append(_finding("missing_sum", (
            f"the index {s} is free on the right but not on the left: the quantity reaches the cost through every "
            f"neuron {s} of layer {_named(layer) if layer is not None else '?'}, so the chain rule adds up these paths"
            + (f"; with Σ_{s} in front your formula is right" if works else f"; sum over {s}"))))
        if works:
            return findings
    layers = _layer_finding(rhs, samples, checker.network)
    if layers:
        findings.append(layers)
    shape = _shape_finding(rhs, samples)
    candidates = [(code, message, changed) for code, message, changed in variants(rhs, lhs, checker.network)
                  if changed != rhs]
    explained = []
    for code, message, changed in candidates:
        if checker.equivalent(changed):
            explained.append(_finding(code, message))
            if len(explained) >= 2:
                break
    if explained:
        return findings + ([shape] if shape else []) + explained
    if shape:
        shape["message"] += _SHORTHAND_HINT if _has_whole_layers(rhs) and not rhs.has(*nt.MATRIX_OPERATIONS) else ""
        return findings + [shape]
    stray = _stray_sums(rhs, lhs, checker)
    if stray:
        return findings + stray
    found = _ratio_findings(rhs, samples, derivation)
    if found:
        return findings + found
    for code, message, changed in candidates:  # two mistakes: one change, then a sign or a constant
        if time.monotonic() > checker.budget:
            break
        try:
            r = _ratios(checker.samples(changed, scaled=False))
        except (FormulaError, EvaluationError, KeyError, TypeError, ValueError, ZeroDivisionError):
            continue
        c = _constant(r)
        if c is not None and any(np.isclose(c, v) for v in (-1.0, 2.0, 0.5)):
            return findings + [_finding(code, message), _constant_finding(c, changed, derivation)]
    found = _factor_diagnosis(rhs, samples, checker, derivation, factors, want, lhs)
    if found:
        return findings + found
    cost = _cost_for_slope(rhs, samples, checker, derivation, lhs)
    if cost:
        finding, repaired = cost
        if checker.equivalent(repaired):
            return findings + [finding]
        rest = _factor_diagnosis(repaired, checker.samples(repaired), checker, derivation, factors, want, lhs)
        return findings + [finding] + rest
    if not findings:  # (the expected answer is shown beside the diagnosis, unless hints are asked for)
        findings.append(_finding("unexplained", "the right-hand side differs from the true value and no single "
                                 "common mistake explains it"))
    return findings


def _cost_for_slope(rhs, samples, checker, derivation, lhs):
    """A factor that is the cost's own term c(a, y) where its slope ∂C₀/∂a is due: (finding, rhs
    with the slope in its place), or None."""
    evaluator = Evaluator(checker, samples)
    for factor in sp.Mul.make_args(plain(rhs)):
        outputs = [e for e in factor.atoms(sp.Indexed) if e.base == nt.a] or \
                  ([nt.a[nt.L]] if has_whole_target(factor) else [])
        if not outputs:
            continue
        a = outputs[0]
        y = nt.y[a.indices[1]] if len(a.indices) > 1 else nt.target
        term = derivation.cost_term.xreplace({nt.output: a, nt.target: y})
        values, wanted = evaluator.values(factor), evaluator.values(term)
        if values is not None and wanted is not None and same(values, wanted):
            slope = derivation.cost_slope if len(a.indices) > 1 else to_shorthand(derivation.cost_slope)
            slope = slope.xreplace({nt.j: a.indices[1]} if len(a.indices) > 1 else {})
            return (_finding("cost_for_slope", f"{_named(factor)} is the cost itself; the chain rule needs its slope "
                             f"∂C₀/∂a = {_named(slope)}"), plain(rhs).xreplace({factor: slope}))
    return None


def _elementwise_slope_on_a_normalised_layer(rhs, derivation):
    """σ'(z^{(L)}) on an output layer that is not element-wise (softmax): the Jacobian is due."""
    network = derivation.network
    entry = network.activation(network.depth)
    if entry.elementwise:
        return None
    for node in rhs.atoms(nt.sigma_prime):
        layer = nt.layer_of(next(iter(node.args[0].atoms(sp.Indexed)), None)) if node.args[0].atoms(sp.Indexed) else None
        if layer is not None and nt.concrete_layer(layer, network.depth) == network.depth:
            jacobian = derivation.slope(entry.name).derivative
            result = (f"; with this cost it comes to δ^(L) = {_named(derivation.output_error)}"
                      if derivation.output_error_cancels else "")
            return _finding("not_elementwise", (
                f"{entry.words} is not element-wise: every output a_i depends on every z_j, so there is no "
                f"{_named(node)} to multiply by; BP1 is δ^(L) = Jᵀ∇_a C with J_ij = ∂a_i/∂z_j = {_named(jacobian)}"
                + result))
    return None


def _slope_for_error(rhs, samples, checker, derivation, lhs):
    """δ^{(L)}_j written as ∂C₀/∂a^{(L)}_j on a softmax output: the step through its Jacobian is missing."""
    network = derivation.network
    entry = network.activation(network.depth)
    if entry.elementwise or not (isinstance(lhs, sp.Indexed) and lhs.base == nt.delta and len(lhs.indices) == 2):
        return None
    if nt.concrete_layer(lhs.indices[0], network.depth) != network.depth:
        return None
    evaluator = Evaluator(checker, samples)
    student, slope = evaluator.values(rhs), evaluator.values(nt.partial(nt.C0, nt.a[lhs.indices]))
    if student is None or slope is None or student.shape != slope.shape or not np.allclose(student, slope, rtol=1e-9):
        return None
    return _finding("slope_for_error", (
        f"this is {_named(nt.partial(nt.C0, nt.a[lhs.indices]))}, the cost's slope by the output; the error "
        f"{_named(lhs)} = ∂C₀/∂z goes on through the {entry.words} layer, whose every output depends on every z: "
        f"BP1 is δ^(L) = Jᵀ∇_a C with the Jacobian J_ij = ∂a_i/∂z_j"
        + (f", which with this cost gives {_named(derivation.output_error)}" if derivation.output_error_cancels else "")))


def _stray_sums(rhs, lhs, checker):
    """A Σ over an index the left-hand side fixes (Σ_j in ∂C₀/∂w_jk): there is nothing to add up."""
    fixed = free_indices(lhs)
    out = []
    for node in rhs.atoms(sp.Sum):
        for var, *_ in node.limits:
            if var in fixed:
                works = checker.equivalent(rhs.xreplace({node: node.function}))
                out.append(_finding("stray_sum", (
                    f"a stray Σ_{var}: {var} is fixed by the left-hand side ({_named(lhs)} concerns one neuron {var}), "
                    "so there is nothing to add up" + ("; without the sum your formula is right" if works else ""))))
    return out


def _layer_finding(rhs, samples, network):
    """When the formula holds at some values of l and not at others, say which."""
    good, bad = set(), set()
    for s in samples:
        if nt.l in s.env:
            (good if s.agrees else bad).add(s.env[nt.l])
    good -= bad
    if not good or not bad:
        return None
    message = (f"it holds for l = {', '.join(map(str, sorted(good)))} but not for l = "
               f"{', '.join(map(str, sorted(bad)))}")
    if network.depth in good and (rhs.has(nt.y) or has_whole_target(rhs)):
        message += ("; the cost's slope (a - y) belongs to the output layer only: below it, ∂C₀/∂a^(l)_j sums the "
                    "paths through layer l+1 (Σ_k w^(l+1)_kj δ^(l+1)_k)")
    return _finding("only_some_layers", message)


_SHORTHAND_HINT = ("; without a neuron index a quantity is its whole layer (a vector or a matrix): write the index "
                   "form (a^(L-1)_k, w^(L)_jk) or Nielsen's matrix form")


def _has_whole_layers(rhs):
    return any(len(e.indices) == 1 for e in layered(rhs) if e.base in nt.LAYERED)


def _shape_finding(rhs, samples):
    errors = [s.error for s in samples if s.error]
    mismatched = [s for s in samples if s.error is None and np.size(s.student) != np.size(s.truth)]
    if not errors and not mismatched:
        return None
    what = errors[0] if errors else (
        f"the left side has {np.size(samples[0].truth)} entries, the right side {np.size(mismatched[0].student)}")
    return _finding("shape_mismatch", f"the sizes do not fit: {what}")


def _constant_finding(c, rhs, derivation):
    if np.isclose(c, -1.0):
        return _finding("flipped_sign", _sign_message(rhs, derivation))
    return _finding("constant_factor", _constant_message(c, rhs, derivation))


def _ratio_findings(rhs, samples, derivation):
    """A constant ratio of the student's value to the true one: a sign, a factor 2, or 0."""
    if _all_zero(samples):
        return [_finding("constant_factor", "your right-hand side is 0 here, but the true value is not")]
    r = _ratios(samples)
    c = _constant(r)
    if c is not None and not np.isclose(c, 1.0):
        return [_constant_finding(c, rhs, derivation)]
    return []


def _all_zero(samples):
    return all(s.error is None and s.student is not None and not np.any(np.asarray(s.student, dtype=float))
               for s in samples)


def _factor_diagnosis(rhs, samples, checker, derivation, factors, want, lhs):
    """The general mechanism: term by term, then factor by factor, against the true statement."""
    evaluator = Evaluator(checker, samples)
    out = []
    terms = term_findings(rhs, want, evaluator) if want is not None else None
    pairs = [(rhs, factors, None)]
    if terms:
        pairs = []
        for code, message in terms:
            if code != "term":
                out.append(_finding(code, message))
            elif (number := _number_for_symbol(*message, derivation)) is not None:
                out.append(number)
            else:
                student_term, true_term = message
                pairs.append((student_term, [(f, None) for f in split_factors(true_term)[1]]
                              + [(split_factors(true_term)[0], None)], true_term))
    for expr, true_factors, true_term in pairs:
        if not true_factors and want is not None:
            true_factors = [(want, None)]
        for code, message in factor_findings(expr, true_factors, evaluator, derivation, lhs):
            if code != "constant":
                out.append(_finding(code, message))
            elif true_term is None:
                out.append(_constant_finding(float(message), expr, derivation))
            else:  # one term of a sum: the rest is right, so the result is not "c times the true value"
                out.append(_term_constant_finding(float(message), expr, true_term))
    return out


def _term_constant_finding(c, student_term, true_term):
    if np.isclose(c, -1.0):
        return _finding("flipped_sign", f"the term {_named(student_term)} has the wrong sign: it is "
                                        f"{_named(true_term)}")
    return _finding("constant_factor", f"the term {_named(student_term)} is {c:.6g} times what it should be, "
                                       f"{_named(true_term)}; the rest of your right-hand side is right")


def _number_for_symbol(student_term, true_term, derivation):
    """A term with a number where λ or n is due (this network's λ, or 5 examples), as a finding, or
    None: the formula must hold for every λ and n, so verify takes other values at other points."""
    absent = [q for q in (nt.lam, nt.n_examples) if true_term.has(q) and not student_term.has(q)]
    if not absent or abs(split_factors(student_term)[0]) == 1:
        return None  # no number in their place: a factor is simply missing (the factor diagnosis says which)
    names = " and ".join({nt.lam: "λ (\\lambda)", nt.n_examples: "n"}[q] for q in absent)
    strengths = "".join(f" (this network's λ = {lam:g} is one of them)" for _, lam in derivation.network.regularisation
                        if nt.lam in absent)
    return _finding("number_for_symbol", f"write {names} as a letter, not a number: in {_named(student_term)} the "
                                         f"formula must hold for every value{strengths}; the term is "
                                         f"{_named(true_term)}")
