"""codegen: the derivation turned into vectorized NumPy code, in memory or as a module file.

One source of truth: ``templates/gradients.py.j2`` lays out a standalone module (NumPy only);
this module fills it with code printed from the derivation:

* the elementwise parts -- each layer's activation σ(z), its slope σ'(z) written in terms of
  a = σ(z) (``Derivation.slopes``), the output error δ⁽ᴸ⁾ as SymPy simplified it for this cost
  and output activation (``Derivation.output_error``) and the per-example cost -- are SymPy
  expressions printed by a NumPy printer (the one ``lambdify`` uses), twice: as in-place ufunc
  calls on a buffer the code owns (no temporary arrays; for arrays of IN_PLACE_FROM elements or
  more) and as one expression (fewer NumPy calls; for small arrays, where calls cost the most);
* the structure -- one matrix product per layer forward (z = w a + b) and two backward (BP4 and
  BP2), the sum over the batch for BP3 -- follows the matrix form of BP1-BP4, one block per
  layer, unrolled.

``write_module(network, path)`` writes that source; ``compile(network)`` executes the very same
source (our own text: besides code printed from SymPy it holds only the validated network's
sizes and registry names) in a fresh module object and returns it.
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


# Printing SymPy as NumPy -------------------------------------------------------------------

class CodePrinter(NumPyPrinter):
    """SymPy's NumPy printer (the one lambdify uses), writing ``np.`` and a few better forms.

    ln(1 + e^x) is printed as ``np.logaddexp(0, x)``, finite for any x; Heaviside(x, 0) as
    ``np.greater(x, 0)``; 1/x as ``1/x`` rather than ``x**(-1.0)``; Max/Min as ``np.maximum``/
    ``np.minimum``; a product from the derivation (``OrderedMul``) in its own order.
    """

    def _module_format(self, fqn, register=True):
        out = super()._module_format(fqn, register)
        return "np." + out[len("numpy."):] if out.startswith("numpy.") else out

    def _print_log(self, expr):
        inner = _softplus_argument(expr)
        if inner is not None:
            return f"np.logaddexp(0, {self._print(inner)})"
        return f"np.log({self._print(expr.args[0])})"

    def _print_log1p(self, expr):
        inner = _softplus_argument(expr)
        if inner is not None:
            return f"np.logaddexp(0, {self._print(inner)})"
        return f"np.log1p({self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        if expr.exp == -1:
            return f"1/{self.parenthesize(expr.base, PRECEDENCE['Pow'])}"
        return super()._print_Pow(expr, rational)

    def _print_Max(self, expr):
        return self._nested("np.maximum", expr.args)

    def _print_Min(self, expr):
        return self._nested("np.minimum", expr.args)

    def _nested(self, ufunc, args):
        out = self._print(args[0])
        for arg in args[1:]:
            out = f"{ufunc}({out}, {self._print(arg)})"
        return out

    def _print_Heaviside(self, expr):
        if expr.args[1] == 0:  # H(x) with H(0) = 0 is x > 0: much faster than np.heaviside
            return f"np.greater({self._print(expr.args[0])}, 0)"
        return f"np.heaviside({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Symbol(self, expr):
        return self.names.get(expr, None) or super()._print_Symbol(expr)

    def _print_OrderedMul(self, expr):  # the derivation's order: 2 (a - y) a (1 - a)
        return "*".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=False) for f in expr.args)


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


def _printer(names=None):
    printer = CodePrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    printer.names = names or {}
    return printer


def numpy_code(expr, names):
    """``expr`` as one NumPy expression, its symbols renamed by ``names`` {Symbol: str}."""
    expr = optimize(expr, optims_c99)  # e.g. 1 - e^{-a} -> -expm1(-a), accurate near 0
    return _printer(names).doprint(expr)


class _NotInPlace(Exception):
    pass


class InPlace:
    """Statements that turn a buffer holding x into f(x), one ufunc with ``out=`` per node.

    Works for expressions that are a chain of one-argument steps in x (1/(1 + e^{-x}),
    1 - x², ln(1 + e^x), max(0, x), ...), dispatching by node class (``_emit_<Class>``);
    ``flags`` collects what the code needs, e.g. ``"overflow"`` for e^x (harmless: 1/(1 + ∞) = 0).
    """

    def __init__(self, var, buf):
        self.var, self.buf, self.flags = var, buf, set()

    def statements(self, expr):
        """The statements, or None when ``expr`` is not such a chain."""
        try:
            return self.emit(optimize(expr, optims_c99))
        except _NotInPlace:
            return None

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

    def _c(self, number):
        return _printer().doprint(number)

    def _emit_Symbol(self, expr):
        if expr != self.var:
            raise _NotInPlace(expr)
        return []

    def _emit_Add(self, expr):
        const, term = self._split(expr)
        if term.could_extract_minus_sign():
            return self.emit(-term) + [f"np.subtract({self._c(const)}, {self.buf}, out={self.buf})"]
        return self.emit(term) + [f"{self.buf} += {self._c(const)}"]

    def _emit_Mul(self, expr):
        const, factor = self._split(expr)
        if const == -1:
            return self.emit(factor) + [f"np.negative({self.buf}, out={self.buf})"]
        return self.emit(factor) + [f"{self.buf} *= {self._c(const)}"]

    _emit_OrderedMul = _emit_Mul

    def _emit_Pow(self, expr):
        base, power = expr.args
        if power.has(self.var):
            raise _NotInPlace(expr)
        steps = self.emit(base)
        if power == -1:  # np.divide(1, x) is faster than np.reciprocal
            return steps + [f"np.divide(1, {self.buf}, out={self.buf})"]
        if power == 2:
            return steps + [f"np.square({self.buf}, out={self.buf})"]
        if power == sp.S.Half:
            return steps + [f"np.sqrt({self.buf}, out={self.buf})"]
        return steps + [f"np.power({self.buf}, {self._c(power)}, out={self.buf})"]

    def _emit_log(self, expr):
        inner = _softplus_argument(expr)
        if inner is not None:
            # ln(1 + e^x) = max(x, 0) + ln(1 + e^{-|x|}): e^{-|x|} <= 1 never overflows, and these
            # vectorized ufuncs are several times faster than np.logaddexp
            b, t = self.buf, f"{self.buf}_tail"
            return self.emit(inner) + [f"{t} = np.absolute({b})", f"np.negative({t}, out={t})",
                                       f"np.exp({t}, out={t})", f"np.log1p({t}, out={t})",
                                       f"np.maximum({b}, 0, out={b})", f"{b} += {t}"]
        return self._emit_ufunc(expr)

    _emit_log1p = _emit_log

    def _emit_ufunc(self, expr):
        name = {"log": "log", "exp": "exp", "expm1": "expm1", "log1p": "log1p", "tanh": "tanh",
                "sinh": "sinh", "cosh": "cosh", "sin": "sin", "cos": "cos", "Abs": "absolute",
                "sign": "sign"}.get(type(expr).__name__)
        if name is None:
            raise _NotInPlace(expr)
        if name in ("exp", "expm1", "sinh", "cosh"):
            self.flags.add("overflow")
        return self.emit(expr.args[0]) + [f"np.{name}({self.buf}, out={self.buf})"]

    def _emit_Heaviside(self, expr):
        arg, at_zero = expr.args
        if at_zero == 0:  # H(x) with H(0) = 0 is x > 0: a comparison, much faster than np.heaviside
            return self.emit(arg) + [f"np.greater({self.buf}, 0, out={self.buf})"]
        return self.emit(arg) + [f"np.heaviside({self.buf}, {self._c(at_zero)}, out={self.buf})"]

    def _emit_Max(self, expr):
        const, term = self._split(expr)
        return self.emit(term) + [f"np.maximum({self.buf}, {self._c(const)}, out={self.buf})"]

    def _emit_Min(self, expr):
        const, term = self._split(expr)
        return self.emit(term) + [f"np.minimum({self.buf}, {self._c(const)}, out={self.buf})"]


# The plan the template lays out ------------------------------------------------------------

@dataclass
class Step:
    """A few lines of code and the comment lines (formula, LaTeX) that say what they compute."""

    comment: list
    code: list
    quiet_overflow: bool = False  # wrap in np.errstate(over="ignore")
    small: list = None  # the same as one expression, for arrays smaller than IN_PLACE_FROM
    buf: str = ""  # the array whose size chooses between code and small


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


def _activation_steps(network, derivation, number, buf):
    """a = σ(z) in ``buf`` (which holds z), printed from the registry's SymPy expression.

    Two forms of the same expression: in place for large arrays (no temporaries), one NumPy
    expression for small ones (fewer calls: on a 1-1-1-1 network the call overhead is the cost).
    """
    entry = network.activation(number)
    t = sp.Symbol("z", real=True)
    expr = entry.expression(t)
    if expr == t:
        return [Step([f"a^{{({number})}} = z^{{({number})}}: {entry.name} leaves z as it is"], [])]
    emitter = InPlace(t, buf)
    large = emitter.statements(expr)
    small = [f"{buf} = {numpy_code(expr, {t: buf})}"]
    comment = [f"a^{{({number})}} = \\sigma(z^{{({number})}}), {entry.name}: \\sigma(z) = {_latex(expr)}"]
    quiet = "overflow" in emitter.flags or any("np.exp(" in line for line in small)
    if quiet:
        comment.append("e^{...} may overflow to inf for large |z|; the result is then exactly 0 or 1 "
                       "(the warning is silenced)")
    if large is None or large == []:
        return [Step(comment, small, quiet)]
    return [Step(comment, large, quiet, small=small, buf=buf)]


def _slope_steps(derivation, number, delta, a):
    """delta ⊙= σ'(z) for layer ``number``, σ' written in a = σ(z) (from the derivation)."""
    network = derivation.network
    name = network.activations[number - 1]
    slope = next(s for s in derivation.slopes if s.name == name)
    av = sp.Symbol("a")
    expr = slope.from_output
    head = [f"\\sigma'(z^{{({number})}}) from a^{{({number})}} = \\sigma(z^{{({number})}}), {name}: "
            f"\\sigma'(z) = {_latex(slope.from_output)}"]
    if expr == 1:
        return [Step(head + ["nothing to multiply"], [])]
    small = [f"{delta} *= {numpy_code(expr, {av: a})}"]
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
    quiet = "overflow" in emitter.flags or "np.exp" in small[0]
    return [Step(head, large, quiet, small=small, buf=a)]


def _cost_code(network, derivation, a, z, y):
    """(per-example cost summed over outputs as NumPy, LaTeX comment, whether it needs z^{(L)})."""
    cost = network.cost_entry
    av, yv = derivation.output_error_symbols
    per_neuron = cost.per_neuron(av, yv)
    if cost.needs_output_range is None:
        return numpy_code(per_neuron, {av: a, yv: y}), f"C_0 = \\sum_j {_latex(per_neuron)}", False
    # ln a and ln(1 − a) lose everything once a rounds to 0 or 1: write the cost in z^{(L)} instead,
    # letting SymPy simplify it with a = σ(z) (for the sigmoid: ln(1 + e^z) − y z).
    zv = sp.Symbol("z", real=True)
    out = network.activation(network.depth).expression(zv)
    in_z = sp.expand(sp.expand_log(sp.simplify(per_neuron.xreplace({av: out})), force=True))
    return (numpy_code(in_z, {zv: z, yv: y}),
            f"C_0 = \\sum_j {_latex(per_neuron)} = \\sum_j {_latex(in_z)} \\text{{ with }} a = \\sigma(z)", True)


def _fold_bias(weighted, activation, buf, bias):
    """When the in-place activation starts by negating z (the sigmoid's e^{-z}), add the bias
    and negate in one pass: -z = -b - a W^T.  The small path adds the bias as before."""
    if activation.small is None or not activation.code or activation.code[0] != f"np.negative({buf}, out={buf})":
        return
    weighted.code.remove(f"{buf} += {bias}")
    weighted.comment[-1] += "; the + b comes with the first step below"
    activation.code[0] = f"np.subtract(-{bias}, {buf}, out={buf})  # -z = -b - a W^T in one pass"
    activation.small.insert(0, f"{buf} += {bias}")


def plan(network):
    """Everything the template needs: the network, its layers' code and comments, the cost."""
    derivation = derive(network)
    L = network.depth
    bp = {e.name: e for e in derivation.bp}
    cost_code, cost_latex, needs_z = _cost_code(network, derivation, f"a{L}", f"z{L}", "Y")
    layers = []
    for step in derivation.layers[::-1]:  # layers 1..L
        n = step.number
        prev = "X" if n == 1 else f"a{n - 1}"
        layer = Layer(n, printing.latex(step.label), network.width(n), network.width(n - 1),
                      network.activations[n - 1])
        target = f"z{n}" if n == L and needs_z else f"a{n}"
        layer.forward.append(Step(
            [f"layer {n} ({printing.latex(step.label)}): z^{{({n})}} = w^{{({n})}} a^{{({n - 1})}} + b^{{({n})}}"
             f"  (rows are examples: a @ W.T + b)"],
            [f"{target} = {prev} @ W{n}.T", f"{target} += b{n}"]))
        if n == L and needs_z:
            layer.forward.append(Step(["keep z^{(L)} for the cost; a^{(L)} gets its own array"],
                                      [f"a{n} = z{n}.copy()"]))
        activation = _activation_steps(network, derivation, n, f"a{n}")
        if target == f"a{n}":
            _fold_bias(layer.forward[-1], activation[0], f"a{n}", f"b{n}")
        layer.forward += activation
        layers.append((layer, step))

    # Backward, from L down.
    av, yv = derivation.output_error_symbols
    out_layer, out_step = layers[-1]
    out_slope = next(s for s in derivation.slopes if s.name == network.activations[-1])
    out_layer.backward.append(Step(
        [f"BP1: {bp['BP1'].matrix_latex()}",
         f"at layer {L}: {out_step.delta.latex()}",
         f"the cost derivative: {_latex(nt.partial(nt.C0, nt.a[nt.L, nt.j]))} = {_latex(derivation.cost_slope)}",
         f"with {network.activations[-1]}'s \\sigma'(z) = {_latex(out_slope.from_output)} (a = \\sigma(z)), "
         f"SymPy simplifies their product \\delta^{{(L)}} to {_latex(derivation.output_error)}"],
        [f"delta{L} = {numpy_code(derivation.output_error, {av: f'a{L}', yv: 'Y'})}"]))
    out_layer.backward.append(Step(
        ["the mean over the batch: C = \\frac{1}{n} \\sum_x C_x, so every gradient carries 1/n;",
         "BP2-BP4 are linear in \\delta, so it is applied once, here"],
        [f"delta{L} *= 1 / X.shape[0]"]))
    for layer, step in layers[::-1]:
        n = layer.number
        prev = "X" if n == 1 else f"a{n - 1}"
        layer.backward.append(Step(
            [f"BP4: {bp['BP4'].matrix_latex()}  (summed over the rows)", f"at layer {n}: {step.weight.latex()}"],
            [f"grad_W{n} = delta{n}.T @ {prev}"]))
        layer.backward.append(Step(
            [f"BP3: {bp['BP3'].matrix_latex()}  (summed over the rows: a product with a row of ones)",
             f"at layer {n}: {step.bias.latex()}"],
            [f"grad_b{n} = ones @ delta{n}"]))
        if n > 1:
            lower = layers[n - 2][1]
            layer.backward.append(Step(
                [f"BP2: {bp['BP2'].matrix_latex()}", f"at layer {n - 1}: {lower.delta.latex()}"],
                [f"delta{n - 1} = delta{n} @ W{n}"]))
            layer.backward += _slope_steps(derivation, n - 1, f"delta{n - 1}", f"a{n - 1}")
    return {
        "network": network, "derivation": derivation, "version": __version__,
        "layers": [layer for layer, _ in layers], "depth": L,
        "names": tuple(f"{kind}{n}" for n in range(1, L + 1) for kind in ("W", "b")),
        "shapes": {**{f"W{n}": (network.width(n), network.width(n - 1)) for n in range(1, L + 1)},
                   **{f"b{n}": (network.width(n),) for n in range(1, L + 1)}},
        "outputs": ", ".join([f"a{n}" for n in range(1, L + 1)] + ([f"z{L}"] if needs_z else [])) + (
            "," if L == 1 and not needs_z else ""),  # always a tuple
        "forward_quiet": any(s.quiet_overflow for layer, _ in layers for s in layer.forward),
        "in_place_from": IN_PLACE_FROM, "forward_index": -2 if needs_z else -1,
        "cost_code": cost_code, "cost_latex": cost_latex, "cost_needs_z": needs_z,
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
    ``init_params(seed=0, dtype=np.float64)``, ``SIZES``, ``ACTIVATIONS``, ``COST``, ``SHAPES``
    and ``SOURCE`` (the same text ``write_module`` writes).
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
