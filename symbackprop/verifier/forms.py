"""The few objects a parsed formula needs beyond ``notation``: ordered matrix products.

SymPy's ``Mul`` sorts its factors and its ``MatrixSymbol`` needs shapes fixed in advance, so
the vector/matrix form a student writes (``(w^{l+1})^T \\delta^{l+1}``, ``\\delta^l
(a^{l-1})^T``, ``\\nabla_a C \\odot \\sigma'(z^L)``) is kept as three unevaluated functions
whose arguments stay in the order written: :class:`MatProd`, :class:`Tr` and :class:`Had`.
Whole-layer quantities are ``notation``'s own ``a[l]``, ``w[l]`` (the layer index only).
Both printers of ``printing`` show them in the project's notation.
"""

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


class MatProd(sp.Function):
    """A product of vectors and matrices in the order written (A B is not B A)."""

    is_commutative = False

    def _symbackprop_latex(self, printer):
        return " ".join(printer.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in self.args)

    def _symbackprop_text(self, printer):
        return " ".join(printer.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in self.args)


class Tr(sp.Function):
    """The transpose X^T."""

    def _symbackprop_latex(self, printer):
        return rf"\left({printer._print(self.args[0])}\right)^{{T}}"

    def _symbackprop_text(self, printer):
        return f"({printer._print(self.args[0])})ᵀ"


class Had(sp.Function):
    """The elementwise (Hadamard) product X ⊙ Y."""

    def _symbackprop_latex(self, printer):
        return r" \odot ".join(printer.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in self.args)

    def _symbackprop_text(self, printer):
        return " ⊙ ".join(printer.parenthesize(a, PRECEDENCE["Mul"], strict=True) for a in self.args)


MATRIX_OPS = (MatProd, Tr, Had)
