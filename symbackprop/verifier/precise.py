"""The last word where double precision cannot separate two forms: exact algebra, then 50 digits.

Once both sides agree at every point to 1e-11 of the size of their terms, two questions
remain: can SymPy show that the student's right-hand side *is* the derivation's (``identical``,
cheap algebra only, with a = σ(z) and σ' written as the lectures do), and if not, do they still
agree when everything is computed with 50 significant digits?  A term like (a − y)^{60} added
to a right answer is below double precision everywhere, and is caught here.

The algebra works on the derivation's own statement for the left-hand side, with every ∂C₀/∂X
in it (and in the student's) replaced by the derivation's statement for it.  The 50 digits do
not use the derivation: from the point's inputs (x, w, b, y, exact binary fractions, as in
double precision) the forward and backward passes are redone with mpmath, and both sides are
evaluated with every ∂C₀/∂X and δ at its 50-digit value.
"""

from functools import lru_cache

import mpmath
import sympy as sp

from .. import activations, costs
from .. import notation as nt
from ..instantiate import concrete, find, from_shorthand
from ..printing import plain

DIGITS = 50
NOISE = 1e-40
"""Relative size below which a 50-digit difference is rounding, not a mistake."""
MAX_OPS = 400
"""Largest expression (SymPy's count_ops) either check works on; beyond it they say nothing."""


def _hold_partials(*exprs):
    """The expressions with each ∂X/∂Y replaced by one symbol (the same in all of them), so
    that no SymPy operation evaluates ∂C₀/∂a^{(1)} to 0 (C₀ is a plain symbol to SymPy)."""
    held = {}
    for expr in exprs:
        for d in expr.atoms(sp.Derivative):
            held.setdefault(d, sp.Dummy("partial"))
    return [expr.xreplace(held) for expr in exprs]


def _lecture_forms(expr, network):
    """a^{(l)}_j -> σ(z^{(l)}_j) and σ'(z) -> the activation's derivative in σ (σ(1 − σ)), so that
    a(1 − a) and σ'(z) meet; only where the activation of every layer involved is known."""
    names = set(network.activations)
    if len(names) != 1:
        return None
    entry = network.activation(1)
    to_sigma = {e: nt.sigma(nt.z[e.indices]) for e in expr.atoms(sp.Indexed)
                if e.base == nt.a and e.indices[0] != 0}
    expr = expr.xreplace(to_sigma)
    return expr.replace(nt.sigma_prime, lambda arg: entry.derivative_from_output(nt.sigma(arg)))


MAX_TERMS = 2048
"""Largest number of terms an expansion may produce (a product of 14 binomials has 16,384)."""


def _terms(expr):
    """How many terms ``sp.expand(expr)`` would produce, roughly, without expanding."""
    if isinstance(expr, sp.Add):
        return sum(_terms(a) for a in expr.args)
    if isinstance(expr, sp.Mul):
        out = 1
        for a in expr.args:
            out *= _terms(a)
        return out
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 0:
        return _terms(expr.base) ** min(int(expr.exp), 64)
    return 1


def _equal(x, y):
    """x = y by cheap algebra: the same, a ratio that cancels to 1, or an expansion of bounded size."""
    if x == y or sp.Mul(x, sp.Pow(y, -1)) == 1:
        return True
    difference = x - y
    return _terms(difference) <= MAX_TERMS and sp.expand(difference) == 0


def identical(rhs, want, derivation, shorthand):
    """True when cheap algebra shows rhs = want; False when it cannot (never a verdict).

    Each ∂C₀/∂X on either side is first replaced by the derivation's statement for it, so that a
    chain written out meets the recursion; what is left is held as a symbol, never evaluated.
    """
    network = derivation.network
    if want is None or rhs.has(*nt.MATRIX_OPERATIONS) or want.has(*nt.MATRIX_OPERATIONS):
        return False
    sides = []
    for expr in (rhs, want):
        expr = plain(from_shorthand(expr) if shorthand else expr)
        expr = _resolved(expr, derivation) or expr
        if not expr.has(nt.l) and not expr.free_symbols & {nt.j, nt.k}:  # sums over fixed widths: written out
            expr = concrete(expr, network)
        sides.append(expr)
    rhs, want = _hold_partials(*sides)
    if sp.count_ops(rhs) > MAX_OPS or sp.count_ops(want) > MAX_OPS:
        return False
    if _equal(rhs, want):
        return True
    if rhs.has(sp.Sum) or want.has(sp.Sum):
        return False
    forms = [_lecture_forms(e, network) for e in (rhs, want)]
    return None not in forms and _equal(*forms)


def _resolved(expr, derivation, depth=0):
    """``expr`` with every ∂X/∂Y replaced by the derivation's statement for it (recursively)."""
    partials = expr.atoms(sp.Derivative)
    if not partials:
        return expr
    if depth > 2 * derivation.network.depth + 2:
        return None
    values = {}
    for d in partials:
        matches = find(derivation, d)
        if not matches:
            return None
        values[d] = matches[0].rhs
    return _resolved(plain(expr).xreplace(values), derivation, depth + 1)


MAX_PARAMETERS = 5000
"""Largest network whose points are recomputed at 50 digits."""


@lru_cache(maxsize=None)
def _functions(name):
    """(σ, σ', c') of an activation or cost name as mpmath functions."""
    entry = activations.REGISTRY.get(name)
    if entry is not None:
        return (sp.lambdify(nt.output, entry.expression(nt.output), "mpmath"),
                sp.lambdify(nt.output, entry.derivative(nt.output), [{"Heaviside": lambda v, h=0: 1 if v > 0 else 0},
                                                                      "mpmath"]))
    cost = costs.get(name)
    return sp.lambdify((nt.output, nt.target), sp.diff(cost.per_neuron(nt.output, nt.target), nt.output), "mpmath")


def _values(network, point):
    """Every quantity of the point at DIGITS digits, from its inputs (x, w, b, y: exact binary
    fractions): {a[l, j], z[l, j], w[l, j, k], b[l, j], y[j], delta[l, j]: value} and {∂C₀/∂X: value}."""
    cached = getattr(point, "_precise", None)
    if cached is not None:
        return cached
    mp = mpmath.mp.clone()
    mp.dps = DIGITS + 10
    depth = network.depth
    values, partials = {}, {}
    with mpmath.workdps(DIGITS + 10):
        acts, zs = [[mpmath.mpf(float(v)) for v in point.a[0]]], [None]
        for layer in range(1, depth + 1):
            W, B = point.params[f"W{layer}"], point.params[f"b{layer}"]
            sigma, _ = _functions(network.activations[layer - 1])
            z = [mpmath.fsum([mpmath.mpf(float(W[j, k])) * acts[-1][k] for k in range(W.shape[1])])
                 + mpmath.mpf(float(B[j])) for j in range(W.shape[0])]
            zs.append(z)
            if network.activation(layer).elementwise:
                acts.append([sigma(v) for v in z])
            else:  # softmax: e(z_j) over Σ_k e(z_k)
                total = mpmath.fsum([sigma(v) for v in z])
                acts.append([sigma(v) / total for v in z])
            for j in range(W.shape[0]):
                values[nt.b[layer, j]] = mpmath.mpf(float(B[j]))
                values.update({nt.w[layer, j, k]: mpmath.mpf(float(W[j, k])) for k in range(W.shape[1])})
        y = [mpmath.mpf(float(v)) for v in point.y]
        if network.cost_entry.needs_normalised_output:  # a probability vector at 50 digits too
            total = mpmath.fsum(y)
            y = [v / total for v in y]
        slope = _functions(network.cost)
        d_a = [slope(a, t) for a, t in zip(acts[depth], y)]
        for layer in range(depth, 0, -1):
            _, sigma_prime = _functions(network.activations[layer - 1])
            if network.activation(layer).elementwise:
                delta = [d * sigma_prime(z) for d, z in zip(d_a, zs[layer])]
            else:  # Jᵀ ∂C/∂a with J_ij = a_i(δ_ij − a_j)
                a = acts[layer]
                dot = mpmath.fsum([ai * d for ai, d in zip(a, d_a)])
                delta = [ai * (d - dot) for ai, d in zip(a, d_a)]
            W = point.params[f"W{layer}"]
            for j, d in enumerate(delta):
                values[nt.delta[layer, j]] = d
                partials[nt.a[layer, j]], partials[nt.z[layer, j]], partials[nt.b[layer, j]] = d_a[j], d, d
                partials.update({nt.w[layer, j, k]: d * acts[layer - 1][k] for k in range(W.shape[1])})
            d_a = [mpmath.fsum([mpmath.mpf(float(W[j, k])) * delta[j] for j in range(W.shape[0])])
                   for k in range(W.shape[1])]
        partials.update({nt.a[0, k]: v for k, v in enumerate(d_a)})
        for layer in range(depth + 1):
            values.update({nt.a[layer, j]: v for j, v in enumerate(acts[layer])})
            if layer:
                values.update({nt.z[layer, j]: v for j, v in enumerate(zs[layer])})
        values.update({nt.y[j]: v for j, v in enumerate(y)})
        values.update({nt.lam: mpmath.mpf(point.lam), nt.n_examples: mpmath.mpf(point.n)})
    cached = ({key: sp.Float(v, DIGITS + 10) for key, v in values.items()},
              {key: sp.Float(v, DIGITS + 10) for key, v in partials.items()})
    point._precise = cached
    return cached


def _bind(expr, network):
    """σ and σ' of z^{(l)} as layer l's own activation (the layer must be a number by now)."""
    def apply(which):
        def at(arg):
            layers = {e.indices[0] for e in arg.atoms(sp.Indexed) if e.base in (nt.z, nt.w, nt.b)}
            if len(layers) != 1 or not next(iter(layers)).is_Integer:
                raise ValueError("no layer")
            layer = int(next(iter(layers)))
            if not network.activation(layer).elementwise:
                raise ValueError("softmax has a Jacobian, not a σ' of one z: double precision decides")
            return _Apply(sp.Symbol(network.activations[layer - 1]), sp.Integer(which), arg)
        return at
    return expr.replace(nt.sigma, apply(0)).replace(nt.sigma_prime, apply(1))


class _Apply(sp.Function):
    """An mpmath function applied to a value, evaluated when the value is a number."""

    nargs = 3

    def _eval_evalf(self, prec):
        name, which, arg = self.args
        value = arg.evalf(DIGITS + 10)
        if not value.is_Number:
            return None
        with mpmath.workdps(DIGITS + 10):
            return sp.Float(_functions(name.name)[int(which)](mpmath.mpf(value)), DIGITS + 10)


def difference(rhs, lhs, env, point, network, shorthand):
    """rhs − lhs at one binding and point, to DIGITS digits, as (difference, size); None when
    it cannot be computed here (matrix forms, a ∂X/∂Y other than of the cost, a big network)."""
    if network.num_parameters > MAX_PARAMETERS or rhs.has(*nt.MATRIX_OPERATIONS) or lhs.has(*nt.MATRIX_OPERATIONS):
        return None
    values, partials = _values(network, point)
    at = {symbol: sp.Integer(value) for symbol, value in env.items()}
    sides = []
    for expr in (rhs, lhs):
        expr = plain(from_shorthand(expr) if shorthand else expr).xreplace({nt.target: nt.y[0]})
        if any(d.expr not in nt.COSTS for d in expr.atoms(sp.Derivative)):
            return None  # a local ∂z/∂w: double precision has decided it
        expr = concrete(expr.xreplace(at), network)
        for d in expr.atoms(sp.Derivative):
            (variable, _), = d.variable_count
            if variable not in partials:
                return None
            value = partials[variable]
            if d.expr == nt.C and variable.base == nt.w:  # C: C₀ with the regulariser's share
                share = values[nt.lam] / values[nt.n_examples]  # λ/n to 50 digits, as the student's λ and n are
                value = value + sum((share * entry.slope(values[variable]) for entry, _ in network.regularisers),
                                    sp.Integer(0))
            expr = expr.xreplace({d: value})
        if sp.count_ops(expr) > MAX_OPS:
            return None
        sides.append(expr)
    try:
        bound = [_bind(side, network).xreplace(values) for side in sides]
        numbers = [sp.N(side, DIGITS) for side in bound]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if not all(n.is_Number and n.is_real for n in numbers):
        return None
    return float(numbers[0] - numbers[1]), float(max(abs(n) for n in numbers))
