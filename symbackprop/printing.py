"""Printers that write SymPy expressions in the project's notation.

``latex(expr)`` gives ``w^{(L)}_{jk}``, ``\\sigma'(z^{(l)}_j)``, ``\\frac{\\partial C_0}{\\partial
a^{(L-1)}}``; ``text(expr)`` gives the same in plain Unicode for terminals.  Both are SymPy
printers with one ``_print_<Class>`` method per construct, as SymPy's own printers are built.
"""

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from . import notation as nt


def _joined_indices(parts):
    """'jk' when every index is one character (as the lectures write w_{jk}), else 'j,k'."""
    return ("" if all(len(p) == 1 for p in parts) else ",").join(parts)


class OrderedMul(sp.Mul):
    """A product whose printers keep the factors in the order they were given.

    A chain rule reads left to right (∂z/∂w · ∂a/∂z · ∂C/∂a); SymPy's Mul would sort it.
    Arithmetic on it behaves as on any Mul.
    """


def ordered_product(*factors):
    """A product that prints its factors in the given order; factors equal to 1 are dropped."""
    factors = [f for f in factors if f != 1]
    if not factors:
        return sp.Integer(1)
    return factors[0] if len(factors) == 1 else OrderedMul(*factors, evaluate=False)


class OrderedAdd(sp.Add):
    """A sum whose printers keep the terms in the given order: z = w a + b, not b + a w."""


def ordered_sum(*terms):
    terms = [t for t in terms if t != 0]
    return terms[0] if len(terms) == 1 else OrderedAdd(*terms, evaluate=False)


def rebuilt(expr, args):
    """``expr`` rebuilt from new ``args``, an ordered product or sum staying in its order.

    SymPy rebuilds with ``expr.func(*args)``, which sorts an OrderedMul like any Mul; code
    that walks an expression and changes parts of it rebuilds with this instead.
    """
    if isinstance(expr, OrderedMul):
        return ordered_product(*args)
    if isinstance(expr, OrderedAdd):
        return ordered_sum(*args)
    return expr.func(*args)


def ordered_xreplace(expr, mapping):
    """``expr.xreplace(mapping)`` that keeps ordered products and sums in their order, at any depth."""
    if expr in mapping:
        return mapping[expr]
    if not expr.has(OrderedMul, OrderedAdd):
        return expr.xreplace(mapping)
    return rebuilt(expr, [ordered_xreplace(a, mapping) for a in expr.args])


_PLAIN = {}
MAX_PLAIN = 4096
"""Results of ``plain`` remembered: the verifier asks again for the same right-hand side."""


def plain(expr):
    """``expr`` with every OrderedMul/OrderedAdd turned back into SymPy's Mul/Add.

    The ordered forms exist for display only; SymPy does not treat an OrderedMul and a Mul
    with the same factors as equal, so anything that computes calls this first.  One pass over
    the tree; a node none of whose arguments changed is kept as it is (a Sum is costly to rebuild).
    """
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    if expr not in _PLAIN:
        if len(_PLAIN) > MAX_PLAIN:
            _PLAIN.clear()
        _PLAIN[expr] = _plain(expr)
    return _PLAIN[expr]


def _plain(expr):
    if not expr.args:
        return expr
    args = tuple(_plain(a) for a in expr.args)
    if isinstance(expr, OrderedMul):
        return sp.Mul(*args)
    if isinstance(expr, OrderedAdd):
        return sp.Add(*args)
    if all(new is old for new, old in zip(args, expr.args)):
        return expr
    return expr.func(*args)


def _factor(printer, factor, last, brackets):
    """A factor of a product; a sum Σ that is not the last factor gets brackets, so that
    (Σ_k w δ) σ' cannot be read as Σ_k (w δ σ')."""
    if isinstance(factor, sp.Sum) and not last:
        return brackets.format(printer._print(factor))
    return printer.parenthesize(factor, PRECEDENCE["Mul"], strict=True)


def _positive_first(printer, expr):
    """Terms of a sum with the positive ones first, as people write a − y rather than −y + a."""
    terms = printer._as_ordered_terms(expr, order=None)
    return sorted(terms, key=lambda t: t.could_extract_minus_sign())


def _compact(s):
    return s.replace(" ", "")


HUGE_BITS = 3300
"""Integers longer than this (about 1,000 digits) are described, not written out: Python refuses to
convert one of more than 4,300 digits to text, and no formula needs one."""


def _huge(number):
    """'a number of about 6001 digits' for a rational number too long to write out, else None."""
    bits = max(abs(int(number.p)).bit_length(), int(number.q).bit_length())
    return f"a number of about {int(bits * 0.30103) + 1} digits" if bits > HUGE_BITS else None


def _hadamard_factor(printer, factor, brackets):
    """A factor of X ⊙ Y: a matrix product or a sum gets brackets, (w^T δ) ⊙ σ'(z)."""
    if isinstance(factor, (nt.MatrixProduct, sp.Add, sp.Mul)):
        return brackets.format(printer._print(factor))
    return printer._print(factor)


_GREEK = {r"\sigma": "σ", r"\delta": "δ"}


def _plain_name(latex_name):
    r"""\operatorname{ReLU} -> ReLU, \tanh -> tanh, \sigma -> σ."""
    if latex_name in _GREEK:
        return _GREEK[latex_name]
    inner = latex_name[len(r"\operatorname{"):-1] if latex_name.startswith(r"\operatorname{") else latex_name
    return inner.lstrip("\\")


class _Sums:
    """What both printers do with a sum: its terms in the order built (OrderedAdd) or positive first,
    a term's minus sign pulled out into the operator; ``_term`` prints one term in the target's way."""

    def _print_OrderedAdd(self, expr):
        return self._print_Add(expr, keep=True)

    def _print_Add(self, expr, order=None, keep=False):
        out = ""
        for i, term in enumerate(expr.args if keep else _positive_first(self, expr)):
            if i and term.could_extract_minus_sign():
                out += " - "
                term = -term
            elif i:
                out += " + "
            out += self._term(term)
        return out


class NotationLatexPrinter(_Sums, LatexPrinter):
    """LaTeX in the lectures' notation: layers as parenthesised superscripts."""

    printmethod = "_symbackprop_latex"  # our _print_ methods win over the classes' own

    def _layer(self, layer):
        return _compact(self._print(layer))

    def _print_Indexed(self, expr):
        letter = nt.letter(expr)
        base = letter.latex if letter else str(expr.base.label)
        idx = list(expr.indices)
        if expr.base in nt.LAYERED:
            sup = f"^{{({self._layer(idx.pop(0))})}}"
        else:
            sup = ""
        if not idx:
            return base + sup
        sub = _joined_indices([_compact(self._print(i)) for i in idx])
        return f"{base}{sup}_{{{sub}}}"

    def _print_Derivative(self, expr):
        (var, count), = expr.variable_count
        num = self._print(expr.expr)
        return rf"\frac{{\partial {num}}}{{\partial {self._print(var)}}}"

    def _print_Rational(self, expr):
        huge = _huge(expr)
        return rf"\text{{({huge})}}" if huge else super()._print_Rational(expr)

    def _print_Integer(self, expr):
        huge = _huge(expr)
        return rf"\text{{({huge})}}" if huge else super()._print_Rational(expr)

    def _print_Pow(self, expr, *args, **kwargs):
        # a^{(L)}_{j} squared: bracket the base, or TeX sees a double superscript
        if isinstance(expr.base, sp.Indexed) and expr.base.base in nt.LAYERED \
                and expr.exp.is_Integer and expr.exp > 1:
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr, *args, **kwargs)

    def _print_OrderedMul(self, expr):
        out = ""
        for i, f in enumerate(expr.args):
            piece = _factor(self, f, i == len(expr.args) - 1, r"\left({}\right)")
            # juxtaposed, σ'(z) 2(a - y) would read like a power or one number: a dot before digits
            out += piece if not i else (r" \cdot " if piece[:1].isdigit() else " ") + piece
        return out

    def _term(self, term):
        piece = self._print(term)
        return rf"\left({piece}\right)" if self._needs_add_brackets(term) else piece

    def _print_Sum(self, expr):
        """Σ with several limits as several Σ, outermost first (SymPy would stack the limits)."""
        if len(expr.limits) == 1:
            return super()._print_Sum(expr)
        sums = "".join(rf"\sum_{{{self._print(var)}={self._print(low)}}}^{{{self._print(high)}}} "
                       for var, low, high in reversed(expr.limits))
        return sums + self.parenthesize(expr.function, PRECEDENCE["Mul"], strict=True)

    def _print_sigma(self, expr, exp=None):
        power = f"^{{{exp}}}" if exp else ""
        return rf"\sigma{power}({self._print(expr.args[0])})"

    def _print_sigma_prime(self, expr, exp=None):
        return rf"\sigma'({self._print(expr.args[0])})" + (f"^{{{exp}}}" if exp else "")

    def _print_grad_a_C(self, expr, exp=None):
        return r"\nabla_a C" if exp is None else rf"\left(\nabla_a C\right)^{{{exp}}}"

    def _print_MatrixProduct(self, expr, exp=None):
        out = " ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in expr.args)
        return out if exp is None else rf"\left({out}\right)^{{{exp}}}"

    def _print_Transposed(self, expr, exp=None):
        out = rf"\left({self._print(expr.args[0])}\right)^{{T}}"
        return out if exp is None else rf"\left({out}\right)^{{{exp}}}"

    def _print_Hadamard(self, expr, exp=None):
        out = r" \odot ".join(_hadamard_factor(self, a, r"\left({}\right)") for a in expr.args)
        return out if exp is None else rf"\left({out}\right)^{{{exp}}}"

    def _print_Diagonal(self, expr, exp=None):
        out = rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"
        return out if exp is None else rf"\left({out}\right)^{{{exp}}}"

    def _print_AppliedUndef(self, expr, exp=None):
        """A function named in LaTeX (the registries' σ, tanh, ReLU): \\tanh^{2}(z)."""
        name = expr.func.__name__
        if not name.startswith("\\"):
            return super()._print_Function(expr, exp)
        power = f"^{{{exp}}}" if exp else ""
        return f"{name}{power}({', '.join(self._print(a) for a in expr.args)})"

    def _print_tanh(self, expr, exp=None):
        """tanh(z) and tanh²(z) as people write them, not SymPy's \\tanh{\\left(z \\right)}."""
        power = f"^{{{exp}}}" if exp else ""
        return rf"\tanh{power}({self._print(expr.args[0])})"

    def _print_log(self, expr, exp=None):
        """ln(x) with plain parentheses; a power goes on the whole logarithm."""
        out = rf"\ln({self._print(expr.args[0])})"
        return out if exp is None else rf"\left({out}\right)^{{{exp}}}"

    def _print_Heaviside(self, expr, exp=None):
        """θ(x); the value taken at 0 (SymPy's second argument) is stated in words where it matters."""
        out = rf"\theta({self._print(expr.args[0])})"
        return out if exp is None else rf"{out}^{{{exp}}}"


class NotationTextPrinter(_Sums, StrPrinter):
    """The same notation in Unicode text: w^(L)_jk, σ'(z^(L)), ∂C_0/∂a^(L-1)."""

    printmethod = "_symbackprop_text"

    def _print_Indexed(self, expr):
        letter = nt.letter(expr)
        base = letter.text if letter else str(expr.base.label)
        idx = list(expr.indices)
        sup = f"^({_compact(self._print(idx.pop(0)))})" if expr.base in nt.LAYERED else ""
        if not idx:
            return base + sup
        sub = _joined_indices([_compact(self._print(i)) for i in idx])
        return f"{base}{sup}_{sub}" if len(sub) <= 2 and "," not in sub else f"{base}{sup}_{{{sub}}}"

    def _print_Derivative(self, expr):
        (var, count), = expr.variable_count
        return f"∂{self._print(expr.expr)}/∂{self._print(var)}"

    def _print_Rational(self, expr):
        huge = _huge(expr)
        return f"({huge})" if huge else super()._print_Rational(expr)

    def _print_Integer(self, expr):
        huge = _huge(expr)
        return f"({huge})" if huge else super()._print_Integer(expr)

    def _print_OrderedMul(self, expr):
        return "·".join(_factor(self, f, i == len(expr.args) - 1, "({})") for i, f in enumerate(expr.args))

    def _print_Mul(self, expr):
        return super()._print_Mul(expr).replace("**", "^").replace("*", "·")

    def _term(self, term):
        return self.parenthesize(term, PRECEDENCE["Add"], strict=True)

    def _print_Pow(self, expr, rational=False):
        if isinstance(expr.base, nt.grad_a_C):  # (∇_a C)^2, not ∇_a C^2
            return f"(∇_a C)^{self.parenthesize(expr.exp, PRECEDENCE['Pow'], strict=True)}"
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Sum(self, expr):
        sums = "".join(f"Σ_{{{self._print(var)}={self._print(low)}..{_compact(self._print(high))}}} "
                       for var, low, high in reversed(expr.limits))  # SymPy keeps the inner sum first
        return sums + self.parenthesize(expr.function, PRECEDENCE["Mul"], strict=True)

    def _print_sigma(self, expr):
        return f"σ({self._print(expr.args[0])})"

    def _print_sigma_prime(self, expr):
        return f"σ'({self._print(expr.args[0])})"

    def _print_grad_a_C(self, expr):
        return "∇_a C"

    def _print_MatrixProduct(self, expr):
        return " ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in expr.args)

    def _print_Transposed(self, expr):
        return f"({self._print(expr.args[0])})ᵀ"

    def _print_Hadamard(self, expr):
        return " ⊙ ".join(_hadamard_factor(self, a, "({})") for a in expr.args)

    def _print_Diagonal(self, expr):
        return f"diag({self._print(expr.args[0])})"

    def _print_AppliedUndef(self, expr):
        """A function named in LaTeX (the registries' σ, tanh, ReLU), in plain letters."""
        return f"{_plain_name(expr.func.__name__)}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Heaviside(self, expr):
        return f"θ({self._print(expr.args[0])})"

    def _print_KroneckerDelta(self, expr):
        return f"δ_{''.join(self._print(a) for a in expr.args)}"

    def _print_Symbol(self, expr):
        return {"delta": "δ", "sigma": "σ", "lambda": "λ"}.get(expr.name, expr.name)


_latex = NotationLatexPrinter({"mul_symbol": None, "ln_notation": True})
_text = NotationTextPrinter()


def latex(expr):
    """LaTeX of ``expr`` in the project's notation (an ``Eq`` prints as ``lhs = rhs``)."""
    return _latex.doprint(expr)


def text(expr):
    """Plain Unicode of ``expr`` in the project's notation."""
    return _text.doprint(expr)
