"""SymPy expressions for z, a and C: the indexed form and the explicit form.

* Indexed form (any layer ``l``, any neuron ``j``): what the lectures write,
  z^{(l)}_j = Σ_k w^{(l)}_{jk} a^{(l-1)}_k + b^{(l)}_j.  It does not depend on layer widths.
* Explicit form (a concrete small network): one symbol per weight, bias and input, with z, a
  and C₀ expanded into them.  ``groundtruth`` differentiates it to check the derivation.
"""

import sympy as sp

from . import notation as nt
from .printing import ordered_product, ordered_sum

REST = sp.Symbol("R")
"""The other terms of a sum, which do not depend on the variable being differentiated."""


# Indexed form -------------------------------------------------------------------------------

def weighted_input(layer, j=nt.j, k=nt.k):
    """z^{(l)}_j = Σ_k w^{(l)}_{jk} a^{(l-1)}_k + b^{(l)}_j (k is bound)."""
    return ordered_sum(sp.Sum(ordered_product(nt.w[layer, j, k], nt.a[layer - 1, k]),
                              (k, 0, nt.n[layer - 1] - 1)), nt.b[layer, j])


def weighted_input_term(layer, j, k):
    """z^{(l)}_j with the one term through w^{(l)}_{jk} and a^{(l-1)}_k spelled out.

    This is the index bookkeeping that SymPy's ``diff`` of a ``Sum`` gets wrong (the bound k
    meets the free k): every other term of the sum is ``REST``, which depends on neither.
    """
    return nt.w[layer, j, k] * nt.a[layer - 1, k] + REST + nt.b[layer, j]


def activation(layer, j=nt.j):
    """a^{(l)}_j = σ(z^{(l)}_j)."""
    return nt.sigma(nt.z[layer, j])


def cost(network_cost, j=nt.j):
    """C₀ = Σ_j c(a^{(L)}_j, y_j)."""
    return sp.Sum(network_cost.per_neuron(nt.a[nt.L, j], nt.y[j]), (j, 0, nt.n[nt.L] - 1))


# One neuron per layer (the lectures' chain) ----------------------------------------------

def chain_weighted_input(layer):
    """z^{(l)} = w^{(l)} a^{(l-1)} + b^{(l)}."""
    return ordered_sum(ordered_product(nt.w[layer], nt.a[layer - 1]), nt.b[layer])


def chain_activation(layer):
    return nt.sigma(nt.z[layer])


def chain_cost(network_cost):
    """C₀ = (a^{(L)} − y)² for the quadratic cost."""
    return network_cost.per_neuron(nt.a[nt.L], nt.target)


# Explicit form ------------------------------------------------------------------------------

class ExplicitModel:
    """A concrete network with one SymPy symbol per input, weight, bias and target.

    Leaves are ``a[0, k]`` (the input x_k), ``w[l, j, k]``, ``b[l, j]`` and ``y[j]``.
    ``generic=True`` keeps σ as the undefined function of ``notation`` instead of each layer's
    activation, which makes chain-rule identities exact and cheap to check.
    """

    def __init__(self, network, generic=False):
        self.network = network
        self.generic = generic

    def parameters(self):
        """Every weight and bias, layer by layer: w^{(1)}, b^{(1)}, ..., w^{(L)}, b^{(L)}."""
        out = []
        for layer in range(1, self.network.depth + 1):
            rows, cols = self.network.width(layer), self.network.width(layer - 1)
            out += [nt.w[layer, j, k] for j in range(rows) for k in range(cols)]
            out += [nt.b[layer, j] for j in range(rows)]
        return out

    def inputs(self):
        return [nt.a[0, k] for k in range(self.network.width(0))]

    def targets(self):
        return [nt.y[j] for j in range(self.network.width(self.network.depth))]

    def sigma(self, layer, arg):
        if self.generic:
            return nt.sigma(arg)
        return self.network.activation(layer).expression(arg)

    def sigma_prime(self, layer, arg):
        if self.generic:
            return nt.sigma_prime(arg)
        return self.network.activation(layer).derivative(arg)

    def local_z(self, layer, j):
        """z^{(l)}_j in terms of the symbols a^{(l-1)}_k of the layer below."""
        return sum((nt.w[layer, j, k] * nt.a[layer - 1, k]
                    for k in range(self.network.width(layer - 1))), nt.b[layer, j])

    def forward(self):
        """{z[l, j]: expr, a[l, j]: expr} with every expression in the leaves only."""
        values = {}
        prev = {nt.a[0, k]: nt.a[0, k] for k in range(self.network.width(0))}
        for layer in range(1, self.network.depth + 1):
            width = self.network.width(layer)
            zs = [self.local_z(layer, j).xreplace(prev) for j in range(width)]
            entry = self.network.activation(layer)
            if entry.elementwise:
                acts = [self.sigma(layer, zj) for zj in zs]
            else:  # softmax (even generic: its Jacobian is in the derivation): e(z_j) over Σ_k e(z_k)
                total = sp.Add(*[entry.expression(zk) for zk in zs])
                acts = [entry.expression(zj) / total for zj in zs]
            prev = {}
            for j in range(width):
                values[nt.z[layer, j]] = zs[j]
                prev[nt.a[layer, j]] = values[nt.a[layer, j]] = acts[j]
        return values

    def cost(self, forward=None):
        """C₀ in the leaves: Σ_j c(a^{(L)}_j, y_j) with a^{(L)} expanded."""
        forward = self.forward() if forward is None else forward
        entry = self.network.cost_entry
        L = self.network.depth
        return sp.Add(*[entry.per_neuron(forward[nt.a[L, j]], nt.y[j]) for j in range(self.network.width(L))])

    def penalty_slopes(self):
        """{weight: (λ/n) penalty'(w)}: one example's share of the regulariser's derivative (none:
        {}), by SymPy with the weight taken real, in the symbols λ and n."""
        return {p: sp.Add(*[nt.lam / nt.n_examples * reg.slope(p) for reg, _ in self.network.regularisers])
                for p in self.parameters() if p.base == nt.w and self.network.regularisers}


def bind_activations(expr, network):
    """Give σ and σ' their meaning: applied to z^{(l)}_j they are layer l's activation.

    The layer must be concrete (an integer) by now; the result contains no σ, σ' functions.
    """
    def layer(arg):
        found = nt.layer_of(arg)
        if found is None or not found.is_Integer:
            raise ValueError(f"σ applied to {arg}: its layer is not a concrete layer of the network")
        return network.activation(int(found))

    return expr.replace(nt.sigma, lambda arg: layer(arg).expression(arg)).replace(
        nt.sigma_prime, lambda arg: layer(arg).derivative(arg))
