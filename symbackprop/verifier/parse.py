"""Read a student's LaTeX formula into SymPy, in ``notation``'s own objects.

``parse(text, network)`` runs the Lark LALR grammar of ``formula.lark`` and the
:class:`ToSympy` transformer (one method per grammar rule).  The result meets the
derivation's symbols without remapping: ``a^{(L-1)}_k`` is ``a[L - 1, k]``, ``w_{jk}^l`` is
``w[l, j, k]``, ``\\frac{\\partial C_0}{\\partial b^{(L)}}`` is ``Derivative(C_0, b[L])``.
Nothing of the user's text is ever evaluated: it is tokenized and parsed, never passed to
``eval``, ``sympify`` or ``parse_expr``.  The derivative of an expression the student wrote
(``\\frac{\\partial}{\\partial a}(a - y)^2``) is SymPy's ``diff`` of the parsed expression, our
own SymPy object.

The network is needed for one decision only: whether a quantity written without a neuron
index (``a^{(L)}``) is the lectures' one-neuron shorthand (a number) or a whole layer (a
vector), so that a product of vectors and matrices keeps the order it was written in.

Numbers stay small: a number made of numbers only (``10^{60}``, ``e^{1000}``, ``\\ln(-1)``) is
computed in floating point before SymPy ever sees it, and refused when it is not a finite real
number, so SymPy never computes with huge integers.
"""

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp
from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr
from lark.visitors import Transformer_NonRecursive

from .. import notation as nt
from .. import printing
from ..errors import FormulaError
from ..printing import OrderedMul, ordered_product, plain
from .evaluate import number_value
from .guard import formula_error, grammar, prepare, shown
from .shapes import depth_of, is_matrix_like, neuron_positions

MAX_EXPONENT = 64
MAX_DEPTH = 60
"""Levels of nesting a parsed formula may have (brackets, functions, fractions, sums)."""
MAX_TREE_DEPTH = 130
"""Levels of the grammar's tree (two or three per level of nesting: 40 brackets make 83, 39 nested σ(…) 120),
checked before any SymPy is built, so that SymPy never recurses deep enough to fail."""
MAX_EXACT_DIGITS = 2000
"""Digits a number of the formula may have when SymPy computes it exactly ((10^{30})^{64} has 1,921)."""
INDEX_LETTERS = nt.INDEX_LETTERS
NUMBER_NODES = (sp.Number, sp.NumberSymbol, sp.Add, sp.Mul, sp.Pow, sp.exp, sp.log, sp.tanh)
"""What a piece of a formula made of numbers only is built from (2^{10}, e^{-1}, \\ln 2)."""
LAYER_SYMBOLS = {"L": nt.L, "l": nt.l, r"\ell": nt.l}
COST_SUBSCRIPTS = {"0": nt.C0, "x": nt.Cx}
KNOWN_SYMBOLS = ("a, z, w, b, y, x (= a^{(0)}), C (C_0, C_x), n_l (layer width), n (training examples), \\lambda, e, \\delta, "
                 "\\sigma, \\sigma', \\nabla_a C; neuron indices " + ", ".join(INDEX_LETTERS) + "; layers L, l")

@dataclass
class Formula:
    """A parsed equation: ``sides[0] = sides[1] (= sides[2] ...)``, and notes on how it was read."""

    text: str
    sides: list
    notes: list = field(default_factory=list)

    @property
    def lhs(self):
        return self.sides[0]

    @property
    def rhs(self):
        return self.sides[1:]


# Pieces the transformer passes upward before they become SymPy ------------------------------

@dataclass(frozen=True)
class Base:
    """A letter (or \\delta) whose meaning depends on its scripts: a, w, y, C, n, e, L, j ..."""

    kind: str
    name: str
    pos: int


@dataclass(frozen=True)
class PartialOf:
    """∂X, only meaningful as the numerator or denominator of a fraction."""

    expr: object
    pos: int


@dataclass(frozen=True)
class Operator:
    """∂/∂Y written before what it differentiates: \\frac{\\partial}{\\partial a} (a - y)^2."""

    variable: object
    pos: int


@dataclass(frozen=True)
class Differentiated:
    """The derivative of an expression the student wrote, already computed; remembered as such
    so that a left-hand side made of it gets a message of its own."""

    value: object
    pos: int


@dataclass
class Factors:
    """Factors written side by side or with \\cdot, multiplied once they are all known (so that a
    product of n factors costs n steps, not n²)."""

    items: list


@dataclass(frozen=True)
class Func:
    """A function name as written (\\sigma', \\exp, \\tanh^2), before its argument."""

    name: str
    pos: int
    power: object = None


@dataclass(frozen=True)
class Sub:
    entries: tuple  # of tuples of atoms (str), plus an optional integer offset on the last
    pos: int


@dataclass(frozen=True)
class Sup:
    kind: str  # expr, letter, number, top, prime
    value: object
    pos: int


@dataclass(frozen=True)
class Prime:
    pos: int


def examples_cancelled(factors):
    """``factors`` with the powers of n, the number of training examples, multiplied out: 1/n times
    Σₓ (which is n times the derivative for one example) leaves that derivative."""
    power = sum(int(f.exp) if isinstance(f, sp.Pow) and f.base == nt.n_examples and f.exp.is_Integer else
                int(f == nt.n_examples) for f in factors)
    rest = [f for f in factors if f != nt.n_examples and not (isinstance(f, sp.Pow) and f.base == nt.n_examples
                                                               and f.exp.is_Integer)]
    return ([nt.n_examples ** power] if power else []) + rest


def exact_digits(number):
    """Digits of a rational number's numerator or denominator, whichever is longer (from its bit length)."""
    return int(max(abs(number.p).bit_length(), number.q.bit_length()) * 0.30103) + 1


def summed_out(expr):
    """``expr`` with each Σ_k (… δ_{jk} …) written as (…) at k = j: differentiating Σ_k (a_k − y_k)² by a_j
    gives Σ_k 2(a_k − y_k) δ_{jk}, which is 2(a_j − y_j) (j and k count neurons of the same layer)."""
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    expr = expr.func(*[summed_out(a) for a in expr.args]) if not isinstance(expr, sp.Sum) else expr
    if not isinstance(expr, sp.Sum):
        return expr
    function, limits = summed_out(expr.function), list(expr.limits)
    for delta in [f for f in sp.Mul.make_args(function) if isinstance(f, sp.KroneckerDelta)]:
        for var, *_ in limits:
            if var in delta.indices and len(set(delta.indices)) == 2:
                other = next(i for i in delta.indices if i != var)
                function = sp.Mul(*[f for f in sp.Mul.make_args(function) if f is not delta]).xreplace({var: other})
                limits = [limit for limit in limits if limit[0] != var]
                break
    return sp.Sum(function, *limits) if limits else function


# The transformer: one method per grammar rule ------------------------------------------------

class ToSympy(Transformer_NonRecursive):
    """Grammar tree -> SymPy in ``notation``'s objects, checking meaning as it goes.

    Non-recursive, so that a long formula never meets Python's recursion limit.
    """

    def __init__(self, text, network):
        super().__init__()
        self.text = text
        self.network = network
        self.notes = []
        self.elements = {}

    def fail(self, message, pos=None):
        raise formula_error(message, self.text, pos)

    # values -------------------------------------------------------------------------------
    def value(self, item):
        """A finished SymPy value; a stray ∂ or a bare letter is an error here."""
        if isinstance(item, Base):
            item = self.base_value(item, [])
        if isinstance(item, Factors):
            item = self.multiply(item.items)
        if isinstance(item, Differentiated):
            item = item.value
        if isinstance(item, PartialOf):
            self.fail(r"\partial only makes sense in a fraction \frac{\partial C}{\partial w}", item.pos)
        if isinstance(item, Operator):
            self.fail(r"\frac{\partial}{\partial ...} must be followed by what it differentiates, e.g. "
                      r"\frac{\partial}{\partial a^{(L)}} (a^{(L)} - y)^2", item.pos)
        return item

    def multiply(self, factors):
        """The product of ``factors`` in the order written: a matrix product when two or more are
        vectors or matrices, else an ordered product of numbers (a number times one vector included).
        A ∂/∂Y among them applies to everything after it."""
        for i, f in enumerate(factors):
            if isinstance(f, Operator) and i + 1 < len(factors):
                operand = self.multiply(factors[i + 1:])
                factors = list(factors[:i]) + [self.differentiate(operand, f.variable, f.pos)]
                break
        factors = [self.value(f) for f in factors]
        if sum(1 for f in factors if is_matrix_like(f, self.network)) >= 2:
            return nt.matrix_product(*factors)
        flat = [g for f in factors for g in (f.args if isinstance(f, OrderedMul) else [f])]
        if any(f == 0 for f in flat):
            return sp.Integer(0)  # 0·y is 0, so that a/(0·y) and ln(0·y) are refused as a/0 and ln 0 are
        return ordered_product(*examples_cancelled(flat))

    def constant(self, expr, pos):
        """``expr`` when it is not made of numbers only, or when it is a finite real number; else an error."""
        if all(isinstance(node, NUMBER_NODES) for node in sp.preorder_traversal(expr)):
            number_value(expr, self.text, pos)  # raises when it is not a finite real number
        return expr

    # start, sums and products -------------------------------------------------------------
    def start(self, sides):
        if isinstance(sides[0], Differentiated):
            self.fail(r"the left-hand side must be a derivative of the cost (or of an a or z of the network), not of "
                      r"an expression: write \frac{\partial C_0}{\partial a^{(L)}} = ... and put the expression's "
                      r"derivative on the right", sides[0].pos)
        return [self.value(s) for s in sides]

    def expr(self, c):
        terms = [self.value(c[0])]
        for op, term in zip(c[1::2], c[2::2]):
            term = self.value(term)
            terms.append(term if op == "+" else -term)
        return sp.Add(*terms)

    def addop(self, c):
        return str(c[0])

    def mulop(self, c):
        return c[0]

    def product(self, c):
        """Factors joined by \\cdot, /, \\odot, left to right; runs of \\cdot stay one product."""
        acc = c[0]
        for op, operand in zip(c[1::2], c[2::2]):
            if op.type == "MUL":
                acc = Factors((acc.items if isinstance(acc, Factors) else [acc]) + [operand])
            elif op.type == "ODOT":
                acc = self.hadamard(acc, operand)
            else:
                acc = self.div(acc, operand, op.start_pos)
        return acc

    def implicit(self, c):
        return Factors(list(c))

    def neg(self, c):
        return -self.value(c[0])

    def div(self, num, den, pos=None):
        if isinstance(num, PartialOf) and isinstance(den, PartialOf):
            return self.derivative(num, den)
        den = self.value(den)
        if is_matrix_like(den, self.network):
            self.fail("cannot divide by a vector or a matrix", pos)
        if den == 0 or den.is_zero:
            self.fail("division by zero", pos)
        return self.constant(self.value(num) / den, pos)

    def hadamard(self, x, y):
        x, y = self.value(x), self.value(y)
        if is_matrix_like(x, self.network) or is_matrix_like(y, self.network):
            return nt.Hadamard(x, y)
        return x * y

    def bigsum(self, c):
        tok, (var, lower, upper, pos), body = c
        body = self.value(body)
        if var == nt.x:
            return self.sum_over_examples(body, lower, upper, pos)
        lower = self.bound_value(lower)
        upper = self.sum_upper(var, body, pos) if upper is None else self.bound_value(upper)
        return sp.Sum(body, (var, lower, upper))

    def sum_over_examples(self, body, lower, upper, pos):
        r"""\sum_x over the n training examples: n times the term, every example being the one checked."""
        lower = sp.Integer(1) if lower is None else self.value(lower)
        upper = nt.n_examples if upper is None else self.value(upper)
        if sp.expand(upper - lower + 1 - nt.n_examples) != 0:
            self.fail(r"a sum over the training examples x runs over all n of them: \sum_x or \sum_{x=1}^{n}", pos)
        self.notes.append("the average (1/n) Σₓ over the n training examples of the derivative for one example is "
                          "that derivative: verify checks it for one example, so Σₓ is n times it")
        return ordered_product(nt.n_examples, body)

    def sum_upper(self, var, body, pos):
        """Σ_j without bounds runs over the neurons of the layer j indexes in the sum."""
        for element in sorted(body.atoms(sp.Indexed), key=sp.default_sort_key):
            for index, layer in neuron_positions(element):
                if index == var:
                    return nt.n[layer] - 1
        self.fail(f"\\sum_{var}: {var} indexes no neuron inside the sum (write e.g. \\sum_{var} a^{{(L)}}_{var})", pos)

    def limits_free(self, c):
        var, pos = c[0]
        return var, None, None, pos

    def limits_range(self, c):
        (var, pos), lower, upper = c
        return var, lower, upper, pos

    def bound_value(self, item):
        if item is None:
            return sp.Integer(0)
        item = self.value(item)
        widths = {e: sp.Integer(0) for e in item.atoms(sp.Indexed) if e.base == nt.n}
        if item.xreplace(widths).free_symbols - {nt.L, nt.l} or item.atoms(sp.Indexed) - set(widths):
            self.fail(f"a sum's bound must be a number or a layer width like n_L - 1, not {printing.latex(item)}")
        return item

    def sum_var(self, c):
        tok = c[0]
        if tok == "x":
            return nt.x, tok.start_pos
        if tok not in INDEX_LETTERS:
            self.fail(f"the summation index must be a neuron index ({', '.join(INDEX_LETTERS)}) or the training "
                      f"example x, not '{tok}'", tok.start_pos)
        return nt.index_symbol(str(tok)), tok.start_pos

    def bound(self, c):
        item = c[0]
        if isinstance(item, Token):
            return self.atom_value(item)
        return item

    # scripts --------------------------------------------------------------------------------
    def script(self, c):
        primary, items = c[0], c[1:]
        if isinstance(primary, Base):
            return self.base_value(primary, items) if items else primary
        if not items:
            return primary
        if isinstance(primary, (PartialOf, Operator)):
            self.fail("a script after \\partial X is not understood", items[0].pos)
        return self.apply_scripts(self.value(primary), items)

    def script_sub(self, c):
        tok, entries = c
        return Sub(entries, tok.start_pos)

    def sup(self, c):
        tok, (kind, value) = c
        return Sup(kind, value, tok.start_pos)

    def prime(self, c):
        return Prime(None)

    def prime_mark(self, c):
        return "prime"

    def sub_list(self, c):
        entries = []
        for entry in c:
            if isinstance(entry, Token):  # a bare _j or _0
                entries.append(((str(entry),), 0))
            else:
                entries.append(entry)
        return tuple(entries)

    def sub_entry(self, c):
        offset = c[-1] if isinstance(c[-1], int) else 0
        atoms = tuple(str(t) for t in c if isinstance(t, Token))
        return atoms, offset

    def sub_atom(self, c):
        return c[0]

    def plus_offset(self, c):
        return int(c[0])

    def minus_offset(self, c):
        return -int(c[0])

    def sup_expr(self, c):
        if isinstance(c[0], Base):
            return ("top", None) if c[0].kind == "T" else ("expr", c[0])  # ^{T}, or ^{L} kept for the layer
        return "expr", self.value(c[0])

    def sup_letter(self, c):
        return "letter", c[0]

    def sup_number(self, c):
        return "number", c[0]

    def sup_top(self, c):
        return "top", None

    def sup_prime(self, c):
        return "prime", None

    # primaries ------------------------------------------------------------------------------
    def paren(self, c):
        return self.value(c[0])

    def brace(self, c):
        return c[0] if isinstance(c[0], Base) else self.value(c[0])  # {w}^l is w^l, as in TeX

    def bold(self, c):
        r"""\mathbf{w}, \boldsymbol\delta: the same quantity, printed bold."""
        return c[1] if isinstance(c[1], Base) else self.value(c[1])

    def letter(self, c):
        tok = c[0]
        name = "e" if tok.type == "ROMAN_E" else str(tok)
        if name in nt.BY_NAME and nt.BY_NAME[name].lowest_layer is not None or name == "x":
            return Base(name, name, tok.start_pos)
        if name in ("y", "C", "n", "e", "T"):
            return Base(name, name, tok.start_pos)
        if name in LAYER_SYMBOLS:
            return Base("layer", name, tok.start_pos)
        if name in INDEX_LETTERS:
            return Base("index", name, tok.start_pos)
        hint = r"; write \partial (or \mathrm{d}) for the derivative" if name == "d" else ""
        self.fail(f"unknown symbol '{name}'{hint}; known: {KNOWN_SYMBOLS}", tok.start_pos)

    def number(self, c):
        return self.number_value(c[0])

    def number_value(self, tok):
        value = Fraction(str(tok))
        return sp.Rational(value.numerator, value.denominator)

    def delta(self, c):
        return Base("delta", "delta", c[0].start_pos)

    def lam(self, c):
        return Base("lam", r"\lambda", c[0].start_pos)

    def frac(self, c):
        tok, num, den = c
        return self.fraction(num, den, tok.start_pos)

    def over(self, c):
        num, tok, den = c
        return self.fraction(num, den, tok.start_pos)

    def fraction(self, num, den, pos):
        if isinstance(num, PartialOf) and isinstance(den, PartialOf):
            return self.derivative(num, den)
        if isinstance(num, PartialOf) or isinstance(den, PartialOf):
            self.fail(r"a derivative needs \partial on top and below: \frac{\partial C}{\partial w}", pos)
        return self.div(num, den, pos)

    def operator(self, c):
        tok, _, den = c
        return self.operator_of(den, tok.start_pos)

    def operator_over(self, c):
        tok, _, den = c
        return self.operator_of(den, tok.start_pos)

    def operator_of(self, den, pos):
        if not isinstance(den, PartialOf):
            self.fail(r"a derivative needs \partial below too: \frac{\partial}{\partial a^{(L)}}", pos)
        return Operator(self.variable(den), pos)

    def frac_digits(self, c):
        tok, digits = c
        if len(digits) != 2 or not digits.isdigit():
            self.fail(r"write \frac{numerator}{denominator}", tok.start_pos)
        if digits[1] == "0":
            self.fail("division by zero", tok.start_pos)
        return sp.Rational(int(digits[0]), int(digits[1]))

    def partial(self, c):
        tok, inner = c
        if isinstance(inner, PartialOf):
            self.fail(r"a derivative is \frac{\partial X}{\partial Y}; second derivatives are not read", tok.start_pos)
        return PartialOf(inner, tok.start_pos)

    def nabla(self, c):
        r"""\nabla_a C (BP1's vector of ∂C/∂a^{(L)}_j); \nabla_b C, \nabla_{w^l} C are ∂C/∂b^{(L)}, ∂C/∂w^{(l)}."""
        tok, _, sub, cost = c
        cost = self.value(cost)
        if cost not in nt.COSTS:
            self.fail(r"\nabla_a is followed by the cost: \nabla_a C", tok.start_pos)
        variable = self.value(Base(sub, sub, tok.start_pos) if isinstance(sub, str) else sub)
        if not (isinstance(variable, sp.Indexed) and variable.base in (nt.a, nt.z, nt.w, nt.b)):
            self.fail(r"\nabla is taken with respect to a, z, w or b: \nabla_a C, \nabla_b C, \nabla_{w^{(l)}} C",
                      tok.start_pos)
        if variable == nt.a[nt.L]:
            return nt.grad_a_C()
        return nt.partial(cost, variable)

    def nabla_sub(self, c):
        item = c[0]
        if isinstance(item, Token):
            if str(item) not in ("a", "z", "w", "b"):
                self.fail(r"\nabla is taken with respect to a, z, w or b: \nabla_a C, \nabla_b C", item.start_pos)
            return str(item)
        return item

    def apply(self, c):
        func, arg = c
        value = getattr(self, f"function_{func.name}")(self.value(arg), func.pos)
        if func.power is not None:  # \tanh^2(z)
            value = self.power(value, func.power, func.pos)
        return value

    def function_tanh(self, arg, pos):
        return sp.tanh(arg)

    def function_sign(self, arg, pos):
        return sp.sign(arg)

    def function_exp(self, arg, pos):
        return self.safe(sp.exp, arg, pos)

    def function_ln(self, arg, pos):
        return self.safe(sp.log, arg, pos)

    def function_sigma(self, arg, pos):
        return nt.sigma(arg)

    def function_sigma_prime(self, arg, pos):
        return nt.sigma_prime(arg)

    def function_diag_sigma_prime(self, arg, pos):
        r"""Nielsen's Σ'(z) = diag(σ'(z)); on a number, σ'(z) itself."""
        return self.function_diag(nt.sigma_prime(arg), pos)

    def function_diag(self, arg, pos):
        return nt.Diagonal(arg) if is_matrix_like(arg, self.network) else arg

    def safe(self, function, arg, pos):
        """function(arg), computed in floating point first when arg is a number (e^{1000}, ln(-1))."""
        self.constant(function(arg, evaluate=False), pos)
        return function(arg)

    def func(self, c, name, power=None):
        return Func(name, c[0].start_pos, power)

    def f_sigma(self, c):
        return self.func(c, "sigma")

    def f_sigma_prime(self, c):
        return self.func(c, "sigma_prime")

    def f_diag_sigma_prime(self, c):
        return self.func(c, "diag_sigma_prime")

    def f_diag(self, c):
        return self.func(c, "diag")

    def f_exp(self, c):
        return self.func(c, "exp")

    def f_ln(self, c):
        return self.func(c, "ln")

    def f_tanh(self, c):
        return self.func(c, "tanh")

    def f_sign(self, c):
        return self.func(c, "sign")

    def f_tanh_power(self, c):
        return self.func(c, "tanh", self.number_value(c[-1]))

    # meaning of a letter with its scripts -------------------------------------------------------
    def atom_value(self, tok):
        """A single token used as a value: a number or a layer letter (in a sum's bound)."""
        if tok.type == "NUMBER":
            return self.number_value(tok)
        return self.base_value(self.letter([tok]), [])

    def index_atom(self, atom, pos, allow_layer=False):
        if atom.isdigit():
            return sp.Integer(int(atom))
        if atom in INDEX_LETTERS:
            return nt.index_symbol(atom)
        if allow_layer and atom in LAYER_SYMBOLS:
            return LAYER_SYMBOLS[atom]
        self.fail(f"'{atom}' is not a neuron index (use {', '.join(INDEX_LETTERS)} or a number)", pos)

    def indices(self, sub, expected, name, allow_layer=False):
        """The neuron indices of a subscript: _j, _{jk}, _{j,k}, _{01}, _{k+1}."""
        entries = list(sub.entries)
        if len(entries) == 1 and expected > 1 and len(entries[0][0]) == 1 and entries[0][0][0].isdigit() \
                and len(entries[0][0][0]) == expected:
            entries = [((ch,), 0) for ch in entries[0][0][0]]  # _{01}: j = 0, k = 1
        out = []
        for atoms, offset in entries:
            if len(atoms) > 1 and len(entries) > 1:
                self.fail(f"write the indices of {name} as _{{jk}} or _{{j,k}}", sub.pos)
            for i, atom in enumerate(atoms):
                value = self.index_atom(atom, sub.pos, allow_layer)
                out.append(value + offset if i == len(atoms) - 1 else value)
        if len(out) != expected:
            what = {1: "one neuron index", 2: "two neuron indices"}[expected]
            example = "w^{(l)}_{jk}" if expected == 2 else f"{name}_j"
            self.fail(f"{name} takes {what} ({example}), got {len(out)}", sub.pos)
        return out

    def layer_from_sup(self, sup, name):
        if sup.kind == "letter":
            tok = str(sup.value)
            if tok in LAYER_SYMBOLS:
                return LAYER_SYMBOLS[tok]
            self.fail(f"the superscript of {name} is its layer (L, L-1, l, l+1 or a number), not '{tok}'", sup.pos)
        if sup.kind == "number":
            return self.number_value(sup.value)
        if sup.kind == "expr":
            layer = sup.value
            if isinstance(layer, Base):
                layer = self.base_value(layer, [])
            if isinstance(layer, sp.Expr) and layer.free_symbols <= {nt.L, nt.l} and layer.is_polynomial(nt.L, nt.l) \
                    and all(cf.is_Integer for cf in sp.Poly(layer, nt.L, nt.l).coeffs()) \
                    and sp.Poly(layer, nt.L, nt.l).total_degree() <= 1:
                return layer
        self.fail(f"the superscript of {name} must be its layer: L, L-1, l, l+1 or a number", sup.pos)

    def base_value(self, base, items):
        """A letter with its scripts, by what the letter is: one ``base_<kind>`` method per kind."""
        subs = [i for i in items if isinstance(i, Sub)]
        sups = [i for i in items if isinstance(i, Sup)]
        if any(isinstance(i, Prime) for i in items):
            self.fail(f"a prime ' after {base.name} is not understood (only \\sigma' is)", base.pos)
        if len(subs) > 1:
            self.fail(f"{base.name} has two subscripts", subs[1].pos)
        letter = nt.BY_NAME.get(base.kind)
        kind = "layered" if letter is not None and letter.lowest_layer is not None else base.kind
        return getattr(self, f"base_{kind}")(base, subs[0] if subs else None, sups)

    @staticmethod
    def _is_layer(sup):
        return sup.kind in ("expr", "letter", "number")

    def base_layered(self, base, sub, sups):
        """a, z, w, b, \\delta: the first superscript is the layer, the subscript the neurons."""
        name = r"\delta" if base.kind == "delta" else base.name
        if sups and self._is_layer(sups[0]):
            layer, sups = self.layer_from_sup(sups[0], name), sups[1:]
        elif base.kind == "delta" and sub is not None and self._index_count(sub) == 2:
            return self.apply_scripts(self.kronecker(sub), sups)
        else:
            layer = nt.L
            self.notes.append(f"{name} has no layer superscript: read as layer L")
        return self.apply_scripts(self.element(nt.BY_NAME[base.kind].base, layer, sub, name), sups)

    @staticmethod
    def _index_count(sub):
        """How many neuron indices a subscript holds: _{ij} and _{i,j} two, and _{01} two digits."""
        entries = list(sub.entries)
        if len(entries) == 1 and len(entries[0][0]) == 1 and str(entries[0][0][0]).isdigit():
            return len(str(entries[0][0][0]))
        return sum(len(atoms) for atoms, _ in entries)

    def kronecker(self, sub):
        """δ_{ij} with two neuron indices and no layer: Kronecker's delta, 1 when i = j, else 0 (the
        softmax Jacobian a_i(δ_{ij} − a_j)); δ_j alone stays the error δ^{(L)}_j."""
        first, second = self.indices(sub, 2, r"\delta")
        if first.is_Integer and second.is_Integer:
            return sp.Integer(int(first == second))
        self.notes.append(f"δ_{{{first}{second}}} (two indices, no layer) is the Kronecker delta: 1 when "
                          f"{first} = {second}, else 0")
        return sp.KroneckerDelta(first, second)

    def element(self, base, layer, sub, name):
        if sub is None:
            return self.interned(base[layer])  # the whole layer, or the lectures' one-neuron shorthand
        return self.interned(base[(layer, *self.indices(sub, nt.letter(base).neurons, name))])

    def interned(self, element):
        """One object for each quantity however often it is written, so that later steps meet it by
        identity (cheap) rather than by SymPy's structural equality."""
        return self.elements.setdefault(element, element)

    def base_x(self, base, sub, sups):
        """x is the input a^{(0)}."""
        if sups and self._is_layer(sups[0]):
            self.fail("x is the input a^{(0)}; it has no layer superscript", sups[0].pos)
        return self.apply_scripts(self.element(nt.a, sp.Integer(0), sub, "x"), sups)

    def base_y(self, base, sub, sups):
        value = nt.target if sub is None else nt.y[self.indices(sub, 1, "y")[0]]
        return self.apply_scripts(value, sups)

    def base_C(self, base, sub, sups):
        if sups:
            self.fail("C is the cost; it takes no superscript", sups[0].pos)
        if sub is None:
            return nt.C
        if len(sub.entries) == 1 and sub.entries[0][0] in (("0",), ("x",)) and not sub.entries[0][1]:
            return COST_SUBSCRIPTS[sub.entries[0][0][0]]
        self.fail("the cost is C, C_0 or C_x", sub.pos)

    def base_n(self, base, sub, sups):
        """n_l, the width of layer l; n alone, the number of training examples."""
        if sub is None:
            return self.apply_scripts(nt.n_examples, sups)
        if len(sub.entries) != 1 or len(sub.entries[0][0]) != 1:
            self.fail("n_l is the width of layer l: write n_L, n_{L-1}, n_l or n_2", sub.pos)
        (atoms, offset), = sub.entries
        layer = self.index_atom(atoms[0], sub.pos, allow_layer=True)
        if nt.is_index_symbol(layer):
            self.fail("the subscript of n is a layer (L, L-1, l or a number)", sub.pos)
        return self.apply_scripts(nt.n[layer + offset], sups)

    def base_lam(self, base, sub, sups):
        """\\lambda, the regularisation strength."""
        if sub is not None:
            self.fail("\\lambda is the regularisation strength; it takes no subscript", sub.pos)
        if not self.network.regularisation:
            self.fail("\\lambda is the regularisation strength, and this network has none; add --l2 or --l1 "
                      "(e.g. --l2 0.1)", base.pos)
        return self.apply_scripts(nt.lam, sups)

    def base_e(self, base, sub, sups):
        if sub is not None:
            self.fail("e takes no subscript", sub.pos)
        if sups and self._is_layer(sups[0]):
            return self.apply_scripts(self.safe(sp.exp, self.sup_value(sups[0]), sups[0].pos), sups[1:])
        return self.apply_scripts(sp.E, sups)

    def base_layer(self, base, sub, sups):
        """L or l alone: only meaningful inside a script (checked once the formula is read)."""
        if sub or sups:
            self.fail(f"'{base.name}' is a layer number (write it as a superscript, a^{{(L)}}); it cannot carry "
                      "scripts", base.pos)
        return LAYER_SYMBOLS[base.name]

    def base_index(self, base, sub, sups):
        if sub or sups:
            self.fail(f"'{base.name}' is a neuron index (write it as a subscript, a_{base.name}); it cannot carry "
                      "scripts", base.pos)
        return nt.index_symbol(base.name)

    def base_T(self, base, sub, sups):
        if sub or sups:
            self.fail("'T' is not a quantity; it cannot carry scripts", base.pos)
        return sp.Symbol("T")

    def sup_value(self, sup):
        if sup.kind == "expr":
            return self.value(sup.value)
        if sup.kind == "number":
            return self.number_value(sup.value)
        if sup.kind == "letter":
            return self.value(self.letter([sup.value]))
        self.fail("this superscript is not understood here", sup.pos)

    def apply_scripts(self, value, items):
        """Superscripts after the layer: powers, ^T; a subscript here has no meaning."""
        powers = 0
        for item in items:
            if isinstance(item, Sub):
                self.fail("a subscript here is not understood (neuron indices go on a, z, w, b, y, \\delta)", item.pos)
            if isinstance(item, Prime):
                self.fail("a prime ' is only understood on \\sigma'", item.pos)
            if item.kind == "top" or (item.kind == "letter" and str(item.value) == "T") or (
                    item.kind == "expr" and item.value == sp.Symbol("T")):
                value = nt.Transposed(value) if is_matrix_like(value, self.network) else value
                continue
            if item.kind == "prime":
                self.fail("^{\\prime} is only understood on \\sigma", item.pos)
            powers += 1
            if powers > 1:
                self.fail("two powers in a row (a double superscript): write (x^2)^3 or x^{6}", item.pos)
            value = self.power(value, self.sup_value(item), item.pos)
        return value

    def power(self, value, exponent, pos):
        if is_matrix_like(value, self.network):
            self.fail("a power of a vector or matrix is not understood (use \\odot for elementwise products)", pos)
        if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
            self.fail(f"the exponent {exponent} is too large (at most {MAX_EXPONENT})", pos)
        if exponent.free_symbols & ({nt.L, nt.l, sp.Symbol("T")} | set(map(nt.index_symbol, INDEX_LETTERS))):
            self.fail("this exponent is not understood", pos)
        self.constant(sp.Pow(value, exponent, evaluate=False), pos)
        if value.is_Rational and exponent.is_Integer and exact_digits(value) * abs(int(exponent)) > MAX_EXACT_DIGITS:
            self.fail(f"this power of a number would have more than {MAX_EXACT_DIGITS} digits written out exactly; "
                      "write the number with fewer digits, or as a power of 10", pos)
        return sp.Pow(value, exponent)

    # derivatives ------------------------------------------------------------------------------
    def variable(self, den):
        """What a derivative is taken with respect to: a w, b, z or a of the network."""
        variable = self.value(den.expr)
        if variable == nt.target or (isinstance(variable, sp.Indexed) and variable.base == nt.y):
            self.fail("y is the desired output, fixed by the training example: nothing to differentiate by", den.pos)
        if not (isinstance(variable, sp.Indexed) and variable.base in nt.LAYERED and variable.base != nt.delta):
            self.fail("the bottom of a derivative must be one of w, b, z, a (e.g. \\partial w^{(L)}_{jk})", den.pos)
        return variable

    def derivative(self, num, den):
        variable = self.variable(den)
        numerator = self.value(num.expr)
        if numerator in nt.COSTS or (isinstance(numerator, sp.Indexed) and numerator.base in (nt.a, nt.z)):
            return nt.partial(numerator, variable)
        return Differentiated(self.differentiate(numerator, variable, num.pos), num.pos)

    def differentiate(self, expr, variable, pos):
        r"""∂expr/∂variable by SymPy's diff, where the network adds nothing to it: every quantity in
        ``expr`` is either ``variable``'s own kind and layer or does not depend on it."""
        if expr.has(sp.Derivative, nt.grad_a_C) or any(e.base == nt.delta for e in expr.atoms(sp.Indexed)) \
                or any(s in nt.COSTS for s in expr.free_symbols):
            self.fail(r"only an expression of a, z, w, b and y can be differentiated here; for the cost write "
                      r"\frac{\partial C_0}{\partial ...}", pos)
        if is_matrix_like(expr, self.network) or is_matrix_like(variable, self.network):
            self.fail("the derivative of a vector or matrix expression is not read; write it for one neuron, e.g. "
                      r"\frac{\partial}{\partial a^{(L)}_j} (a^{(L)}_j - y_j)^2", pos)
        for element in sorted(expr.atoms(sp.Indexed), key=sp.default_sort_key):
            if element.base == variable.base and len(element.indices) != len(variable.indices):
                self.fail(f"{printing.latex(element)} and {printing.latex(variable)} need the same neuron indices to be "
                          "differentiated one by the other (both with _j, or both without)", pos)
            if self.depends_through_network(element, variable):
                self.fail(f"{printing.latex(element)} depends on {printing.latex(variable)} through the network, so "
                          f"this derivative needs the chain rule; write it as a product of derivatives such as "
                          f"\\frac{{\\partial z}}{{\\partial w}}", pos)
        result = summed_out(sp.diff(plain(expr), variable))
        if result.has(sp.Derivative, sp.Subs):
            self.fail("the derivative of σ' (a second derivative) is not read", pos)
        self.notes.append(f"∂({printing.text(expr)})/∂{printing.text(variable)} read as its derivative, "
                          f"{printing.text(result)}")
        return result

    def depends_through_network(self, element, variable):
        """True when the network computes ``element`` from ``variable`` (z^{(m)} from w^{(m)}, a^{(m)} from
        a^{(m-1)} ...), or when that cannot be told; the same kind and layer is a direct dependence."""
        kind, var_kind = nt.letter(element).name, nt.letter(variable).name
        if kind in ("w", "b", "y", "n"):
            return False
        if kind == "delta":
            return True
        if element.base == variable.base and element.indices[0] == variable.indices[0]:
            return False
        gap = nt.concrete_layer(element.indices[0] - variable.indices[0], self.network.depth)
        if not gap.is_Integer:
            return True
        gap = int(gap)
        if var_kind in ("w", "b"):
            return gap >= 0
        if kind == "a" and var_kind == "z":
            return gap >= 0
        return gap > 0


_FRIENDLY = {"RPAR": "')'", "LPAR": "'('", "RBRACE": "'}'", "LBRACE": "'{'", "RSQB": "']'", "LSQB": "'['",
             "EQUAL": "'='", "PLUS": "'+'", "MINUS": "'-'", "LETTER": "a letter", "NUMBER": "a number",
             "CARET": "'^'", "UNDERSCORE": "'_'", "COMMA": "','", "SLASH": "'/'", "QUOTE": "a prime '",
             "MUL": r"\cdot", "ODOT": r"\odot", "FRAC": r"\frac", "OVER": r"\over", "PARTIAL": r"\partial",
             "SIGMA": r"\sigma", "CAPITAL_SIGMA": r"\Sigma'", "DIAG": r"\operatorname{diag}", "DELTA": r"\delta",
             "NABLA": r"\nabla", "SUM": r"\sum", "EXP": r"\exp", "LN": r"\ln", "TANH": r"\tanh", "ELL": r"\ell",
             "LAMBDA": r"\lambda", "SIGN": r"\operatorname{sgn}",
             "ROMAN_E": r"\mathrm{e}", "TOP": "^T", "PRIME_CMD": r"\prime", "BOLD": r"\mathbf", "$END": "the end"}
_TOKEN_HINTS = {
    "OVER": r"\over is read inside braces, {\partial C_0 \over \partial w^{(L)}}; or write \frac{\partial C_0}"
            r"{\partial w^{(L)}}",
    "CAPITAL_SIGMA": r"\Sigma is read as Nielsen's \Sigma'(z) = diag(\sigma'(z)); a sum is \sum_j",
    "TOP": "^T goes right after what it transposes, as in (a^{(L-1)})^T",
    "CARET": "a power or a superscript needs something before it",
}
_CHARACTER_HINTS = {"|": r"absolute values are not read (for L1's slope w/|w| write \operatorname{sgn}(w))", "<": "verify reads equations (=), not inequalities",
                    ">": "verify reads equations (=), not inequalities", "!": "factorials are not read",
                    "\\": "a backslash starts a command, e.g. \\frac or \\sigma"}


def friendly(terminal):
    """A grammar terminal as a student knows it ('\\frac', a number, ')'), or None."""
    if terminal in _FRIENDLY:
        return _FRIENDLY[terminal]
    for t in grammar().terminals:
        if t.name == terminal and isinstance(t.pattern, PatternStr):
            return f"'{t.pattern.value}'"
    return None


def _syntax_error(e, text):
    pos = getattr(e, "pos_in_stream", None)
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        return FormulaError(f"the formula ends too early: a bracket, a brace or a term is missing (column "
                            f"{len(text.rstrip()) + 1})", formula=text, position=len(text.rstrip()))
    if isinstance(e, UnexpectedCharacters):
        ch = text[pos]
        hint = f"; {_CHARACTER_HINTS[ch]}" if ch in _CHARACTER_HINTS else ""
        return formula_error(f"cannot read '{shown(ch)}' here{hint}", text, pos)
    if isinstance(e, UnexpectedToken):
        if text[:e.token.start_pos].rstrip().endswith("\\Sigma"):  # \Sigma_j for \sum_j
            return formula_error(_TOKEN_HINTS["CAPITAL_SIGMA"], text, e.token.start_pos)
        if e.token.type in _TOKEN_HINTS:
            return formula_error(f"unexpected '{shown(str(e.token), 30)}': {_TOKEN_HINTS[e.token.type]}", text,
                                 e.token.start_pos)
        expected = sorted({f for f in map(friendly, e.expected) if f})
        hint = f"; expected {', '.join(expected)}" if expected and len(expected) <= 6 else ""
        return formula_error(f"unexpected '{shown(str(e.token), 30)}'{hint}", text, e.token.start_pos)
    return formula_error("cannot read the formula", text, pos)


def _tree_depth(tree):
    """The depth of a Lark tree, without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in getattr(node, "children", ()) if hasattr(child, "children"))
    return deepest


def parse(text, network):
    """``text`` as a :class:`Formula` of SymPy sides, or a :class:`FormulaError` saying why not."""
    clean = prepare(text)
    if "=" not in clean:
        raise FormulaError(r"not an equation: write the derivative, '=', and its value, e.g. "
                           r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)", formula=text)
    try:
        tree = grammar().parse(clean)
    except UnexpectedInput as e:
        raise _syntax_error(e, text) from None
    if _tree_depth(tree) > MAX_TREE_DEPTH:
        raise FormulaError("the formula is nested too deeply to read; write it with fewer nested functions, "
                           "fractions and brackets", formula=text)
    transformer = ToSympy(text, network)
    try:
        sides = transformer.transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, FormulaError):
            raise e.orig_exc from None
        if isinstance(e.orig_exc, RecursionError):
            raise FormulaError("the formula is nested too deeply to read; write it with fewer nested functions, "
                               "fractions and brackets", formula=text) from None
        raise e.orig_exc from None  # the time limit's interruption, or a bug: as itself, never wrapped by Lark
    deepest = max(depth_of(side) for side in sides)
    if deepest > MAX_DEPTH:
        raise FormulaError(f"the formula is nested {deepest} levels deep; verify reads at most {MAX_DEPTH}",
                           formula=text)
    return Formula(text, sides, list(dict.fromkeys(transformer.notes)))
