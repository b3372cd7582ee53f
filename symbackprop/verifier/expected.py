"""The correct right-hand side for a student's left-hand side, read from the derivation.

Nothing is restated here: ``instantiate.find`` looks the left-hand side up among the
derivation's statements (its chain rules, path sums, BP1-BP4 in index and matrix form, local
factors) and writes them for the bound layer and neurons.  Of several true statements (the
chain rule with ∂C₀/∂a, or BP4 with δ) the one in the student's own vocabulary is shown, and
its chain-rule factors feed the diagnosis.
"""

import sympy as sp

from .. import notation as nt
from ..derivation import SIMPLIFIED
from ..instantiate import find
from ..printing import plain
from .shapes import whole_layer_size


def is_shorthand(lhs, network):
    """True when the left side names a one-neuron quantity without neuron index (the lectures' chain)."""
    if isinstance(lhs, nt.grad_a_C):
        return network.width(network.depth) == 1
    element = lhs.variable_count[0][0] if isinstance(lhs, sp.Derivative) else lhs
    if isinstance(lhs, sp.Derivative) and lhs.expr not in nt.COSTS:
        return nt.is_whole_layer(element)
    return nt.is_whole_layer(element) and whole_layer_size(element, network) == 1


def _vocabulary(expr):
    """What a right-hand side is written in: δ, ∂X/∂Y, sums, the matrix form."""
    if expr is None:
        return set()
    words = {e.base for e in expr.atoms(sp.Indexed)} & {nt.delta}
    words |= {kind for kind in (sp.Derivative, sp.Sum, *nt.MATRIX_OPERATIONS) if expr.has(kind)}
    return words


def expected(lhs, derivation, shorthand, rhs=None):
    """The derivation's statement for ``lhs`` (an ``instantiate.Match``) closest to the form of
    the student's ``rhs``, or None when the derivation states nothing for it."""
    matches = find(derivation, lhs, shorthand)
    if not matches:
        return None
    simplified = [m for m in matches if m.source == SIMPLIFIED]
    if simplified:  # where σ' cancels, the point of the cost: show a − y
        return simplified[0]
    used = _vocabulary(rhs)
    return max(matches, key=lambda m: -len(used ^ _vocabulary(m.rhs)))


def _concrete(partial, depth):
    """True when the layer of ∂C₀/∂a^{(m)} is a fixed layer (L - 1, 2), not one relative to l."""
    (variable, _), = partial.variable_count
    return nt.concrete_layer(variable.indices[0], depth).is_Integer


def in_students_form(want, rhs):
    """``want`` written as the student wrote: expanded into a sum of terms when they expanded."""
    if want is None or want.has(sp.Derivative, sp.Sum, *nt.MATRIX_OPERATIONS):
        return want
    if len(sp.Add.make_args(plain(rhs))) > 1 and len(sp.Add.make_args(plain(want))) == 1:
        return sp.expand(plain(want))
    return want


def chain_factors(lhs, derivation, shorthand, match):
    """[(value, role)] of the chain-rule factors of ``match``; for the one-neuron chain the
    whole path up to the cost (every later w and σ' and the cost's slope)."""
    if match is None:
        return []
    factors = list(match.factors)
    if not shorthand:
        return list(dict.fromkeys(factors))
    out, seen = [], set()
    while factors:
        value, role = factors.pop(0)
        if role == "upstream" and isinstance(value, sp.Derivative) and value not in seen \
                and _concrete(value, derivation.network.depth):
            seen.add(value)
            inner = find(derivation, value, shorthand=True)
            if inner:
                factors = list(inner[0].factors) + factors
                continue
        out.append((value, role))
    return list(dict.fromkeys(out))
