"""Indices and shapes of a parsed formula: which layers and neurons its quantities refer to.

The parser, the bindings, the evaluator and the diagnosis all ask the same questions of a
formula — which neuron indices are free, which layer a neuron index counts, whether a
quantity written without indices is a whole layer (a vector or a matrix) in this network —
and this module is where they are answered.
"""

from functools import lru_cache

import sympy as sp

from .. import notation as nt


def as_expr(value):
    """An index or layer as a SymPy object: SymPy objects as they are, Python ints as Integers.

    Never applied to text: nothing the user types is ever turned into SymPy by ``sympify``.
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, int):
        return sp.Integer(value)
    raise TypeError(f"not an index: {value!r}")


def candidate_layers(layer, network):
    """Concrete layers 0..L that a layer expression can take (l is free, L is the depth)."""
    depth = network.depth
    out = []
    for value in range(0, depth + 1) if layer.has(nt.l) else [None]:
        v = layer.subs({nt.L: depth, nt.l: value}) if value is not None else layer.subs(nt.L, depth)
        if v.is_Integer and 0 <= int(v) <= depth:
            out.append(int(v))
    return out


@lru_cache(maxsize=4096)
def whole_layer_size(element, network):
    """Largest number of entries a whole-layer quantity (a[l], w[l], y) can have, 1 for a number."""
    if element == nt.target:
        return network.width(network.depth)
    base, layer = element.base, element.indices[0]
    sizes = [1]
    for v in candidate_layers(layer, network):
        if base == nt.w:
            sizes.append(network.width(v) * network.width(v - 1) if v >= 1 else 1)
        else:
            sizes.append(network.width(v))
    return max(sizes)


def has_whole_target(expr):
    """True when the whole target y appears, not only y_j (whose base is also named y)."""
    if isinstance(expr, sp.Indexed):
        return False
    if expr == nt.target:
        return True
    return any(has_whole_target(a) for a in expr.args)


def is_matrix_like(expr, network):
    """True when ``expr`` may be a vector or a matrix in this network (so order matters)."""
    if not isinstance(expr, sp.Basic):
        return False
    if isinstance(expr, nt.MATRIX_OPERATIONS):
        return True
    if expr.has(nt.grad_a_C) and network.width(network.depth) > 1:
        return True
    for element in expr.atoms(sp.Indexed):
        if nt.is_whole_layer(element) and whole_layer_size(element, network) > 1:
            return True
    if has_whole_target(expr) and network.width(network.depth) > 1:
        return True
    return bool(expr.atoms(*nt.MATRIX_OPERATIONS)) if expr.args else False


def neuron_positions(element):
    """(index, layer it counts neurons of) for each neuron index of an Indexed: w_{jk} gives two."""
    base, idx = element.base, element.indices
    if base == nt.y:
        return [(idx[0], nt.L)]
    if base not in nt.LAYERED or len(idx) < 2:
        return []
    if base == nt.w:
        return [(idx[1], idx[0]), (idx[2], idx[0] - 1)] if len(idx) == 3 else []
    return [(idx[1], idx[0])]


def free_indices(expr):
    """Neuron-index symbols not bound by a sum (in quantities, and in a Kronecker δ_{jk} of a derivative)."""
    if isinstance(expr, sp.Sum):
        return free_indices(expr.function) - {limit[0] for limit in expr.limits}
    if isinstance(expr, (sp.Indexed, sp.KroneckerDelta)):
        return {s for i in expr.indices for s in as_expr(i).free_symbols if nt.is_index_symbol(s)}
    out = set()
    for arg in expr.args:
        out |= free_indices(arg)
    return out


def loose_symbols(expr):
    """Symbols used as values outside any index: a stray j, L, T or C (not y, nor n, the number of
    training examples, nor λ, nor the indices compared by a Kronecker δ_{jk} of a derivative)."""
    if isinstance(expr, (sp.Indexed, sp.Derivative, sp.KroneckerDelta)):
        return set()
    if isinstance(expr, sp.Sum):
        return loose_symbols(expr.function)
    if isinstance(expr, sp.Symbol):
        return set() if expr in (nt.target, nt.n_examples, nt.lam) else {expr}
    out = set()
    for arg in expr.args:
        out |= loose_symbols(arg)
    return out


def depth_of(expr):
    """The number of levels of ``expr``'s tree (1 for a symbol), counted without recursion."""
    deepest, stack = 0, [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((arg, depth + 1) for arg in node.args)
    return deepest


def elements(expr):
    """The network's quantities (a, z, w, b, δ, y, n) in ``expr``."""
    return [e for e in expr.atoms(sp.Indexed) if nt.letter(e) is not None]


def layered(expr):
    """The network's quantities in ``expr`` a student wrote, except those inside a ∂X/∂Y."""
    if isinstance(expr, sp.Derivative):
        return []
    if isinstance(expr, sp.Indexed):
        return [expr] if expr.base in nt.LAYERED or expr.base == nt.y else []
    return list(dict.fromkeys(e for arg in expr.args for e in layered(arg)))
