"""The notation of DESIGN §3, defined once for model, derivation, printers and parser.

Every quantity of the network is a SymPy ``Indexed`` whose *first* index is the layer:

    a[l, j]      activation a^{(l)}_j          (a[l] alone: the one-neuron chain's a^{(l)})
    z[l, j]      weighted input z^{(l)}_j
    w[l, j, k]   weight w^{(l)}_{jk} into neuron j of layer l from neuron k of layer l-1
    b[l, j]      bias b^{(l)}_j
    delta[l, j]  error delta^{(l)}_j = dC_0/dz^{(l)}_j
    y[j]         desired output y_j (Y alone: the chain's y)
    n[l]         the number of neurons in layer l (printed n_l)

Layers are SymPy expressions: integers for a concrete network, ``L - 2`` relative to the
output layer as the lectures write them, or the generic ``l``.  Because the parser builds the
same objects, a parsed answer meets the derivation's symbols without remapping.
"""

import sympy as sp

L = sp.Symbol("L", integer=True, positive=True)  # the output layer
l = sp.Symbol("l", integer=True, positive=True)  # a generic layer
j = sp.Symbol("j", integer=True, nonnegative=True)  # neuron of layer l
k = sp.Symbol("k", integer=True, nonnegative=True)  # neuron of layer l-1 (or l+1 in BP2)
x = sp.Symbol("x")  # the training example, in sums over examples
n_examples = sp.Symbol("n", integer=True, positive=True)

a = sp.IndexedBase("a")
z = sp.IndexedBase("z")
w = sp.IndexedBase("w")
b = sp.IndexedBase("b")
delta = sp.IndexedBase("delta")
y = sp.IndexedBase("y")
n = sp.IndexedBase("n")
Y = sp.Symbol("y", real=True)  # the chain's desired output; real=True keeps it apart from y[j]'s label

C0 = sp.Symbol("C_0")  # cost of one training example
Cx = sp.Symbol("C_x")  # the same, named by its example
C = sp.Symbol("C")  # full cost, the average over examples

LAYERED = (a, z, w, b, delta)
"""Bases whose first index is a layer."""


class sigma(sp.Function):
    """The activation of the layer its argument belongs to (DESIGN §3: σ(z^{(l)}) is layer l's)."""

    def fdiff(self, argindex=1):
        return sigma_prime(self.args[0])


class sigma_prime(sp.Function):
    """The derivative of the layer's own activation."""


class grad_a_C(sp.Function):
    """∇_a C, the vector of ∂C/∂a^{(L)}_j; only a name in the matrix form."""


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


# Matrix form --------------------------------------------------------------------------------
#
# The matrix (vector) form needs MatrixSymbols; their names cannot hold a layer expression,
# so the factory remembers (kind, layer) for each name and the printer looks it up.

_MATRIX_PARTS = {}


def matrix(kind, layer):
    """The vector or matrix of layer ``layer``: kind in a, z, b, delta, w, y, grad."""
    rows = n[layer] if kind != "y" else n[L]
    cols = n[layer - 1] if kind == "w" else 1
    name = f"{kind}({layer})"
    _MATRIX_PARTS[name] = (kind, layer)
    return sp.MatrixSymbol(name, rows, cols)


def matrix_part(symbol):
    """(kind, layer) of a MatrixSymbol made by :func:`matrix`, else None."""
    return _MATRIX_PARTS.get(str(symbol.name))


def elementwise_sigma_prime(vector):
    """σ'(v) applied to each entry of a vector (a SymPy ElementwiseApplyFunction)."""
    t = sp.Dummy("t")
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    return ElementwiseApplyFunction(sp.Lambda(t, sigma_prime(t)), vector)
