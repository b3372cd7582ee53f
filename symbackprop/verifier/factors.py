"""Factor by factor: what a student's right-hand side has that the true one lacks, and the reverse.

Both sides are split into their terms and each term into its factors (a number in front, then
a^{(L-1)}, σ'(z^{(L)}), 2(a − y) ...); two factors are the same when their values agree at
every sample point, so σ(1 − σ) meets σ' and (y − a) meets −(a − y).  The true factors come
from the derivation's chain rule for the left-hand side, each with its role, so that what is
missing can be said in the lectures' words ("the factor w⁽ᴸ⁾σ'(z⁽ᴸ⁾) that carries the error
back one layer is missing").  Sums of terms are matched term by term first: an extra or a
missing term is named as such, and a term that is almost right is compared factor by factor.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import printing
from ..derivation import ROLES
from ..printing import plain
from .compare import as_array, same
from .evaluate import EvaluationError, compile_expr

MAX_POWER = 4
"""A power up to this is split into repeated factors: (a − y)² has the factor (a − y) twice."""
MAX_FINDINGS = 2
"""More differences than this are no diagnosis: the expected formula says it better."""


@dataclass
class Piece:
    """One factor (or term) with its values at every sample, and its role when it is a true one."""

    expr: sp.Expr
    values: np.ndarray
    role: str = None

    def same_as(self, other):
        return self.values is not None and other.values is not None and same(self.values, other.values)


def named(expr):
    return printing.text(expr)


def split_factors(expr):
    """(the number in front, [factors]) of a product; a negated sum turns round: (y − a) -> −1, (a − y)."""
    expr = plain(expr)
    constant, out = sp.Integer(1), []
    for factor in sp.Mul.make_args(expr) if not isinstance(expr, nt.Hadamard) else expr.args:
        if isinstance(factor, (sp.Mul, nt.Hadamard)):
            c, inner = split_factors(factor)
            constant, out = constant * c, out + inner
        elif factor.is_Number:
            constant *= factor
        elif isinstance(factor, sp.Pow) and factor.exp.is_Integer and 1 < factor.exp <= MAX_POWER \
                and not factor.base.is_Number:
            c, inner = split_factors(factor.base)
            constant, out = constant * c ** factor.exp, out + inner * int(factor.exp)
        elif isinstance(factor, sp.Add):
            content, primitive = factor.as_content_primitive()  # 2a − 2y -> 2, a − y
            if _leads_negative(primitive):
                content, primitive = -content, -primitive
            constant, out = constant * content, out + [primitive]
        else:
            out.append(factor)
    return constant, out


def _leads_negative(terms):
    """True for y − a (the output activation negative), else SymPy's choice of sign: (a − y) is the lectures'."""
    outputs = [t for t in terms.args if any(e.base == nt.a for e in t.atoms(sp.Indexed))]
    if outputs:
        return all(t.could_extract_minus_sign() for t in outputs)
    return terms.could_extract_minus_sign()


class Evaluator:
    """Values of sub-expressions at the samples of a comparison (None where they have none)."""

    def __init__(self, checker, samples):
        self.checker, self.samples = checker, samples

    def values(self, expr):
        try:
            f = compile_expr(expr, self.checker.network)
            with np.errstate(all="ignore"):
                out = [as_array(f(self.checker.points[s.point], s.env)).reshape(-1) for s in self.samples]
        except (EvaluationError, KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError):
            return None
        values = np.concatenate(out)
        return values if np.all(np.isfinite(values)) else None

    def pieces(self, exprs, roles=None):
        roles = roles or [None] * len(exprs)
        return [Piece(e, self.values(e), r) for e, r in zip(exprs, roles)]


def _match(student, truth):
    """Pair equal pieces; return (the student's unmatched, the truth's unmatched)."""
    left, missing = list(student), []
    for piece in truth:
        partner = next((s for s in left if s.same_as(piece)), None)
        if partner is None:
            missing.append(piece)
        else:
            left.remove(partner)
    return left, missing


def _role_words(role):
    return f"{ROLES[role].ratio}, {ROLES[role].name}" if role in ROLES else None


def _carries_back(missing):
    """A missing w^{(m)} with σ'(z^{(m)}) of the same layer: one link of the chain back."""
    weights = [p for p in missing if p.role == "weight"]
    slopes = [p for p in missing if p.role == "activation_slope"]
    for w in weights:
        for s in slopes:
            if nt.layer_of(w.expr) is not None and s.expr.args and nt.layer_of(s.expr.args[0]) == nt.layer_of(w.expr):
                return w, s
    return None


def factor_findings(student_expr, true_factors, evaluator, derivation, lhs):
    """Findings from comparing the factors of one product with the true factors [(expr, role)]."""
    s_const, s_factors = split_factors(student_expr)
    t_const = sp.Integer(1)
    t_exprs, t_roles = [], []
    for value, role in true_factors:
        c, parts = split_factors(value)
        t_const *= c
        t_exprs += parts
        t_roles += [role] * len(parts)
    student = [p for p in evaluator.pieces(s_factors) if p.values is None or not np.allclose(p.values, 1)]
    truth = [p for p in evaluator.pieces(t_exprs, t_roles) if p.values is None or not np.allclose(p.values, 1)]
    if any(p.values is None for p in student + truth):
        return []
    extra, missing = _match(student, truth)
    findings = []
    pair = _carries_back(missing)
    if pair:
        missing = [p for p in missing if p not in pair]
        findings.append(("missing_factor", f"the factor {named(pair[0].expr)}·{named(pair[1].expr)} that carries the "
                         "error back one layer is missing: the chain from here to the cost passes through layer "
                         f"{printing.text(nt.layer_of(pair[0].expr))} as well"))
    if len(extra) == 1 and len(missing) == 1 and _stands_for(extra[0].expr, missing[0].expr):
        what = _role_words(missing[0].role)
        findings.append(("wrong_factor", f"{named(extra[0].expr)} stands where {named(missing[0].expr)} is due"
                         + (f" ({what})" if what else "")))
        extra, missing = [], []
    for piece in missing:
        what = _role_words(piece.role)
        findings.append(("missing_factor", f"a {'chain-rule ' if what else ''}factor is missing: {named(piece.expr)}"
                         + (f" ({what})" if what else "")))
    for piece in extra:
        findings.append(("extra_factor", _extra_message(piece, s_factors, derivation, lhs)))
    if s_const != t_const and t_const != 0:
        findings.append(("constant", s_const / t_const))
    return findings if len(findings) <= MAX_FINDINGS else []


def _stands_for(wrong, due):
    """Two factors of one sort (a quantity, a function), or one the argument of the other: w for sgn(w)."""
    return _kind(wrong) == _kind(due) or wrong in due.args or due in wrong.args


def _kind(expr):
    """What sort of factor: a quantity of the network, an activation function, a sum, or else."""
    if isinstance(expr, (sp.Indexed, sp.Derivative)):
        return "quantity"
    if isinstance(expr, (nt.sigma, nt.sigma_prime, sp.Function)):
        return "function"
    return type(expr).__name__


def _extra_message(piece, student_factors, derivation, lhs):
    expr = piece.expr
    if isinstance(expr, nt.sigma_prime) and derivation.output_error_cancels \
            and nt.layer_of(expr.args[0]) in (nt.L, derivation.network.depth):
        return (f"an extra factor {named(expr)}: with this cost and output activation, σ' cancels against the "
                f"cost's slope ∂C₀/∂a = {named(derivation.cost_slope)}, so δ^(L) = {named(derivation.output_error)} "
                "with no σ' left — that cancellation is the point of this cost")
    powered = [f for f in student_factors if f == expr]
    if len(powered) > 1:
        return (f"an extra factor {named(expr)}: you kept the power — the derivative of ({named(expr)})² is "
                f"2({named(expr)}), with ({named(expr)}) only once")
    what = _role_words(_role_of(expr))
    return (f"an extra factor {named(expr)}" + (f" ({what})" if what else "")
            + f" that the chain rule for {named(lhs)} does not have")


def _role_of(expr):
    """The role a quantity plays in the chain rules where it belongs, when it is one of theirs."""
    if isinstance(expr, nt.sigma_prime):
        return "activation_slope"
    if isinstance(expr, sp.Indexed):
        return {nt.w: "weight"}.get(expr.base)
    return None


def term_findings(student_expr, true_expr, evaluator):
    """For sums: an extra or missing term, or the one term that differs; [] when not a sum."""
    s_terms = sp.Add.make_args(plain(student_expr))
    if len(s_terms) == 1 and len(sp.Add.make_args(plain(true_expr))) == 1:
        return None
    student = evaluator.pieces(list(s_terms))
    best = None
    for t_terms in (sp.Add.make_args(plain(true_expr)), sp.Add.make_args(sp.expand(plain(true_expr)))):
        truth = evaluator.pieces(list(t_terms))
        if any(p.values is None for p in student + truth):
            return None
        extra, missing = _match(student, truth)
        if best is None or len(extra) + len(missing) < len(best[0]) + len(best[1]):
            best = extra, missing
    extra, missing = best
    if extra and not missing:
        return [("extra_term", f"an extra term {named(p.expr)}: without it your right-hand side is right")
                for p in extra]
    if missing and not extra:
        return [("missing_term", f"a term is missing: {named(p.expr)}") for p in missing]
    if len(extra) == 1 and len(missing) == 1:
        return [("term", (extra[0].expr, missing[0].expr))]
    return None
