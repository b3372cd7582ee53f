"""codegen: the derivation turned into vectorized array code, in memory or as a module file.

One source of truth: ``templates/gradients.py.j2`` lays out a standalone module (it imports only
NumPy); this module fills it with a *plan*: per layer, a list of ``Step`` s, each a few lines of
code printed from the derivation and the formula they implement.  The elementwise parts -- each
layer's activation σ(z), its slope σ'(z) written in terms of a = σ(z) (``Derivation.slopes``),
the output error δ⁽ᴸ⁾ as SymPy simplified it for this cost and output activation
(``Derivation.output_error``) and the per-example cost -- are SymPy expressions, printed three ways
from the same expression:

* NumPy, in place: ufunc calls with ``out=`` on a buffer the code owns (no temporary arrays), for
  arrays of ``IN_PLACE_FROM`` elements or more;
* NumPy, one expression (fewer calls: for small arrays the call overhead is the cost);
* any array library, through the array API namespace ``xp`` of the inputs (PyTorch, CuPy, JAX,
  array-api-strict, ...): ``xp.exp``, ``xp.maximum``, ... and no in-place updates.

The structure -- one matrix product per layer forward (z = w a + b), two backward (BP4, BP2), the
sum over the batch for BP3 -- follows the matrix form of BP1-BP4, one block per layer, unrolled.

``write_module(network, path)`` writes that source; ``compile(network)`` imports the very same
text (our own: besides code printed from SymPy it holds only the validated network's sizes and
registry names) into a fresh module object and returns it.

A layer whose activation is not element-wise (``elementwise=False`` in its registry entry: softmax,
a_j = e(z_j)/Σ_k e(z_k)) takes the step functions of its kind in ``ACTIVATION_STEPS`` and
``OUTPUT_ERROR_STEPS``: the forward pass row by row, shifted by the row's largest z where SymPy finds
the quotient unchanged by a shift; BP1 = Jᵀ∇ₐC as the derivation returns it, element-wise (a − y) or
with sums over the output neurons, printed as sums along the rows (``RowSum``).  The cost of such a
layer is written with the log-sum-exp.  Regularisers (``Derivation.regularisation``) add their
(λ/n) penalty'(W) to each weight's gradient (``_weight_gradient_steps``) and (λ/n) Σ penalty(w) to
the cost (``_penalty_code``), both printed from the derivation's SymPy expressions.  Nothing here
branches on an activation's or a cost's name.
"""

import importlib.abc
import importlib.util
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import sympy as sp
from sympy.codegen.rewriting import optimize, optims_c99
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from . import __version__, printing
from . import notation as nt
from .derivation import derive
from .errors import SymbackpropError

TEMPLATE = "gradients.py.j2"
IN_PLACE_FROM = 4096  # elements: smaller arrays use one expression, larger ones in place


# Printing SymPy as array code ---------------------------------------------------------------

class CodePrinter(NumPyPrinter):
    """SymPy's NumPy printer (the one lambdify uses), writing ``np.`` and a few better forms.

    ln(1 + e^x) is printed as ``np.logaddexp(0, x)``, finite for any x; Heaviside(x, 0) as
    ``np.greater(x, 0)``; 1/x as ``1/x`` rather than ``x**(-1.0)``; Max/Min as ``np.maximum``/
    ``np.minimum``; a product from the derivation (``OrderedMul``) in its own order.
    """

    module = "np"  # the name the generated code gives the array module
    renames = {}  # NumPy's function names that this module spells differently

    def _module_format(self, fqn, register=True):
        out = super()._module_format(fqn, register)
        if out.startswith("numpy."):
            name = out[len("numpy."):]
            return f"{self.module}.{self.renames.get(name, name)}"
        return out

    def _print_log(self, expr):
        inner = _softplus_argument(expr)
        if inner is not None:
            return f"{self.module}.logaddexp(0, {self._print(inner)})"
        return f"{self._module_format('numpy.log')}({self._print(expr.args[0])})"

    def _print_log1p(self, expr):
        inner = _softplus_argument(expr)
        if inner is not None:
            return f"{self.module}.logaddexp(0, {self._print(inner)})"
        return f"{self._module_format('numpy.log1p')}({self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        base = self.parenthesize(expr.base, PRECEDENCE["Pow"])
        if expr.exp == -1:
            return f"1.0/{base}"
        if expr.exp.is_Integer:  # x**2 stays an integer power (NumPy squares it)
            return f"{base}**{int(expr.exp)}"
        return super()._print_Pow(expr, rational)

    def _print_Integer(self, expr):
        # a float literal: NumPy converts a Python float faster than an int, and either keeps
        # the array's dtype (float32 stays float32)
        return f"{int(expr)}.0"

    def _print_Rational(self, expr):  # 0.5 rather than (1/2): the same double (division rounds correctly)
        return repr(int(expr.p) / int(expr.q))

    def _print_Max(self, expr):
        return self._nested(f"{self.module}.maximum", expr.args)

    def _print_Min(self, expr):
        return self._nested(f"{self.module}.minimum", expr.args)

    def _nested(self, function, args):
        out = self._print(args[0])
        for arg in args[1:]:
            out = f"{function}({out}, {self._print(arg)})"
        return out

    def _print_Heaviside(self, expr):
        if expr.args[1] == 0:  # H(x) with H(0) = 0 is x > 0: much faster than np.heaviside
            return f"np.greater({self._print(expr.args[0])}, 0)"
        return f"np.heaviside({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Symbol(self, expr):
        return self.names.get(expr, None) or super()._print_Symbol(expr)

    def _print_OrderedMul(self, expr):  # the derivation's order: 2 (a - y) a (1 - a)
        return "*".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=False) for f in expr.args)

    def _print_RowSum(self, expr):  # Σ_i over the output neurons: along each row, kept as a column
        return f"{self.module}.sum({self._print(expr.args[0])}, axis=1, keepdims=True)"

    def _print_Total(self, expr):  # Σ over every entry of a weight matrix
        arg = expr.args[0]
        if arg.is_Pow and arg.exp == 2 and arg.base.is_Symbol:  # Σ w²: one BLAS dot product, no temporary array
            return f"np.vdot({self._print(arg.base)}, {self._print(arg.base)})"
        return f"np.sum({self._print(arg)})"


class ArrayApiPrinter(CodePrinter):
    """The same expressions for any array library: functions of the array API namespace ``xp``.

    The standard names a few functions unlike NumPy (``abs``, ``pow``, ``atan``, ...); a boolean
    cannot be multiplied with a float array there, so Heaviside(x, 0) is ``xp.astype(x > 0, dt)``
    with ``dt`` the computation's dtype.
    """

    module = "xp"
    renames = {"absolute": "abs", "power": "pow", "arctan": "atan", "arcsin": "asin", "arccos": "acos",
               "arctanh": "atanh", "arcsinh": "asinh", "arccosh": "acosh", "arctan2": "atan2"}

    def _print_Heaviside(self, expr):
        if expr.args[1] != 0:
            raise NotImplementedError("Heaviside(x, c) with c != 0 has no array API form here")
        return f"xp.astype({self.parenthesize(expr.args[0], PRECEDENCE['Relational'])} > 0, dt)"

    def _print_Total(self, expr):
        return f"xp.sum({self._print(expr.args[0])})"


class RowSum(sp.Function):
    """Σ_i f(a^{(L)}_i, y_i) over the output neurons, for every example: a sum along each row of the
    (batch, n_L) arrays, kept as a column (batch, 1) so that it broadcasts against the rows."""

    nargs = 1


class Total(sp.Function):
    """Σ_{jk} f(w_{jk}): the sum over every entry of one weight matrix (a regulariser's penalty)."""

    nargs = 1


def _softplus_argument(expr):
    """x when ``expr`` is ln(1 + e^x), or log1p(e^x) as ``optimize`` writes it; else None."""
    kind = type(expr).__name__
    arg = expr.args[0] if expr.args else None
    if kind == "log1p":
        return arg.args[0] if isinstance(arg, sp.exp) else None
    if kind == "log" and isinstance(arg, sp.Add) and len(arg.args) == 2 and sp.S.One in arg.args:
        other = arg.args[0] if arg.args[1] == 1 else arg.args[1]
        return other.args[0] if isinstance(other, sp.exp) else None
    return None


def _print(printer_class, expr, names):
    printer = printer_class({"fully_qualified_modules": True, "allow_unknown_functions": False})
    printer.names = names or {}
    return printer.doprint(optimize(expr, optims_c99))  # e.g. 1 - e^{-a} -> -expm1(-a), accurate near 0


def numpy_code(expr, names):
    """``expr`` as one NumPy expression, its symbols renamed by ``names`` {Symbol: str}."""
    return _print(CodePrinter, expr, names)


def array_api_code(expr, names):
    """``expr`` as one expression of the array API namespace ``xp`` (any array library)."""
    return _print(ArrayApiPrinter, expr, names)


def _number(value):
    return CodePrinter().doprint(value)


class _NotInPlace(Exception):
    pass


class InPlace:
    """Statements that turn x into f(x) in the buffer ``buf``, one ufunc with ``out=`` per node.

    Works for expressions that are a chain of one-argument steps in x (1/(1 + e^{-x}),
    1 - x², ln(1 + e^x), max(0, x), ...), dispatching by node class (``_emit_<Class>``).  The
    first step reads ``source`` (by default ``buf`` itself) and creates ``buf``; the others
    update it.  ``flags`` collects what the code needs, e.g. ``"overflow"`` for e^x (harmless:
    1/(1 + ∞) = 0).
    """

    def __init__(self, var, buf, source=None):
        self.var, self.buf, self.source, self.flags = var, buf, source or buf, set()

    def statements(self, expr):
        """The statements, or None when ``expr`` is not such a chain."""
        self._first = True
        try:
            lines = self.emit(optimize(expr, optims_c99))
        except _NotInPlace:
            return None
        if self.source != self.buf and not lines:
            lines = [f"{self.buf} = {self.source}.copy()"]
        return lines

    def _ufunc(self, name, *args, before=()):
        """``np.name(*before, x, *args, out=buf)``, or ``buf = np.name(..., source, ...)`` first."""
        first, self._first = self._first, False
        inputs = ", ".join([*before, self.source if first else self.buf, *args])
        if first and self.source != self.buf:
            return [f"{self.buf} = np.{name}({inputs})"]
        if name in self._operators and not before:
            return [f"{self.buf} {self._operators[name]} {args[0]}"]
        return [f"np.{name}({inputs}, out={self.buf})"]

    _operators = {"add": "+=", "multiply": "*="}

    def emit(self, expr):
        if not expr.has(self.var):
            raise _NotInPlace(expr)
        method = getattr(self, f"_emit_{type(expr).__name__}", None)
        if method is None and isinstance(expr, sp.Function) and len(expr.args) == 1:
            method = self._emit_ufunc
        if method is None:
            raise _NotInPlace(expr)
        return method(expr)

    def _split(self, expr):
        """(constant part, the one term or factor with x) of an Add or Mul."""
        const = [t for t in expr.args if not t.has(self.var)]
        rest = [t for t in expr.args if t.has(self.var)]
        if len(rest) != 1:
            raise _NotInPlace(expr)
        return type(expr)(*const), rest[0]

    def _emit_Symbol(self, expr):
        if expr != self.var:
            raise _NotInPlace(expr)
        return []

    def _emit_Add(self, expr):
        const, term = self._split(expr)
        if term.could_extract_minus_sign():
            inner = self.emit(-term)
            return inner + self._ufunc("subtract", before=[_number(const)])
        inner = self.emit(term)
        return inner + self._ufunc("add", _number(const))

    def _emit_Mul(self, expr):
        const, factor = self._split(expr)
        inner = self.emit(factor)
        if const == -1:
            return inner + self._ufunc("negative")
        return inner + self._ufunc("multiply", _number(const))

    _emit_OrderedMul = _emit_Mul

    def _emit_Pow(self, expr):
        base, power = expr.args
        if power.has(self.var):
            raise _NotInPlace(expr)
        inner = self.emit(base)
        if power == -1:  # np.divide(1, x) is faster than np.reciprocal
            return inner + self._ufunc("divide", before=["1.0"])
        if power == 2:
            return inner + self._ufunc("square")
        if power == sp.S.Half:
            return inner + self._ufunc("sqrt")
        return inner + self._ufunc("power", _number(power))

    def _emit_log(self, expr):
        inner = _softplus_argument(expr)
        if inner is None:
            return self._emit_ufunc(expr)
        # ln(1 + e^x) = max(x, 0) + ln(1 + e^{-|x|}): e^{-|x|} <= 1 never overflows, and these
        # vectorized ufuncs are several times faster than np.logaddexp
        lines = self.emit(inner)
        if self._first and self.source != self.buf:
            lines, self._first = [f"{self.buf} = {self.source}.copy()"], False
        b, t = self.buf, f"{self.buf}_tail"
        return lines + [f"{t} = np.absolute({b})", f"np.negative({t}, out={t})", f"np.exp({t}, out={t})",
                        f"np.log1p({t}, out={t})", f"np.maximum({b}, 0, out={b})", f"{b} += {t}"]

    _emit_log1p = _emit_log

    def _emit_ufunc(self, expr):
        name = {"log": "log", "exp": "exp", "expm1": "expm1", "log1p": "log1p", "tanh": "tanh",
                "sinh": "sinh", "cosh": "cosh", "sin": "sin", "cos": "cos", "Abs": "absolute",
                "sign": "sign"}.get(type(expr).__name__)
        if name is None:
            raise _NotInPlace(expr)
        if name in ("exp", "expm1", "sinh", "cosh"):
            self.flags.add("overflow")
        return self.emit(expr.args[0]) + self._ufunc(name)

    def _emit_Heaviside(self, expr):
        arg, at_zero = expr.args
        inner = self.emit(arg)
        if at_zero == 0:  # H(x) with H(0) = 0 is x > 0: a comparison, much faster than np.heaviside
            return inner + self._ufunc("greater", "0")
        return inner + self._ufunc("heaviside", _number(at_zero))

    def _emit_Max(self, expr):
        const, term = self._split(expr)
        inner = self.emit(term)
        if const == 0:
            # max(x, 0) against an array of zeros: NumPy's vectorized loop for two arrays is 1.5-2.5
            # times faster than the one for an array and a scalar
            x = self.source if self._first else self.buf
            return inner + self._ufunc("maximum", f"np.zeros({x}.shape, {x}.dtype)")
        return inner + self._ufunc("maximum", _number(const))

    def _emit_Min(self, expr):
        const, term = self._split(expr)
        return self.emit(term) + self._ufunc("minimum", _number(const))


# The plan the template lays out ------------------------------------------------------------

@dataclass
class Step:
    """A few lines of code and the comment lines (formula, LaTeX) that say what they compute.

    ``code`` is NumPy; when ``small`` is given, ``code`` runs in place for arrays of at least
    IN_PLACE_FROM elements (the size of ``buf``) and ``small`` (one expression, fewer NumPy
    calls) for smaller ones.  ``xp`` is the same for any array library (the namespace ``xp``,
    no in-place updates); ``title`` is the short name the array API functions show.
    """

    title: str
    comment: list
    code: list
    xp: list
    small: list = None
    buf: str = ""
    overflows: bool = False  # e^{...} may overflow to inf here, harmlessly


@dataclass
class Layer:
    number: int
    label: str  # L, L-1, ...
    width: int
    fan_in: int
    activation: str
    forward: list = field(default_factory=list)  # Steps
    backward: list = field(default_factory=list)


def _latex(expr):
    return expr if isinstance(expr, str) else printing.latex(expr)


def _weighted_input_steps(n, prev, target):
    """z^{(n)} = w^{(n)} a^{(n-1)} + b^{(n)}, with one example per row: a @ W.T + b."""
    return [Step(f"layer {n}: z^({n}) = w^({n}) a^({n - 1}) + b^({n})",
                 [f"z^{{({n})}} = w^{{({n})}} a^{{({n - 1})}} + b^{{({n})}}  (rows are examples: a @ W.T + b)"],
                 [f"{target} = {prev}.dot(W{n}.T)", f"{target} += b{n}"],
                 [f"{target} = {prev} @ W{n}.T + b{n}"])]


def _activation_steps(network, number, source, buf):
    """a = σ(z) into ``buf`` from ``source`` (which holds z), printed from the registry's expression.

    Three forms of the same expression: in place for large NumPy arrays (no temporaries), one
    NumPy expression for small ones (fewer calls: on a 1-1-1-1 network the call overhead is the
    cost), one array API expression for any other library.
    """
    entry = network.activation(number)
    t = sp.Symbol("z", real=True)
    expr = entry.expression(t)
    title = f"a^({number}) = sigma(z^({number})), {entry.name}"
    if expr == t:
        comment = [f"a^{{({number})}} = z^{{({number})}}: {entry.name} leaves z as it is"]
        same = [] if source == buf else [f"{buf} = {source}"]
        return [Step(title, comment, same, same)]
    emitter = InPlace(t, buf, source)
    large = emitter.statements(expr)
    small = [f"{buf} = {numpy_code(expr, {t: source})}"]
    xp = [f"{buf} = {array_api_code(expr, {t: source})}"]
    comment = [f"a^{{({number})}} = \\sigma(z^{{({number})}}), {entry.name}: \\sigma(z) = {_latex(expr)}"]
    overflows = "overflow" in emitter.flags or "np.exp(" in small[0]
    if overflows:
        comment.append("e^{...} may overflow to inf for large |z|; the result is then exactly 0 or 1 "
                       "(the warning is silenced)")
    if not large:
        return [Step(title, comment, small, xp, overflows=overflows)]
    return [Step(title, comment, large, xp, small=small, buf=source, overflows=overflows)]


def _fold_bias(weighted, activation, buf, bias):
    """When the in-place activation starts by negating z (the sigmoid's e^{-z}), add the bias
    and negate in one pass: -z = -b - a W^T.  The small path adds the bias as before."""
    if activation.small is None or not activation.code or activation.code[0] != f"np.negative({buf}, out={buf})":
        return
    weighted.code.remove(f"{buf} += {bias}")
    weighted.comment[-1] += "; the + b comes with the first step below"
    activation.code[0] = f"np.subtract(-{bias}, {buf}, out={buf})  # -z = -b - a W^T in one pass"
    activation.small.insert(0, f"{buf} += {bias}")


def _shifted_by_the_row_maximum(entry):
    """True when a normalised layer's e(z) is c·e^{kz} with k > 0 (softmax's e^z), found by SymPy:
    e'(z)/e(z) is then a positive constant, so e(z − m)/Σ_k e(z_k − m) = e(z)/Σ_k e(z_k) for any m,
    and shifting every z of a row by its largest keeps each e(z − max z) ≤ e(0): nothing overflows."""
    t = sp.Symbol("z", real=True)
    rate = sp.simplify(sp.diff(entry.expression(t), t) / entry.expression(t))
    return not rate.has(t) and bool(rate.is_positive)


def _normalised_activation_steps(network, number, source, buf):
    """a_j = e(z_j) / Σ_k e(z_k) into ``buf`` from ``source``, row by row: a layer that is not
    element-wise (``elementwise=False`` in its registry entry; softmax), with e its expression.

    NumPy computes it in place on one buffer for every size (three passes: shift, e, divide by the
    row sums); the array API code is the same without ``out=``.
    """
    entry = network.activation(number)
    t = sp.Symbol("z", real=True)
    e = entry.expression(t)
    quotient = derive(network).slope(entry.name).expression  # e(z_j)/Σ_k e(z_k), as the derivation writes it
    comment = [f"a^{{(L)}}_j = {_latex(quotient)} (layer {number} = L), {entry.name}: not element-wise, every a_j "
               "depends on every z_k of its row, and each row adds up to 1"]
    if _shifted_by_the_row_maximum(entry):
        comment.append("shifted by the largest z of each row: the shift cancels in the quotient, and "
                       f"{_latex(e.xreplace({t: sp.Symbol('z - max z')}))} <= 1 never overflows")
        # ndarray.max and .sum: about 1.3 µs faster per call than np.max and np.sum on small arrays
        if source == buf:
            large = [f"{buf} -= {buf}.max(axis=1, keepdims=True)"]
        else:
            large = [f"{buf} = {source} - {source}.max(axis=1, keepdims=True)"]
        xp = [f"{buf} = {source} - xp.max({source}, axis=1, keepdims=True)"]
    else:
        large = [] if source == buf else [f"{buf} = {source}.copy()"]
        xp = [] if source == buf else [f"{buf} = {source}"]
    emitter = InPlace(t, buf)
    lines = emitter.statements(e)
    large += lines if lines is not None else [f"{buf} = {numpy_code(e, {t: buf})}"]
    xp.append(f"{buf} = {array_api_code(e, {t: buf})}")
    large.append(f"{buf} /= {buf}.sum(axis=1, keepdims=True)  # divided by the sum of its row")
    xp.append(f"{buf} = {buf} / xp.sum({buf}, axis=1, keepdims=True)")
    overflows = "overflow" in emitter.flags and not _shifted_by_the_row_maximum(entry)
    title = f"a^({number}) = {entry.name}(z^({number})), row by row"
    return [Step(title, comment, large, xp, overflows=overflows)]

def _slope_steps(derivation, number, delta, a):
    """delta ⊙= σ'(z) for layer ``number``, σ' written in a = σ(z) (from the derivation)."""
    name = derivation.network.activations[number - 1]
    slope = next(s for s in derivation.slopes if s.name == name)
    av = sp.Symbol("a")
    expr = slope.from_output
    title = f"delta times sigma'(z^({number})), {name}"
    head = [f"\\sigma'(z^{{({number})}}) from a^{{({number})}} = \\sigma(z^{{({number})}}), {name}: "
            f"\\sigma'(z) = {_latex(slope.from_output)}"]
    if expr == 1:
        return [Step(title, head + ["nothing to multiply"], [], [])]
    small = [f"{delta} *= {numpy_code(expr, {av: a})}"]
    xp = [f"{delta} = {delta} * ({array_api_code(expr, {av: a})})"]
    factors = [f for f in sp.Mul.make_args(expr) if f.has(av)]
    const = sp.Mul(*[f for f in sp.Mul.make_args(expr) if not f.has(av)])
    # in place: plain factors of a first, then the one other factor computed in a's own buffer
    # (a^{(l)} is not needed any more once δ^{(l)} is known)
    plain = [f for f in factors if f == av]
    other = [f for f in factors if f != av]
    large = [f"{delta} *= {a}" for _ in plain]
    emitter = InPlace(av, a)
    for i, factor in enumerate(other):
        lines = emitter.statements(factor) if i == len(other) - 1 else None
        if lines is None:
            large.append(f"{delta} *= {numpy_code(factor, {av: a})}")
        else:
            large += lines + [f"{delta} *= {a}"]
    if const != 1:
        large.append(f"{delta} *= {numpy_code(const, {})}")
    overflows = "overflow" in emitter.flags or "np.exp" in small[0]
    return [Step(title, head, large, xp, small=small, buf=a, overflows=overflows)]


@dataclass
class CostCode:
    """The per-example cost summed over the output neurons, as code: ``lines`` first (NumPy, array
    API), then the expression to sum; ``latex`` says what it is; ``needs_z``: it reads z^{(L)}."""

    numpy: str
    xp: str
    latex: str
    needs_z: bool = False
    numpy_lines: list = field(default_factory=list)
    xp_lines: list = field(default_factory=list)


def _cost_terms(network, derivation, a, z, y):
    """The per-example cost C₀ summed over the output neurons, printed from the registry's term.

    A cost with a logarithm (an output range it needs) is written in z^{(L)} rather than a, so that it
    stays finite when a rounds to 0 or 1: for an element-wise output SymPy simplifies the term with
    a = σ(z) (for the sigmoid: ln(1 + e^z) − y z); for a normalised one (softmax) with
    a_j = e(z_j)/Σ_k e(z_k), where ln a_j = z_j − ln Σ_k e^{z_k} and the log-sum-exp is computed shifted.
    """
    cost = network.cost_entry
    av, yv = derivation.output_error_symbols
    per_neuron = cost.per_neuron(av, yv)
    if cost.needs_output_range is None:
        names = {av: a, yv: y}
        return CostCode(numpy_code(per_neuron, names), array_api_code(per_neuron, names),
                        f"C_0 = \\sum_j {_latex(per_neuron)}")
    entry = network.activation(network.depth)
    zv = sp.Symbol("z", real=True)
    if not entry.elementwise:
        return _normalised_cost_terms(entry, per_neuron, av, yv, zv, a, z, y)
    # ln a and ln(1 − a) lose everything once a rounds to 0 or 1: write the cost in z^{(L)} instead,
    # letting SymPy simplify it with a = σ(z) (for the sigmoid: ln(1 + e^z) − y z).
    out = entry.expression(zv)
    in_z = sp.expand(sp.expand_log(sp.simplify(per_neuron.xreplace({av: out})), force=True))
    names = {zv: z, yv: y}
    return CostCode(numpy_code(in_z, names), array_api_code(in_z, names),
                    f"C_0 = \\sum_j {_latex(per_neuron)} = \\sum_j {_latex(in_z)} \\text{{ with }} a = \\sigma(z)", True)


def _normalised_cost_terms(entry, per_neuron, av, yv, zv, a, z, y):
    """C₀ for a normalised output a_j = e(z_j)/S, S = Σ_k e(z_k): SymPy expands ln a_j into
    ln e(z_j) − ln S (for softmax z_j − ln S), and ln S is computed once per row, shifted by the row's
    largest z (log-sum-exp: ln S = max z + ln Σ_k e^{z_k − max z}, finite for any z).  What stays a
    function of a (ln(1 − a) of cross-entropy) is computed from a."""
    norm, log_norm, top = sp.Symbol("S", positive=True), sp.Symbol("log_norm", real=True), sp.Symbol("top", real=True)
    e = entry.expression(zv)
    in_z = sp.expand(sp.expand_log(per_neuron.xreplace({av: e / norm}), force=True))
    in_z = sp.collect(in_z.xreplace({sp.log(norm): log_norm}).subs(e / norm, av), yv)
    if in_z.has(norm):  # no form in z: the term as it is, from a
        names = {av: a, yv: y}
        return CostCode(numpy_code(per_neuron, names), array_api_code(per_neuron, names),
                        f"C_0 = \\sum_j {_latex(per_neuron)}")
    names = {av: a, zv: z, yv: y, log_norm: "log_norm", top: "top"}
    k_term = _latex(e.xreplace({zv: sp.Symbol("z_k")}))
    shown = _latex(in_z).replace(r"log_{norm}", f"\\ln \\sum_k {k_term}")
    latex = (f"C_0 = \\sum_j {_latex(per_neuron)} = \\sum_j {shown} \\text{{ with }} a_j = "
             f"\\frac{{{_latex(e.xreplace({zv: sp.Symbol('z_j')}))}}}{{\\sum_k {k_term}}}")
    if _shifted_by_the_row_maximum(entry):
        # ln Σ_k e(z_k) = ln e(m) + ln Σ_k e(z_k − m) with m the row's largest z (ln e(m) by SymPy: m)
        shifted = sp.Symbol("shifted", real=True)  # printed as (z - top), one symbol: SymPy keeps it whole
        log_of_sum = sp.expand_log(sp.log(e.xreplace({zv: top})), force=True) + sp.log(RowSum(e.xreplace({zv: shifted})))
        names[shifted] = f"({z} - top)"
        numpy_lines = [f"top = {z}.max(axis=1, keepdims=True)"]
        xp_lines = [f"top = xp.max({z}, axis=1, keepdims=True)"]
        why = "  # ln of the sum of the row's e^{z}, shifted by its largest z: finite for any z"
    else:
        log_of_sum, numpy_lines, xp_lines, why = sp.log(RowSum(e)), [], [], ""
    unwrap = lambda code: code.replace(f"(({z} - top))", f"({z} - top)")
    numpy_lines.append(f"log_norm = {unwrap(numpy_code(log_of_sum, names))}{why}")
    xp_lines.append(f"log_norm = {unwrap(array_api_code(log_of_sum, names))}")
    return CostCode(numpy_code(in_z, names), array_api_code(in_z, names), latex, True, numpy_lines, xp_lines)


def _with_the_mean(title, comment, error, names, L):
    """δ⁽ᴸ⁾ = ``error`` with the 1/batch of the mean: joined to the constant factor (the 2 of the
    quadratic cost) when there is one, else one step more."""
    mean = ["the mean over the batch: C = \\frac{1}{batch} \\sum_x C_x, so every gradient of it carries 1/batch;"]
    coefficient, rest = sp.Mul(*sp.Mul.make_args(error)).as_coeff_Mul()
    if coefficient == 1:
        return [Step(title, comment, [f"delta{L} = {numpy_code(error, names)}"],
                     [f"delta{L} = {array_api_code(error, names)}"]),
                Step("the mean over the batch: 1/batch", mean + ["BP2-BP4 are linear in \\delta, so it is applied "
                                                                 "once, here"],
                     [f"delta{L} *= 1.0 / batch"], [f"delta{L} = delta{L} * (1.0 / batch)"])]
    # one array operation fewer: the 1/n joins the constant factor
    scaled = f"({_number(coefficient)} / batch)*"
    mean.append(f"BP2-BP4 are linear in \\delta, so it is applied once, here, with the constant {coefficient}")
    return [Step(title + " and 1/batch", comment + mean, [f"delta{L} = {scaled}{numpy_code(rest, names)}"],
                 [f"delta{L} = {scaled}{array_api_code(rest, names)}"])]


def _output_error_steps(network, derivation, bp, out_step):
    """BP1 at an element-wise output layer: δ⁽ᴸ⁾ = ∇ₐC ⊙ σ'(z⁽ᴸ⁾) as the derivation simplified it."""
    L = network.depth
    av, yv = derivation.output_error_symbols
    out_slope = derivation.slope(network.activations[-1])
    comment = [
        f"BP1: {bp['BP1'].matrix_latex()}",
        f"at layer {L}: {out_step.delta.latex()}",
        f"the cost derivative: {_latex(nt.partial(nt.C0, nt.a[nt.L, nt.j]))} = {_latex(derivation.cost_slope)}",
        f"with {network.activations[-1]}'s \\sigma'(z) = {_latex(out_slope.from_output)} (a = \\sigma(z)), "
        f"SymPy simplifies their product \\delta^{{(L)}} to {_latex(derivation.output_error)}"]
    return _with_the_mean("BP1: the output error", comment, derivation.output_error, {av: f"a{L}", yv: "Y"}, L)


def _normalised_output_error_steps(network, derivation, bp, out_step):
    """BP1 at a normalised output layer (softmax): δ⁽ᴸ⁾ = Jᵀ∇ₐC, every a_i depending on every z_j
    through the Jacobian J_ij = ∂a_i/∂z_j.  The derivation sums those paths: with the log-likelihood
    (targets adding up to 1) SymPy simplifies δ to a − y, element-wise; with another cost it stays
    a ⊙ (∇ₐC − Σ_i a_i ∂C/∂a_i), whose Σ_i over the outputs is printed as a sum along each row."""
    L = network.depth
    av, yv = derivation.output_error_symbols
    name = network.activations[-1]
    jacobian = derivation.slope(name).derivative
    i = next(s for s in jacobian.free_symbols if s.name == "i")
    comment = [
        f"BP1: {bp['BP1'].matrix_latex()}",
        f"at layer {L}: {out_step.delta.latex()}",
        f"{name} is not element-wise: every a_i depends on every z_j, through the Jacobian "
        f"{_latex(nt.partial(nt.a[nt.L, i], nt.z[nt.L, nt.j]))} = {_latex(jacobian)}",
        f"the cost derivative: {_latex(nt.partial(nt.C0, nt.a[nt.L, nt.j]))} = {_latex(derivation.cost_slope)}"]
    if derivation.output_error_cancels:
        comment.append(f"SymPy sums the paths and simplifies \\delta^{{(L)}} to {_latex(derivation.output_error)}, for "
                       "targets whose rows add up to 1 (one-hot, or probabilities)")
        error = derivation.output_error
    else:
        comment.append(f"SymPy sums the paths: \\delta^{{(L)}}_j = {_latex(derivation.output_error)}; the sum over the "
                       "outputs i is a sum along each row")
        error = _row_form(derivation.output_error, av, yv)
    return _with_the_mean("BP1: the output error, J^T grad_a C", comment, error, {av: f"a{L}", yv: "Y"}, L)


def _row_form(expr, a, y):
    """An expression of the output layer in index form (a^{(L)}_j, y_j and sums Σ_i over the output
    neurons of a^{(L)}_i, y_i) as one of whole rows: every a^{(L)}_x becomes ``a``, every y_x ``y``
    and each Σ_i a ``RowSum``, a sum along the rows of the (batch, n_L) arrays.  A sum whose terms
    also hold the outer neuron j is split first: Σ_i f(j) g(i) = f(j) Σ_i g(i), term by term."""
    if isinstance(expr, sp.Sum):
        (index, low, high), = expr.limits
        if low != 0 or high != nt.n[nt.L] - 1:
            raise SymbackpropError(f"codegen cannot print the sum {expr} (not over the output neurons)")
        by_outer = {}  # the factor without i -> the sum of the factors with i it multiplies
        for term in sp.Add.make_args(sp.expand(expr.function)):
            outer, inner = term.as_independent(index, as_Add=False)
            coefficient, outer = outer.as_coeff_Mul()  # numbers go inside: one sum per outer factor
            by_outer[outer] = by_outer.get(outer, 0) + coefficient * inner
        for outer in by_outer:
            if any(isinstance(e, sp.Indexed) and index in e.indices for e in sp.preorder_traversal(outer)):
                raise SymbackpropError(f"codegen cannot split the sum {expr}")
        terms, sums = [], []
        for outer, inner in by_outer.items():
            coefficient, inner = sp.factor(inner).as_coeff_Mul()  # Σ -x as -Σ x: equal sums meet
            sums.append(RowSum(_row_form(inner, a, y)))
            terms.append(coefficient * _row_form(outer, a, y) * sums[-1])
        return sp.collect(sp.Add(*terms), sums)  # each sum once
    if isinstance(expr, sp.Indexed):
        if expr.base == nt.a and expr.indices[0] == nt.L:
            return a
        if expr.base == nt.y:
            return y
        raise SymbackpropError(f"codegen cannot print {expr} as a row of the output layer")
    if not expr.args:
        return expr
    return expr.func(*[_row_form(arg, a, y) for arg in expr.args])


def _regularisers(derivation):
    """(Regularisation, the module's name for its λ) for each regulariser of the network."""
    return [(r, f"LAMBDA_{r.name.upper()}") for r in derivation.regularisation]


def _weight_gradient_steps(derivation, bp, step, n, prev):
    """BP4 at layer n, summed over the rows, then each regulariser's (λ/n) penalty'(W) (Nielsen's
    chapter 3: ∂C/∂w = ∂C₀/∂w + (λ/n) penalty'(w)), printed from the derivation's SymPy form."""
    steps = [Step(f"BP4 at layer {n}", [f"BP4: {bp['BP4'].matrix_latex()}  (summed over the rows)",
                                        f"at layer {n}: {step.weight.latex()}"],
                  [f"grad_W{n} = delta{n}.T.dot({prev})"], [f"grad_W{n} = delta{n}.T @ {prev}"])]
    weights = sp.Symbol(f"W{n}")
    for r, constant in _regularisers(derivation):
        term = next(t for t in sp.Add.make_args(printing.plain(r.matrix.rhs)) if not t.has(sp.Derivative))
        term = term.xreplace({nt.lam: sp.Symbol(constant), nt.n_examples: sp.Symbol("n"), nt.w[nt.l]: weights})
        if term.has(sp.Indexed):
            raise SymbackpropError(f"codegen cannot print the regularisation term {term}")
        factors = sp.Mul.make_args(term)
        scale = sp.Mul(*[f for f in factors if not f.has(weights)])  # λ/n: a number, computed first
        slope = sp.Mul(*[f for f in factors if f.has(weights)])
        comment = [f"{r.title}: {r.matrix.latex()}", "penalty'(w) by SymPy; n is the number of training examples "
                   "(the rows of X, or n=); biases are not penalised"]
        steps.append(Step(f"{r.title} at layer {n}", comment,
                          [f"grad_W{n} += ({numpy_code(scale, {})})*{numpy_code(slope, {})}"],
                          [f"grad_W{n} = grad_W{n} + ({array_api_code(scale, {})})*{array_api_code(slope, {})}"]))
    return steps


def _bias_gradient_steps(bp, step, n):
    """BP3 at layer n: the sum of δ over the rows (NumPy: a product with a row of ones, BLAS)."""
    return [Step(f"BP3 at layer {n}", [
        f"BP3: {bp['BP3'].matrix_latex()}  (summed over the rows: a product with a row of ones)",
        f"at layer {n}: {step.bias.latex()}"],
        [f"grad_b{n} = ones.dot(delta{n})"], [f"grad_b{n} = xp.sum(delta{n}, axis=0)"])]


def _propagate_steps(derivation, bp, lower, n):
    """BP2: δ⁽ⁿ⁻¹⁾ from δ⁽ⁿ⁾, then ⊙ σ'(z⁽ⁿ⁻¹⁾)."""
    return [Step(f"BP2 at layer {n - 1}", [f"BP2: {bp['BP2'].matrix_latex()}", f"at layer {n - 1}: {lower.delta.latex()}"],
                 [f"delta{n - 1} = delta{n}.dot(W{n})"], [f"delta{n - 1} = delta{n} @ W{n}"])] + _slope_steps(derivation, n - 1, f"delta{n - 1}", f"a{n - 1}")


def _penalty_code(derivation, depth):
    """The regularisers' share of the cost, (λ/n) Σ_l Σ_jk penalty(w^{(l)}_jk), from the derivation's
    SymPy form: (NumPy, array API, LaTeX lines), or None without regularisation."""
    if not derivation.regularisation:
        return None
    total, latex = sp.Integer(0), []
    for r, constant in _regularisers(derivation):
        share = next(t for t in sp.Add.make_args(printing.plain(r.cost.rhs)) if t.has(sp.Sum))
        outer = next(iter(share.atoms(sp.Sum)))
        penalty = outer
        while isinstance(penalty, sp.Sum):
            penalty = penalty.function
        per_layer = []
        for layer in range(1, depth + 1):
            coefficient, rest = penalty.xreplace({nt.w[nt.l, nt.j, nt.k]: sp.Symbol(f"W{layer}")}).as_coeff_Mul()
            per_layer.append(coefficient * Total(rest))
        scale = share.xreplace({outer: 1, nt.lam: sp.Symbol(constant), nt.n_examples: sp.Symbol("n")})
        total += scale * sp.Add(*per_layer)
        latex.append(f"{r.title}: {r.cost.latex()}")
    if total.has(sp.Indexed):
        raise SymbackpropError(f"codegen cannot print the regularisation term {total}")
    return numpy_code(total, {}), array_api_code(total, {}), latex


def _layer_kind(entry):
    """How a layer's activation is computed: "elementwise" (a_j = σ(z_j)) or "normalised"
    (a_j = e(z_j)/Σ_k e(z_k), softmax), from the registry entry's ``elementwise``."""
    return "elementwise" if entry.elementwise else "normalised"


# The step functions for each kind of layer: the forward step a = σ(z), and BP1 at the output layer.
ACTIVATION_STEPS = {"elementwise": _activation_steps, "normalised": _normalised_activation_steps}
OUTPUT_ERROR_STEPS = {"elementwise": _output_error_steps, "normalised": _normalised_output_error_steps}


def _any_of(conditions, indent=" " * 12):
    """``a or b or ...`` in parentheses, one condition a line."""
    return "(" + f"\n{indent}or ".join(conditions) + ")" if len(conditions) > 1 else "".join(conditions)


def plan(network):
    """Everything the template needs: the network, its layers' code and comments, the cost."""
    derivation = derive(network)
    L = network.depth
    bp = {e.name: e for e in derivation.bp}
    cost = _cost_terms(network, derivation, f"a{L}", f"z{L}", "Y")
    needs_z = cost.needs_z
    steps = {step.number: step for step in derivation.layers}
    layers = []
    for n in range(1, L + 1):
        prev = "X" if n == 1 else f"a{n - 1}"
        layer = Layer(n, printing.latex(steps[n].label), network.width(n), network.width(n - 1),
                      network.activations[n - 1])
        target = f"z{n}" if n == L and needs_z else f"a{n}"
        layer.forward += _weighted_input_steps(n, prev, target)
        activation = ACTIVATION_STEPS[_layer_kind(network.activation(n))](network, n, target, f"a{n}")
        if target == f"a{n}":
            _fold_bias(layer.forward[-1], activation[0], f"a{n}", f"b{n}")
        layer.forward += activation
        layers.append(layer)

    # Backward, from L down.
    output_kind = _layer_kind(network.activation(L))
    layers[-1].backward += OUTPUT_ERROR_STEPS[output_kind](network, derivation, bp, steps[L])
    for layer in layers[::-1]:
        n = layer.number
        prev = "X" if n == 1 else f"a{n - 1}"
        layer.backward += _weight_gradient_steps(derivation, bp, steps[n], n, prev)
        layer.backward += _bias_gradient_steps(bp, steps[n], n)
        if n > 1:
            layer.backward += _propagate_steps(derivation, bp, steps[n - 1], n)
    outputs = [f"a{n}" for n in range(1, L + 1)] + ([f"z{L}"] if needs_z else [])
    names = tuple(f"{kind}{n}" for n in range(1, L + 1) for kind in ("W", "b"))
    shapes = {**{f"W{n}": (network.width(n), network.width(n - 1)) for n in range(1, L + 1)},
              **{f"b{n}": (network.width(n),) for n in range(1, L + 1)}}
    overflows = any(s.overflows for layer in layers for s in layer.forward + layer.backward)
    penalty = _penalty_code(derivation, L)
    return {
        "network": network, "derivation": derivation, "version": __version__,
        "layers": layers, "depth": L,
        "names": names, "shapes": shapes,
        "lookup": ", ".join(f'params["{name}"]' for name in names),
        "shape_condition": _any_of([f"W{n}.shape != {shapes[f'W{n}']} or b{n}.shape != {shapes[f'b{n}']}"
                                    for n in range(1, L + 1)]),
        "dtype_condition": _any_of([f"{name}.dtype != dtype" for name in names[1:]]),
        "floating": '{"over": "ignore", "under": "ignore"}' if overflows else '{"under": "ignore"}',
        "outputs": ", ".join(outputs) + ("," if len(outputs) == 1 else ""),  # always a tuple
        "cost_inputs": [f"a{L}"] + ([f"z{L}"] if needs_z else []),
        "overflows": overflows,
        "xp_backward_needs_dtype": any(re.search(r"\bdt\b", line) for layer in layers for step in layer.backward
                                       for line in step.xp),
        "in_place_from": IN_PLACE_FROM, "forward_index": -2 if needs_z else -1,
        "cost": cost,
        # the derivation's δ = a − y for a normalised output assumes targets adding up to 1 per row
        "targets_add_up_to_one": output_kind == "normalised" and derivation.output_error_cancels,
        "regularisers": [(r, constant) for r, constant in _regularisers(derivation)],
        "penalty": penalty,
        "weights": [f"W{n}" for n in range(1, L + 1)],
        "command": f"symbackprop codegen {network.cli_args()} -o FILE.py",
    }


# Public API --------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def source(network):
    """The text of the standalone module for ``network``."""
    from .render.environment import environment

    text = environment().get_template(TEMPLATE).render(**plan(network))
    text = re.sub(r"[ \t]+\n", "\n", text)  # no trailing blanks
    return re.sub(r"\n\n\n+(?=    )", "\n\n", text)  # one blank line between blocks in a function


def _module_name(network):
    return "symbackprop_generated_" + "_".join(map(str, network.sizes))


@lru_cache(maxsize=64)
def compile(network):  # noqa: A001 - the public name (symbackprop.compile)
    """The generated functions for ``network`` as a module object (nothing written to disk).

    Attributes: ``forward(params, X)``, ``cost(params, X, Y)``, ``gradients(params, X, Y)``,
    ``value_and_gradients(params, X, Y)``, ``init_params(seed=0, dtype=np.float64, scheme="fan_in")``,
    ``sgd_step(params, grads, rate, momentum=0.0, velocity=None)``, ``SIZES``, ``ACTIVATIONS``,
    ``COST``, ``SHAPES`` and ``SOURCE`` (the same text ``write_module`` writes).
    """
    text = source(network)
    loader = _GeneratedSource(text, f"<symbackprop codegen {'-'.join(map(str, network.sizes))}>")
    spec = importlib.util.spec_from_loader(_module_name(network), loader, origin=loader.filename)
    module = importlib.util.module_from_spec(spec)
    module.SOURCE = text
    loader.exec_module(module)  # imported like the file write_module writes; tracebacks show its lines
    return module


class _GeneratedSource(importlib.abc.SourceLoader):
    """Imports the generated text as a module, through Python's own import machinery."""

    def __init__(self, text, filename):
        self.text, self.filename = text, filename

    def get_filename(self, fullname):
        return self.filename

    def get_data(self, path):
        return self.text.encode("utf-8")


def write_module(network, path):
    """Write the standalone module for ``network`` to ``path`` (a .py file); returns the Path."""
    path = Path(path)
    if path.suffix != ".py":
        raise SymbackpropError(f"-o {path}: the module file must end in .py, e.g. -o grads.py")
    if path.is_dir():
        raise SymbackpropError(f"-o {path}: is a directory; give a file name ending in .py")
    text = source(network)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        why = "it is a file" if isinstance(e, FileExistsError) else e.strerror or e
        raise SymbackpropError(f"cannot write -o {path}: cannot make the folder {path.parent} ({why})") from None
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise SymbackpropError(f"cannot write -o {path}: {e.strerror or e}") from None
    return path
