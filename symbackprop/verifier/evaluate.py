"""Numbers for a parsed formula: each SymPy node compiled once into a small Python closure.

``compile_expr(expr, network)`` returns ``f(point, env)``: ``env`` binds the free layer ``l`` and
the free neuron indices, ``point`` (a :class:`~.points.Point`) gives the network's numbers and
the true value of every ``∂X/∂Y`` written in the formula.  One method per SymPy class
(``_Add``, ``_Indexed``, ``_Sum`` ...).  Scalars are floats, whole layers NumPy column vectors
and matrices, so Nielsen's vector form and the index form are computed by the same code.

Numbers are floats from the start: SymPy never evaluates a number of the formula (``10^{60}``,
``e^{e^{e^{100}}}``), so nothing can block inside big-integer or multi-precision code.  Where a
value is not a finite real number (a division by zero, the logarithm of a number ≤ 0, e^{1000}
overflowing), evaluation stops with :class:`NotFinite`, a FormulaError (exit 2) that says so.
"""

import math
import time

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import printing
from ..errors import FormulaError
from .shapes import as_expr, free_indices

MAX_SUM_TERMS = 100_000
MAX_REMEMBERED = 100_000
"""Values of sums remembered (per sum, point and free indices) before the memory starts afresh."""
_SUM_VALUES = {}
N_EXAMPLES = 5
"""The number n of training examples at the first sample point (the others add 2 each): (1/n) Σₓ ∂Cₓ/∂w
averages n copies of the example at the sample point, so it is the derivative for one example whatever
n is, while Σₓ without 1/n is n times too large."""


class EvaluationError(Exception):
    """The formula has no value at this binding: shapes that do not fit, an index out of range."""

    def __init__(self, message, kind="value"):
        super().__init__(message)
        self.kind = kind


class NotFinite(FormulaError):
    """A value of the formula is not a finite real number at the sample points: ``reason`` says why,
    in words ('e^{1000} is beyond 10^308', '\\ln(a - 1) takes the logarithm of a number ≤ 0')."""

    def __init__(self, reason):
        super().__init__(f"the formula is not a finite real number at the sample points of the network: {reason}")
        self.reason = reason


_LOWEST = {letter.name: letter.lowest_layer for letter in nt.LETTERS.values()}


def _shown(expr, limit=50):
    """LaTeX of a piece of the formula for a message, shortened."""
    out = printing.latex(expr)
    return out if len(out) <= limit else out[:limit - 1] + "…"


def compile_index(expr, network=None):
    """A layer or neuron index expression (L - 1, l + 1, k, 2, n_L - 1) -> f(env) -> int."""
    expr = as_expr(expr)
    if isinstance(expr, sp.Indexed) and expr.base == nt.n and network is not None:
        layer = compile_index(expr.indices[0])

        def width(env):
            v = layer(env)
            if not 0 <= v <= network.depth:
                raise EvaluationError(f"n_{v}: this network has layers 0..{network.depth}", "range")
            return network.width(v)
        return width
    if expr.is_Integer:
        value = int(expr)
        return lambda env: value
    if expr == nt.n_examples:
        raise FormulaError("n alone is the number of training examples, not a bound of a sum over neurons; "
                           "write n_L (or n_l) for the number of neurons in a layer")
    if isinstance(expr, sp.Symbol):
        def bound(env):
            if expr not in env:
                raise FormulaError(f"the index {expr} has no value here: use it as a neuron index of a, z, b, "
                                   f"\\delta, w or y, or sum over it")
            return env[expr]
        return bound
    if isinstance(expr, sp.Add):
        constant = sum(int(a) for a in expr.args if a.is_Integer)
        parts = [compile_index(a, network) for a in expr.args if not a.is_Integer]
        if len(parts) == 1:  # l - 1, L + 1: the common case
            part = parts[0]
            return lambda env: part(env) + constant
        return lambda env: constant + sum(p(env) for p in parts)
    if isinstance(expr, sp.Mul):
        parts = [compile_index(a, network) for a in expr.args]
        return lambda env: math.prod(p(env) for p in parts)
    raise FormulaError(f"the index {_shown(expr)} is not understood")


def _scalar(v):
    return not isinstance(v, np.ndarray) or v.size == 1


def _as_float(v):
    return float(np.asarray(v).reshape(-1)[0]) if isinstance(v, np.ndarray) else float(v)


def _times(x, y):
    """A product as students write it: number times anything, matrix times matching matrix."""
    if _scalar(x) or _scalar(y):
        return (_as_float(x) if _scalar(x) else x) * (_as_float(y) if _scalar(y) else y)
    if x.shape[1] == y.shape[0]:
        return x @ y
    if x.shape == y.shape and x.shape[1] == 1:
        return x * y  # two column vectors side by side: read as elementwise, as people often write
    raise EvaluationError(f"a {_shape(x)} times a {_shape(y)} does not fit", "shape")


def _shape(v):
    if _scalar(v):
        return "number"
    rows, cols = v.shape
    if cols == 1:
        return f"vector of {rows}"
    if rows == 1:
        return f"row vector of {cols}"
    return f"{rows}×{cols} matrix"


def _elementwise(x, y, op, what):
    if _scalar(x) or _scalar(y) or x.shape == y.shape:
        return op(_as_float(x) if _scalar(x) else x, _as_float(y) if _scalar(y) else y)
    raise EvaluationError(f"cannot {what} a {_shape(x)} and a {_shape(y)}", "shape")


class Compiler:
    """SymPy expression -> closure f(point, env); one ``_<Class>`` method per SymPy class."""

    def __init__(self, network, deadline=None):
        self.network = network
        self.depth = network.depth if network is not None else None
        self.deadline = deadline  # time.monotonic() after which a long sum gives up
        self.compiled = {}

    def __call__(self, expr):
        """The closure of ``expr``; a piece met again (400 equal factors) is compiled once."""
        if expr not in self.compiled:
            self.compiled[expr] = self.dispatch(expr)
        return self.compiled[expr]

    def dispatch(self, expr):
        for cls in type(expr).__mro__:
            method = getattr(self, "_" + cls.__name__, None)
            if method is not None:
                return method(expr)
        raise FormulaError(f"'{_shown(expr)}' is not understood in a formula")

    # numbers and arithmetic -------------------------------------------------------------
    def _Number(self, expr):
        try:
            value = float(expr)
        except (OverflowError, TypeError):
            value = math.inf
        if not math.isfinite(value):
            raise NotFinite(f"{_shown(expr)} is beyond 10^308")
        return lambda p, env: value

    def _NumberSymbol(self, expr):
        value = float(expr)
        return lambda p, env: value

    def _ImaginaryUnit(self, expr):
        raise NotFinite("part of it is an imaginary number")

    def _ComplexInfinity(self, expr):
        raise NotFinite("part of it divides by zero")

    def _fold(self, expr, op, verb, numbers=None):
        """Evaluate the arguments and combine them left to right, entry by entry; ``numbers`` does
        the same for a list of plain floats in one call (the common case, and a long product's)."""
        parts = [self(a) for a in expr.args]

        distinct = list(dict.fromkeys(parts))  # a factor written 60 times is computed once

        def fold(p, env):
            known = {part: part(p, env) for part in distinct}
            values = [known[part] for part in parts]
            if numbers is not None and all(_scalar(v) for v in values):
                return numbers([v if type(v) is float else _as_float(v) for v in values])
            total = values[0]
            for value in values[1:]:
                total = _elementwise(total, value, op, verb)
            return total
        return fold

    def _Add(self, expr):
        return self._fold(expr, lambda u, v: u + v, "add", sum)

    def _Mul(self, expr):
        return self._fold(expr, lambda u, v: u * v, "multiply", math.prod)

    def _Pow(self, expr):
        base, exponent = self(expr.base), self(expr.exp)

        def power(p, env):
            b, e = base(p, env), exponent(p, env)
            with np.errstate(all="ignore"):
                if _scalar(b) and _scalar(e):
                    b, e = _as_float(b), _as_float(e)
                    if b == 0 and e < 0:
                        raise NotFinite(f"{_shown(expr)} divides by zero")
                    if b < 0 and not float(e).is_integer():
                        raise NotFinite(f"{_shown(expr)} takes a fractional power of a negative number")
                    try:
                        value = float(b) ** e
                    except OverflowError:
                        value = math.inf
                else:
                    value = np.power(b, e)
            return _finite(value, expr)
        return power

    def _Abs(self, expr):
        arg = self(expr.args[0])

        def absolute(p, env):
            v = arg(p, env)
            return np.abs(v) if isinstance(v, np.ndarray) else abs(_as_float(v))
        return absolute

    def _sign(self, expr):
        arg = self(expr.args[0])

        def sign(p, env):
            v = arg(p, env)
            return np.sign(v) if isinstance(v, np.ndarray) else float(np.sign(_as_float(v)))
        return sign

    def _exp(self, expr):
        arg = self(expr.args[0])

        def exp(p, env):
            v = arg(p, env)
            with np.errstate(all="ignore"):
                value = np.exp(v) if isinstance(v, np.ndarray) else _safe(math.exp, v)
            return _finite(value, expr)
        return exp

    def _tanh(self, expr):
        arg = self(expr.args[0])

        def tanh(p, env):
            v = arg(p, env)
            return np.tanh(v) if isinstance(v, np.ndarray) else math.tanh(_as_float(v))
        return tanh

    def _log(self, expr):
        arg = self(expr.args[0])

        def log(p, env):
            v = arg(p, env)
            if np.any(np.asarray(v) <= 0):
                raise NotFinite(f"{_shown(expr)} takes the logarithm of a number ≤ 0")
            return np.log(v) if isinstance(v, np.ndarray) else math.log(_as_float(v))
        return log

    def _KroneckerDelta(self, expr):
        """δ_{jk} from differentiating a_j by a_k: 1 when the two indices are equal."""
        first, second = (compile_index(i, self.network) for i in expr.args[:2])
        return lambda p, env: 1.0 if first(env) == second(env) else 0.0

    # the network's quantities -----------------------------------------------------------
    def _Symbol(self, expr):
        if expr == nt.target:
            return lambda p, env: p.y.reshape(-1, 1) if p.y.size > 1 else float(p.y[0])
        if expr == nt.n_examples:
            return lambda p, env: float(p.n)
        if expr == nt.lam:
            return lambda p, env: p.lam
        if expr in nt.COSTS:
            raise FormulaError(r"the cost C can only appear in a derivative \frac{\partial C}{\partial ...}")
        if nt.is_index_symbol(expr):
            raise FormulaError(f"{expr} is a neuron index; it is only used as a subscript, as in a_{expr}")
        if expr in (nt.L, nt.l):
            raise FormulaError(f"{expr} is a layer number; it is only used as a superscript, as in a^{{({expr})}}")
        raise FormulaError(f"'{_shown(expr)}' has no value here")

    def layer_check(self, kind, layer):
        if not _LOWEST[kind] <= layer <= self.depth:
            raise EvaluationError(f"layer {layer} is out of range for {kind}: this network has "
                                  f"{kind}^{{({_LOWEST[kind]})}} .. {kind}^{{({self.depth})}}", "range")

    def neuron_check(self, name, layer, index, width):
        if not 0 <= index < width:
            raise EvaluationError(f"neuron index {index} of {name} is out of range: layer {layer} has neurons "
                                  f"0..{width - 1} (neurons are numbered from 0)", "range")

    def element(self, kind, layer, idx):
        """Check (kind, layer, neuron indices) against the network's sizes."""
        self.layer_check(kind, layer)
        widths = [self.network.width(layer)] + ([self.network.width(layer - 1)] if kind == "w" else [])
        for i, w in zip(idx, widths):
            self.neuron_check(f"{kind}^({layer})", layer, i, w)

    def _Indexed(self, expr):
        base = expr.base
        if base == nt.n:
            layer = compile_index(expr.indices[0])

            def width(p, env):
                v = layer(env)
                if not 0 <= v <= self.depth:
                    raise EvaluationError(f"n_{v}: this network has layers 0..{self.depth}", "range")
                return float(self.network.width(v))
            return width
        if base == nt.y:
            index = compile_index(expr.indices[0])

            def target(p, env):
                i = index(env)
                self.neuron_check("y", self.depth, i, self.network.width(self.depth))
                return float(p.y[i])
            return target
        kind = nt.letter(base).name if base in nt.LAYERED else None
        if kind is None:
            raise FormulaError(f"'{_shown(expr)}' is not understood")
        layer = compile_index(expr.indices[0])
        idx = [compile_index(i) for i in expr.indices[1:]]

        def quantity(p, env):
            m = layer(env)
            where = [i(env) for i in idx]
            self.element(kind, m, where)
            table = p.table(kind)[m]
            if not where:
                return table.reshape(-1, 1) if table.ndim == 1 else table
            return float(table[tuple(where)])
        return quantity

    def _Derivative(self, expr):
        (var, _), = expr.variable_count
        numerator = expr.expr
        kind = nt.letter(var).name
        var_layer = compile_index(var.indices[0])
        var_idx = [compile_index(i) for i in var.indices[1:]]
        if numerator in nt.COSTS:
            num = None
        else:
            num = (nt.letter(numerator).name, compile_index(numerator.indices[0]),
                   [compile_index(i) for i in numerator.indices[1:]])
            if len(numerator.indices) == 1 or len(var.indices) == 1:
                def single(p, env):
                    if self.network.width(num[1](env)) == 1 and self.network.width(var_layer(env)) == 1 \
                            and (kind != "w" or self.network.width(var_layer(env) - 1) == 1):
                        return None
                    raise EvaluationError("∂X/∂Y between whole layers (a Jacobian) is not understood here; "
                                          "write it for one neuron, e.g. ∂z^{(L)}_j/∂w^{(L)}_{jk}", "value")
            else:
                single = None

        def derivative(p, env):
            m = var_layer(env)
            where = [i(env) for i in var_idx]
            self.element(kind, m, where)
            if num is None:
                return p.derivative("C" if numerator == nt.C else "C0", kind, m, where or None)
            if single is not None:
                single(p, env)
            nk, nl, ni = num[0], num[1](env), [i(env) for i in num[2]]
            self.element(nk, nl, ni)
            ni = ni or [0]
            where = where or ([0, 0] if kind == "w" else [0])
            return p.derivative((nk, nl, ni), kind, m, where)
        return derivative

    def _grad_a_C(self, expr):
        return lambda p, env: p.dA[self.depth].reshape(-1, 1)

    def activation_layer(self, arg):
        """The layer whose activation σ(arg) means: that of z^{(l)} in the argument."""
        layers = {e.indices[0] for e in arg.atoms(sp.Indexed) if e.base in (nt.z, nt.w, nt.b)}
        layers |= {e.indices[0] + 1 for e in arg.atoms(sp.Indexed) if e.base == nt.a and not layers}
        if len(layers) == 1:
            return compile_index(layers.pop())
        if len(set(self.network.activations)) == 1:
            return lambda env: self.depth
        raise FormulaError(f"\\sigma({_shown(arg)}): cannot tell which layer's activation this is; write σ(z^{{(l)}}) with the "
                           f"layer of z")

    def _sigma(self, expr):
        return self._activation(expr, prime=False)

    def _sigma_prime(self, expr):
        return self._activation(expr, prime=True)

    def _activation(self, expr, prime):
        arg = self(expr.args[0])
        layer = self.activation_layer(expr.args[0])

        def activation(p, env):
            m = layer(env)
            if not 1 <= m <= self.depth:
                raise EvaluationError(f"σ of layer {m}: the network's layers with an activation are 1..{self.depth}",
                                      "range")
            v = arg(p, env)
            out = (p.sigma_prime if prime else p.sigma)(m, np.asarray(v, dtype=float))
            return out if isinstance(v, np.ndarray) else float(out)
        return activation

    def _Sum(self, expr):
        """Σ over each of its limits (SymPy merges nested sums into one Sum with several limits).

        A sum's value depends on the point and on the indices it leaves free, and is remembered for
        them (in ``_SUM_VALUES``, shared by every formula compiled, so the diagnosis's variants of a
        formula reuse the sums they leave unchanged): sums nested along a chain of letters
        (Σ_i w_ij Σ_j w_jk Σ_k …) then cost a polynomial number of terms, not the product of every
        sum's length."""
        body = self(expr.function)
        free = sorted(free_indices(expr) | ({nt.l} if expr.has(nt.l) else set()), key=str)
        limits = [(var, compile_index(lo, self.network), compile_index(hi, self.network), expr.function.has(var))
                  for var, lo, hi in expr.limits]

        def over(p, env, remaining):
            if not remaining:
                return body(p, env)
            (var, lo, hi, used), rest = remaining[0], remaining[1:]
            start, stop = lo(env), hi(env)
            if not used:  # Σ_x over the examples of a term that is the same for each: count × term
                return _elementwise(float(max(stop - start + 1, 0)), over(p, env, rest), lambda u, v: u * v,
                                    "multiply")
            if stop - start + 1 > MAX_SUM_TERMS:
                raise FormulaError(f"a sum over {var} with {stop - start + 1:,} terms is too costly to check")
            out = 0.0
            inner = dict(env)
            for value in range(start, stop + 1):
                if value % 256 == 0 and self.deadline is not None and time.monotonic() > self.deadline:
                    raise FormulaError(f"this formula is too costly to decide in the time allowed (a sum over {var} "
                                       f"with {stop - start + 1:,} terms); check it on a smaller network with --sizes")
                inner[var] = value
                out = _elementwise(out, over(p, inner, rest), lambda u, v: u + v, "add")
            return out
        def total(p, env):
            key = (expr, p, *(env.get(s) for s in free))
            if key not in _SUM_VALUES:
                if len(_SUM_VALUES) > MAX_REMEMBERED:
                    _SUM_VALUES.clear()
                _SUM_VALUES[key] = over(p, env, limits)
            return _SUM_VALUES[key]
        return total

    # vector and matrix forms ------------------------------------------------------------
    def _MatrixProduct(self, expr):
        parts = [self(a) for a in expr.args]

        def product(p, env):
            total = parts[0](p, env)
            for part in parts[1:]:
                total = _times(total, part(p, env))
            return total
        return product

    def _Transposed(self, expr):
        arg = self(expr.args[0])

        def transpose(p, env):
            v = arg(p, env)
            return v.T if isinstance(v, np.ndarray) else v
        return transpose

    def _Hadamard(self, expr):
        return self._fold(expr, lambda u, v: u * v, "multiply elementwise")

    def _Diagonal(self, expr):
        """diag(v): the square matrix with the vector v on its diagonal."""
        arg = self(expr.args[0])

        def diagonal(p, env):
            v = arg(p, env)
            if _scalar(v):
                return v
            if v.shape[1] != 1:
                raise EvaluationError(f"diag of a {_shape(v)}: diag takes a vector", "shape")
            return np.diagflat(v)
        return diagonal


def _safe(f, v):
    try:
        return f(_as_float(v))
    except (OverflowError, ValueError):
        return math.inf


def _finite(value, expr):
    """``value`` when every entry is finite, else NotFinite naming the piece of the formula."""
    if isinstance(value, np.ndarray):
        if not np.all(np.isfinite(value)):
            raise NotFinite(f"{_shown(expr)} is beyond 10^308")
    elif not math.isfinite(value):
        raise NotFinite(f"{_shown(expr)} is beyond 10^308")
    return value


def compile_expr(expr, network, deadline=None):
    """``expr`` as f(point, env) -> a float or a NumPy column vector or matrix; a result that is not
    finite raises NotFinite."""
    f = Compiler(network, deadline)(expr)

    def evaluate(p, env):
        return _finite(f(p, env), expr)
    return evaluate


def number_value(expr, formula=None, position=None):
    """A formula's piece made of numbers only (``10^{60}``, ``e^{e^{3}}``), computed in floating point:
    a float, or a FormulaError saying why it is not a finite real number (with the column)."""
    try:
        return compile_expr(expr, None)(None, {})
    except NotFinite as e:
        at = f" (column {position + 1})" if position is not None else ""
        raise FormulaError(f"{e.reason}, so it is not a finite real number{at}", formula=formula,
                           position=position) from None
