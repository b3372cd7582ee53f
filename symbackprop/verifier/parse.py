"""Read a student's LaTeX formula into SymPy, in ``notation``'s own objects.

``parse(text, network)`` runs the Lark LALR grammar of ``formula.lark`` and the
:class:`ToSympy` transformer (one method per grammar rule).  The result meets the
derivation's symbols without remapping: ``a^{(L-1)}_k`` is ``a[L - 1, k]``, ``w_{jk}^l`` is
``w[l, j, k]``, ``\\frac{\\partial C_0}{\\partial b^{(L)}}`` is ``Derivative(C_0, b[L])``.
Nothing of the user's text is ever evaluated: it is tokenized and parsed, never passed to
``eval``, ``sympify`` or ``parse_expr``.

The network is needed for one decision only: whether a quantity written without a neuron
index (``a^{(L)}``) is the lectures' one-neuron shorthand (a number) or a whole layer (a
vector), so that a product of vectors and matrices keeps the order it was written in.
"""

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import sympy as sp
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from .. import notation as nt
from ..errors import FormulaError
from ..printing import ordered_product
from .guard import formula_error, prescan, strip_delimiters
from .shapes import is_matrix_like, neuron_positions

MAX_EXPONENT = 64
INDEX_LETTERS = nt.INDEX_LETTERS
LAYER_SYMBOLS = {"L": nt.L, "l": nt.l, r"\ell": nt.l}
COST_SUBSCRIPTS = {"0": nt.C0, "x": nt.Cx}
KNOWN_SYMBOLS = ("a, z, w, b, y, x (= a^{(0)}), C (C_0, C_x), n_l (layer width), e, \\delta, \\sigma, "
                 "\\sigma', \\nabla_a C; neuron indices " + ", ".join(INDEX_LETTERS) + "; layers L, l")

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


# The transformer: one method per grammar rule ------------------------------------------------

class ToSympy(Transformer):
    """Grammar tree -> SymPy in ``notation``'s objects, checking meaning as it goes."""

    def __init__(self, text, network):
        super().__init__()
        self.text = text
        self.network = network
        self.notes = []

    def fail(self, message, pos=None):
        raise formula_error(message, self.text, pos)

    # values -------------------------------------------------------------------------------
    def value(self, item):
        """A finished SymPy value; a stray ∂ or a bare letter is an error here."""
        if isinstance(item, Base):
            item = self.base_value(item, [])
        if isinstance(item, PartialOf):
            self.fail(r"\partial only makes sense in a fraction \frac{\partial C}{\partial w}", item.pos)
        return item

    def product(self, factors):
        factors = [self.value(f) for f in factors]
        if sum(1 for f in factors if is_matrix_like(f, self.network)) >= 2:
            return nt.matrix_product(*factors)
        flat = [g for f in factors for g in (f.args if isinstance(f, nt.MatrixProduct) else [f])]
        return ordered_product(*flat)  # printed in the order written, computed as any Mul

    # start, sums and products -------------------------------------------------------------
    def start(self, sides):
        return [self.value(s) for s in sides]

    def add(self, c):
        return sp.Add(self.value(c[0]), self.value(c[1]))

    def sub(self, c):
        return sp.Add(self.value(c[0]), -self.value(c[1]))

    def neg(self, c):
        return -self.value(c[0])

    def mul(self, c):
        return self.product([c[0], c[2]])

    def implicit_mul(self, c):
        return self.product(c)

    def div(self, c):
        num, den = c
        if isinstance(num, PartialOf) and isinstance(den, PartialOf):
            return self.derivative(num, den)
        den = self.value(den)
        if is_matrix_like(den, self.network):
            self.fail("cannot divide by a vector or a matrix")
        return self.value(num) / den

    def hadamard(self, c):
        x, y = self.value(c[0]), self.value(c[2])
        if is_matrix_like(x, self.network) or is_matrix_like(y, self.network):
            return nt.Hadamard(x, y)
        return x * y

    def bigsum(self, c):
        _, (var, lower, upper, pos), body = c
        body = self.value(body)
        if upper is None:
            upper = self.sum_upper(var, body, pos)
        return sp.Sum(body, (var, lower, upper))

    def sum_upper(self, var, body, pos):
        """Σ_j without bounds runs over the neurons of the layer j indexes in the sum."""
        for element in sorted(body.atoms(sp.Indexed), key=sp.default_sort_key):
            for index, layer in neuron_positions(element):
                if index == var:
                    return nt.n[layer] - 1
        self.fail(f"\\sum_{var}: {var} indexes no neuron inside the sum (write e.g. \\sum_{var} a^{{(L)}}_{var})", pos)

    def limits_free(self, c):
        var, pos = c[0]
        return var, sp.Integer(0), None, pos

    def limits_range(self, c):
        (var, pos), lower, upper = c
        return var, self.bound_value(lower), self.bound_value(upper), pos

    def bound_value(self, item):
        item = self.value(item)
        if item.xreplace({e: sp.Integer(0) for e in item.atoms(sp.Indexed) if e.base == nt.n}).free_symbols - {nt.L, nt.l}:
            self.fail(f"a sum's bound must be a number or a layer width like n_L - 1, not {item}")
        return item

    def sum_var(self, c):
        tok = c[0]
        if tok == "x":
            self.fail("a sum over the training examples x is not checked: verify compares the derivative for one "
                      "example, ∂C_0/∂w (the full gradient averages it over the examples)", tok.start_pos)
        if tok not in INDEX_LETTERS:
            self.fail(f"the summation index must be a neuron index ({', '.join(INDEX_LETTERS)}), not '{tok}'",
                      tok.start_pos)
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
            return self.base_value(primary, items)
        if isinstance(primary, PartialOf):
            if items:
                self.fail("a script after \\partial X is not understood", items[0].pos)
            return primary
        return self.apply_scripts(primary, items)

    def script_sub(self, c):
        tok, entries = c
        return Sub(entries, tok.start_pos)

    def sup(self, c):
        tok, (kind, value) = c
        return Sup(kind, value, tok.start_pos)

    def prime(self, c):
        return Prime(None)

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
        return "expr", self.value(c[0]) if not isinstance(c[0], Base) else c[0]

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
        return self.value(c[0])

    def letter(self, c):
        tok = c[0]
        name = str(tok)
        if name in nt.BY_NAME and nt.BY_NAME[name].lowest_layer is not None or name == "x":
            return Base(name, name, tok.start_pos)
        if name in ("y", "C", "n", "e", "T"):
            return Base(name, name, tok.start_pos)
        if name in LAYER_SYMBOLS:
            return Base("layer", name, tok.start_pos)
        if name in INDEX_LETTERS:
            return Base("index", name, tok.start_pos)
        hint = r"; write \partial for the derivative" if name == "d" else ""
        self.fail(f"unknown symbol '{name}'{hint}; known: {KNOWN_SYMBOLS}", tok.start_pos)

    def number(self, c):
        return self.number_value(c[0])

    def number_value(self, tok):
        value = Fraction(str(tok))
        return sp.Rational(value.numerator, value.denominator)

    def delta(self, c):
        return Base("delta", "delta", c[0].start_pos)

    def frac(self, c):
        tok, num, den = c
        if isinstance(num, PartialOf) and isinstance(den, PartialOf):
            return self.derivative(num, den)
        if isinstance(num, PartialOf) or isinstance(den, PartialOf):
            self.fail(r"a derivative needs \partial on top and below: \frac{\partial C}{\partial w}", tok.start_pos)
        return self.div([num, den])

    def frac_digits(self, c):
        tok, digits = c
        if len(digits) != 2 or not digits.isdigit():
            self.fail(r"write \frac{numerator}{denominator}", tok.start_pos)
        return sp.Rational(int(digits[0]), int(digits[1])) if digits[1] != "0" else self.fail(
            "division by zero", tok.start_pos)

    def partial(self, c):
        tok, inner = c
        return PartialOf(self.value(inner) if not isinstance(inner, PartialOf) else inner, tok.start_pos)

    def nabla(self, c):
        tok, _, sub, cost = c
        cost = self.value(cost)
        if cost not in nt.COSTS:
            self.fail(r"\nabla_a is followed by the cost: \nabla_a C", tok.start_pos)
        if sub not in ("a", nt.a[nt.L]):
            self.fail(r"only \nabla_a C (the gradient with respect to the output activations) is understood",
                      tok.start_pos)
        return nt.grad_a_C()

    def nabla_sub(self, c):
        item = c[0]
        if isinstance(item, Token):
            return str(item)
        if isinstance(item, Base):
            return item.name
        return self.value(item)

    def apply(self, c):
        func, arg = c
        arg = self.value(arg)
        if isinstance(func, tuple):  # \tanh^2(z)
            return sp.Pow(sp.tanh(arg), func[1])
        if func == "tanh":
            return sp.tanh(arg)
        if func == "exp":
            return sp.exp(arg)
        if func == "ln":
            return sp.log(arg)
        return {"sigma": nt.sigma, "sigma_prime": nt.sigma_prime}[func](arg)

    def f_sigma(self, c):
        return "sigma"

    def f_sigma_prime(self, c):
        return "sigma_prime"

    def f_exp(self, c):
        return "exp"

    def f_ln(self, c):
        return "ln"

    def f_tanh(self, c):
        return "tanh"

    def f_tanh_power(self, c):
        power = self.number_value(c[-1])
        if abs(power) > MAX_EXPONENT:
            self.fail(f"the exponent {power} is too large (at most {MAX_EXPONENT})", c[-1].start_pos)
        return ("tanh", power)

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
        else:
            layer = nt.L
            self.notes.append(f"{name} has no layer superscript: read as layer L")
        return self.apply_scripts(self.element(nt.BY_NAME[base.kind].base, layer, sub, name), sups)

    def element(self, base, layer, sub, name):
        if sub is None:
            return base[layer]  # the whole layer, or the lectures' one-neuron shorthand
        return base[(layer, *self.indices(sub, nt.letter(base).neurons, name))]

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
        """n_l, the width of layer l."""
        if sub is None:
            self.fail("n alone is not used: n_l is the width of layer l (n_L, n_{L-1}, n_l), and the number of "
                      "training examples does not enter the derivative for one example, which verify checks",
                      base.pos)
        if len(sub.entries) != 1 or len(sub.entries[0][0]) != 1:
            self.fail("n_l is the width of layer l: write n_L, n_{L-1}, n_l or n_2", sub.pos)
        (atoms, offset), = sub.entries
        layer = self.index_atom(atoms[0], sub.pos, allow_layer=True)
        if nt.is_index_symbol(layer):
            self.fail("the subscript of n is a layer (L, L-1, l or a number)", sub.pos)
        return self.apply_scripts(nt.n[layer + offset], sups)

    def base_e(self, base, sub, sups):
        if sub is not None:
            self.fail("e takes no subscript", sub.pos)
        if sups and self._is_layer(sups[0]):
            return self.apply_scripts(sp.exp(self.sup_value(sups[0])), sups[1:])
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
            exponent = self.sup_value(item)
            if is_matrix_like(value, self.network):
                self.fail("a power of a vector or matrix is not understood (use \\odot for elementwise products)",
                          item.pos)
            if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
                self.fail(f"the exponent {exponent} is too large (at most {MAX_EXPONENT})", item.pos)
            if exponent.free_symbols & ({nt.L, nt.l, sp.Symbol("T")} | set(map(nt.index_symbol, INDEX_LETTERS))):
                self.fail("this exponent is not understood", item.pos)
            value = sp.Pow(value, exponent)
        return value

    def derivative(self, num, den):
        numerator, variable = num.expr, den.expr
        if isinstance(numerator, PartialOf) or isinstance(variable, PartialOf):
            self.fail("a derivative is \\frac{\\partial X}{\\partial Y}", num.pos)
        if numerator not in nt.COSTS and not (
                isinstance(numerator, sp.Indexed) and numerator.base in (nt.a, nt.z)):
            self.fail("the top of a derivative must be the cost C (C_0, C_x) or an a or z of the network", num.pos)
        if variable == nt.target or (isinstance(variable, sp.Indexed) and variable.base == nt.y):
            self.fail("y is the desired output, fixed by the training example: nothing to differentiate by", den.pos)
        if not (isinstance(variable, sp.Indexed) and variable.base in nt.LAYERED and variable.base != nt.delta):
            self.fail("the bottom of a derivative must be one of w, b, z, a (e.g. \\partial w^{(L)}_{jk})", den.pos)
        return nt.partial(numerator, variable)


_FRIENDLY = {"RPAR": "')'", "LPAR": "'('", "RBRACE": "'}'", "LBRACE": "'{'", "RSQB": "']'", "LSQB": "'['",
             "EQUAL": "'='", "PLUS": "'+'", "MINUS": "'-'", "LETTER": "a letter", "NUMBER": "a number",
             "CARET": "'^'", "UNDERSCORE": "'_'", "COMMA": "','", "SLASH": "'/'", "MUL": r"\cdot",
             "FRAC": r"\frac", "SIGMA": r"\sigma", "DELTA": r"\delta", "PARTIAL": r"\partial", "SUM": r"\sum",
             "$END": "the end"}


@lru_cache(maxsize=1)
def grammar():
    """The Lark LALR parser of ``formula.lark`` (built once per process)."""
    source = (Path(__file__).with_name("formula.lark")).read_text(encoding="utf-8")
    return Lark(source, parser="lalr", maybe_placeholders=False)


def _syntaxformula_error(e, text):
    pos = getattr(e, "pos_in_stream", None)
    if isinstance(e, UnexpectedEOF) or (isinstance(e, UnexpectedToken) and e.token.type == "$END"):
        return FormulaError(f"the formula ends too early: a bracket, a brace or a term is missing (column "
                            f"{len(text.rstrip()) + 1})", formula=text, position=len(text.rstrip()))
    if isinstance(e, UnexpectedCharacters):
        return formula_error(f"cannot read '{text[pos]}' here", text, pos)
    if isinstance(e, UnexpectedToken):
        expected = sorted({_FRIENDLY.get(t, t.lower()) for t in e.expected if not t.startswith("__")})
        hint = f"; expected {', '.join(expected[:6])}" if expected and len(expected) <= 6 else ""
        return formula_error(f"unexpected '{e.token}'{hint}", text, e.token.start_pos)
    return formula_error("cannot read the formula", text, pos)


def parse(text, network):
    """``text`` as a :class:`Formula` of SymPy sides, or a :class:`FormulaError` saying why not."""
    if not isinstance(text, str):
        raise FormulaError("the formula must be text")
    prescan(text)
    clean = strip_delimiters(text)
    if not clean.strip():
        raise FormulaError("empty formula between the math delimiters", formula=text)
    if "=" not in clean:
        raise FormulaError(r"not an equation: write the derivative, '=', and its value, e.g. "
                           r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) 2(a^{(L)} - y)", formula=text)
    try:
        tree = grammar().parse(clean)
    except UnexpectedInput as e:
        raise _syntaxformula_error(e, text) from None
    transformer = ToSympy(text, network)
    try:
        sides = transformer.transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, FormulaError):
            raise e.orig_exc from None
        raise
    return Formula(text, sides, list(dict.fromkeys(transformer.notes)))
