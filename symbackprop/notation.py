"""The notation (docs/notation.md), defined once for model, derivation, printers and parser.

Every quantity of the network is a SymPy ``Indexed`` whose *first* index is the layer:

    a[l, j]      activation a^{(l)}_j          (a[l] alone: the whole layer, or the chain's a^{(l)})
    z[l, j]      weighted input z^{(l)}_j
    w[l, j, k]   weight w^{(l)}_{jk} into neuron j of layer l from neuron k of layer l-1
    b[l, j]      bias b^{(l)}_j
    delta[l, j]  error delta^{(l)}_j = dC_0/dz^{(l)}_j
    y[j]         desired output y_j (``target`` alone: the whole target, or the chain's y)
    n[l]         the number of neurons in layer l (printed n_l)

:data:`LETTERS` is the one table of these letters: their printed names, lowest layer and
number of neuron indices; printers, parser, evaluator and diagnosis all read it.

Layers are SymPy expressions: integers for a concrete network, ``L - 2`` relative to the
output layer as the lectures write them, or the generic ``l``.  Because the parser builds the
same objects as the derivation (including the matrix form's :class:`MatrixProduct`,
:class:`Transposed` and :class:`Hadamard`), a parsed answer meets the derivation's symbols
without remapping.
"""

from dataclasses import dataclass

import sympy as sp

L = sp.Symbol("L", integer=True, positive=True)  # the output layer
l = sp.Symbol("l", integer=True, positive=True)  # a generic layer
j = sp.Symbol("j", integer=True, nonnegative=True)  # neuron of layer l
k = sp.Symbol("k", integer=True, nonnegative=True)  # neuron of layer l-1 (or l+1 in BP2)
x = sp.Symbol("x")  # the training example, in sums over examples
n_examples = sp.Symbol("n", integer=True, positive=True)  # the number of training examples
lam = sp.Symbol("lambda", positive=True)  # the regularisation strength λ

a = sp.IndexedBase("a")
z = sp.IndexedBase("z")
w = sp.IndexedBase("w")
b = sp.IndexedBase("b")
delta = sp.IndexedBase("delta")
y = sp.IndexedBase("y")
n = sp.IndexedBase("n")

target = sp.Symbol("y", real=True)
"""The desired output without an index: the chain's y, the whole target vector, or y_j in a
per-neuron formula (a cost term, δᴸ = a − y).  real=True keeps it apart from y[j]'s label."""
output = sp.Symbol("a")
"""One output activation a^{(L)}_j in a per-neuron formula: the cost term c(a, y), its slope, δᴸ."""

C0 = sp.Symbol("C_0")  # cost of one training example
Cx = sp.Symbol("C_x")  # the same, named by its example
C = sp.Symbol("C")  # in a formula: the cost of one example too; the full cost is the average
COSTS = (C0, Cx, C)


@dataclass(frozen=True)
class Letter:
    """One letter of the notation: how it prints and which layers and neurons it takes."""

    base: sp.IndexedBase
    name: str  # the parser's and evaluator's key: "a", "delta", ...
    latex: str
    text: str
    lowest_layer: int = None  # None: the letter has no layer (y, n)
    neurons: int = 1  # neuron indices after the layer: 2 for w_{jk}
    words: str = ""


LETTERS = {letter.base: letter for letter in (
    Letter(a, "a", "a", "a", 0, 1, "activation"),
    Letter(z, "z", "z", "z", 1, 1, "weighted input"),
    Letter(w, "w", "w", "w", 1, 2, "weight"),
    Letter(b, "b", "b", "b", 1, 1, "bias"),
    Letter(delta, "delta", r"\delta", "δ", 1, 1, "error"),
    Letter(y, "y", "y", "y", None, 1, "desired output"),
    Letter(n, "n", "n", "n", None, 0, "layer width"),
)}
BY_NAME = {letter.name: letter for letter in LETTERS.values()}
LAYERED = tuple(base for base, letter in LETTERS.items() if letter.lowest_layer is not None)
"""Bases whose first index is a layer: a, z, w, b, delta."""


def letter(base):
    """The :class:`Letter` of an IndexedBase (or of an Indexed), else None."""
    return LETTERS.get(base.base if isinstance(base, sp.Indexed) else base)


class sigma(sp.Function):
    """The activation of the layer its argument belongs to: σ(z^{(l)}) is layer l's.

    Applied to a whole layer z^{(l)} it acts entry by entry, as in the matrix form.
    """

    def fdiff(self, argindex=1):
        return sigma_prime(self.args[0])


class sigma_prime(sp.Function):
    """The derivative of the layer's own activation (entry by entry on a whole layer)."""


class grad_a_C(sp.Function):
    """∇_a C, the vector of ∂C/∂a^{(L)}_j; only a name in the matrix form."""


# The matrix form ------------------------------------------------------------------------------
#
# A whole layer is the Indexed with the layer alone (a[l], w[l], delta[l]); ``target`` is y.
# SymPy's Mul would sort a product and its MatrixSymbols need sizes fixed in advance, so the
# three operations of the matrix form are functions that keep their arguments as written.

class MatrixProduct(sp.Function):
    """A product of vectors and matrices in the order written (w^T δ is not δ w^T)."""

    is_commutative = False


class Transposed(sp.Function):
    """X^T."""

    nargs = 1


class Hadamard(sp.Function):
    """X ⊙ Y, the entry-by-entry product."""


class Diagonal(sp.Function):
    """diag(v), the square matrix with the vector v on its diagonal: Nielsen's Σ'(z) = diag(σ'(z)),
    with which BP1 reads δ^L = Σ'(z^L) ∇_a C."""

    nargs = 1


MATRIX_OPERATIONS = (MatrixProduct, Transposed, Hadamard, Diagonal)


def matrix_product(*factors):
    """The product of ``factors`` in order, nested products flattened."""
    flat = []
    for f in factors:
        flat.extend(f.args if isinstance(f, MatrixProduct) else [f])
    return flat[0] if len(flat) == 1 else MatrixProduct(*flat)


def whole_layer(base, layer):
    """The whole layer's vector or matrix: a^{(l)}, w^{(l)}, δ^{(l)} (``target`` for y)."""
    return target if base == y else base[layer]


def is_whole_layer(expr):
    """True for a layered quantity written without neuron indices (a^{(l)}, w^{(l)})."""
    return isinstance(expr, sp.Indexed) and expr.base in LAYERED and len(expr.indices) == 1


# Neuron indices ---------------------------------------------------------------------------------

INDEX_LETTERS = "ijkmpqrstuv"
"""The letters that index neurons (j and k are the notation's own; the others a student's)."""
_INDICES = {"j": j, "k": k}


def index_symbol(name):
    """The neuron-index symbol of a letter: the same object every time, j and k the notation's."""
    if name not in _INDICES:
        _INDICES[name] = sp.Symbol(name, integer=True, nonnegative=True)
    return _INDICES[name]


def is_index_symbol(s):
    return isinstance(s, sp.Symbol) and len(s.name) == 1 and s.name in INDEX_LETTERS and bool(s.is_integer)


def fresh_index(taken):
    """A neuron index not in ``taken``: j, then k, then i, m, p, ..."""
    for name in "jk" + INDEX_LETTERS:
        if index_symbol(name) not in taken:
            return index_symbol(name)
    raise ValueError("no neuron index letter left")


# Layers -----------------------------------------------------------------------------------------

def partial(numerator, denominator):
    """The unevaluated ∂numerator/∂denominator the printers show as a fraction."""
    return sp.Derivative(numerator, denominator, evaluate=False)


def layer_of(element):
    """The layer of a layered ``Indexed`` (a, z, w, b, delta), else None."""
    if isinstance(element, sp.Indexed) and element.base in LAYERED:
        return element.indices[0]
    return None


def relative_layer(layer, depth):
    """Write a concrete layer relative to the output layer: 3 -> L, 2 -> L-1 when depth is 3."""
    return L - (depth - sp.Integer(layer))


def concrete_layer(layer, depth):
    """Replace L (and nothing else) in a layer expression by the network's depth."""
    return sp.Integer(layer) if isinstance(layer, int) else layer.subs(L, depth)
