"""The chain rule, step by step, returned as data.

Each local derivative (∂z/∂w, ∂a/∂z, ∂C₀/∂a, ...) is computed by SymPy's ``diff`` on the local
expression from ``model``; this module only applies the chain rule over the known graph
w, a^{(l-1)}, b -> z -> a -> C₀ and does the index bookkeeping SymPy's indexed calculus gets
wrong: which paths exist (w_{jk} reaches C₀ only through z_j; a_k through every z_j of the
layer above, hence the sum over paths).  Nothing here depends on layer widths, and the work
is one constant-size block per layer: O(depth).

``derive(network)`` returns a :class:`Derivation`; printers, templates, ``verify`` and
``codegen`` only read it.
"""

from dataclasses import dataclass

import sympy as sp

from . import model
from . import notation as nt
from . import printing

MEANINGS = {
    "input_activation": "how strongly the previous neuron fires: a nudge to the weight matters "
                        "more when the input neuron is active (neurons that fire together wire together)",
    "activation_slope": "the slope of the activation gates how much of the nudge to z passes "
                        "through; where the activation saturates (a flat sigmoid) it kills the gradient",
    "cost_slope": "the size of the error: the further the output is from the desired y, "
                  "the stronger the signal",
    "bias": "a nudge to the bias moves z by exactly that nudge, so this factor is 1",
    "weight": "the weight of the connection: how strongly the previous activation feeds this neuron",
    "upstream": "how sensitive the cost is to this activation, already found one layer later "
                "(this is what propagates back)",
    "upstream_delta": "the error δ of the neuron in the layer above, already found "
                      "(this is what propagates back)",
}


@dataclass(frozen=True)
class Factor:
    """One ratio of the chain rule: its symbol ∂num/∂den, its value and what it means."""

    partial: sp.Expr
    value: sp.Expr
    role: str

    @property
    def meaning(self):
        return MEANINGS[self.role]

    def to_dict(self):
        return {"partial": printing.latex(self.partial), "value": printing.latex(self.value),
                "role": self.role, "meaning": self.meaning}


class _Shows:
    """LaTeX, text and Jupyter display shared by every piece of the derivation."""

    def _repr_latex_(self):
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self):
        return self.text()


@dataclass(frozen=True, eq=False)
class Definition(_Shows):
    """lhs := rhs, e.g. z^{(L)} = w^{(L)} a^{(L-1)} + b^{(L)}."""

    lhs: sp.Expr
    rhs: sp.Expr
    about: str = ""
    kind = "definition"

    def latex(self):
        return f"{printing.latex(self.lhs)} = {printing.latex(self.rhs)}"

    def text(self):
        return f"{printing.text(self.lhs)} = {printing.text(self.rhs)}"

    def to_dict(self):
        return {"kind": self.kind, "latex": self.latex(), "text": self.text(), "about": self.about}


@dataclass(frozen=True, eq=False)
class ChainRule(_Shows):
    """∂C₀/∂target as the product of the factors along one path."""

    target: sp.Expr
    factors: tuple
    about: str = ""
    cost_symbol: sp.Expr = nt.C0
    kind = "chain_rule"

    @property
    def lhs(self):
        return nt.partial(self.cost_symbol, self.target)

    @property
    def rhs(self):
        return printing.ordered_product(*[f.value for f in self.factors])

    @property
    def partials(self):
        return printing.ordered_product(*[f.partial for f in self.factors])

    def latex(self):
        return f"{printing.latex(self.lhs)} = {printing.latex(self.partials)} = {printing.latex(self.rhs)}"

    def text(self):
        return f"{printing.text(self.lhs)} = {printing.text(self.partials)} = {printing.text(self.rhs)}"

    def to_dict(self):
        return {"kind": self.kind, "lhs": printing.latex(self.lhs), "rhs": printing.latex(self.rhs),
                "latex": self.latex(), "text": self.text(), "about": self.about,
                "factors": [f.to_dict() for f in self.factors]}


@dataclass(frozen=True, eq=False)
class PathSum(_Shows):
    """∂C₀/∂a^{(l-1)}_k = Σ_j (one chain rule per path through neuron j of layer l)."""

    path: ChainRule
    index: sp.Symbol
    upper: sp.Expr
    about: str = ""
    kind = "path_sum"

    @property
    def lhs(self):
        return self.path.lhs

    @property
    def rhs(self):
        return sp.Sum(self.path.rhs, (self.index, 0, self.upper))

    @property
    def partials(self):
        return sp.Sum(self.path.partials, (self.index, 0, self.upper))

    def latex(self):
        return f"{printing.latex(self.lhs)} = {printing.latex(self.partials)} = {printing.latex(self.rhs)}"

    def text(self):
        return f"{printing.text(self.lhs)} = {printing.text(self.partials)} = {printing.text(self.rhs)}"

    def to_dict(self):
        return {"kind": self.kind, "lhs": printing.latex(self.lhs), "rhs": printing.latex(self.rhs),
                "latex": self.latex(), "text": self.text(), "about": self.about,
                "sum_index": str(self.index), "sum_upper": printing.latex(self.upper),
                "factors": [f.to_dict() for f in p.factors] if (p := self.path) else []}


@dataclass(frozen=True, eq=False)
class BPEquation(_Shows):
    """One of Nielsen's four equations, in index and in matrix form, with its derivation."""

    name: str
    title: str
    index_lhs: sp.Expr
    index_rhs: sp.Expr
    matrix_lhs: sp.Expr
    matrix_rhs: sp.Expr
    derived_from: object  # the ChainRule/PathSum it comes from
    kind = "bp"

    def latex(self):
        return f"{printing.latex(self.index_lhs)} = {printing.latex(self.index_rhs)}"

    def matrix_latex(self):
        return f"{printing.latex(self.matrix_lhs)} = {printing.latex(self.matrix_rhs)}"

    def text(self):
        return f"{printing.text(self.index_lhs)} = {printing.text(self.index_rhs)}"

    def matrix_text(self):
        return f"{printing.text(self.matrix_lhs)} = {printing.text(self.matrix_rhs)}"

    def to_dict(self):
        return {"name": self.name, "title": self.title, "index": self.latex(),
                "matrix": self.matrix_latex(), "index_text": self.text(),
                "matrix_text": self.matrix_text(), "derived_from": self.derived_from.latex()}


@dataclass(frozen=True, eq=False)
class LayerStep(_Shows):
    """The recursion at one concrete layer of the user's network (index form)."""

    number: int  # 1..L
    label: sp.Expr  # the same layer written relative to L (L, L-1, ...)
    width: int
    activation: str
    delta: BPEquation  # BP1 at the output layer, BP2 below it
    weight: Definition
    bias: Definition

    def latex(self):
        return r" \qquad ".join([self.delta.latex(), self.weight.latex(), self.bias.latex()])

    def text(self):
        return "   ".join([self.delta.text(), self.weight.text(), self.bias.text()])

    def to_dict(self):
        return {"layer": self.number, "label": printing.latex(self.label), "width": self.width,
                "activation": self.activation, "delta": self.delta.latex(),
                "weight": self.weight.latex(), "bias": self.bias.latex()}


@dataclass(frozen=True, eq=False)
class ActivationSlope(_Shows):
    """A layer's activation, its derivative from SymPy and the lectures' form of it."""

    name: str
    layers: tuple
    expression: sp.Expr  # σ(z)
    derivative: sp.Expr  # σ'(z), by sp.diff
    lecture_form: sp.Expr  # in terms of σ(z), e.g. σ(z)(1 − σ(z))
    from_output: sp.Expr  # in terms of a = σ(z), for code: a(1 − a)

    def latex(self):
        forms = dict.fromkeys([printing.latex(self.derivative), printing.latex(self.lecture_form)])
        return rf"\sigma(z) = {printing.latex(self.expression)}, \quad \sigma'(z) = {' = '.join(forms)}"

    def text(self):
        return f"σ(z) = {printing.text(self.expression)}, σ'(z) = {printing.text(self.derivative)}"

    def to_dict(self):
        return {"name": self.name, "layers": list(self.layers),
                "sigma": printing.latex(self.expression), "sigma_prime": printing.latex(self.derivative),
                "lecture_form": printing.latex(self.lecture_form),
                "from_output": printing.latex(self.from_output)}


@dataclass(frozen=True, eq=False)
class Chain(_Shows):
    """The one-neuron-per-layer derivation of the lectures, for every layer of the network."""

    definitions: tuple
    steps: tuple  # per layer, from L down: weight, bias, previous activation

    def upstream_values(self):
        """{∂C₀/∂a^{(l)}: its value} for substituting the recursion out."""
        return {s.lhs: s.rhs for s in self.steps if s.target.base == nt.a}

    def expanded(self, step):
        """The step's value with every upstream ∂C₀/∂a^{(l)} replaced by its own value."""
        values = self.upstream_values()
        expr = step.rhs
        while True:
            new = expr.xreplace(values)
            if new == expr:
                return expr
            expr = new

    def latex(self):
        return r" \\ ".join(s.latex() for s in self.steps)

    def text(self):
        return "\n".join(s.text() for s in self.steps)


@dataclass(frozen=True, eq=False)
class Derivation(_Shows):
    """Everything derived for one network.  Read by render, verify and codegen."""

    network: object
    chain: Chain
    definitions: tuple  # indexed z, a, C₀
    weight: ChainRule  # ∂C₀/∂w^{(L)}_{jk}
    bias: ChainRule  # ∂C₀/∂b^{(L)}_j
    paths: PathSum  # ∂C₀/∂a^{(L-1)}_k
    general_weight: ChainRule  # ∂C₀/∂w^{(l)}_{jk} for any layer
    delta: Definition  # δ^{(l)}_j := ∂C₀/∂z^{(l)}_j
    bp: tuple  # BP1..BP4
    average: Definition  # ∂C/∂w = (1/n) Σ_x ∂C_x/∂w
    gradient: tuple  # the entries of ∇C, per layer
    layers: tuple  # LayerStep for L, L-1, ..., 1
    slopes: tuple  # ActivationSlope per distinct activation
    output_error: sp.Expr  # δ^{(L)}_j simplified for this cost and output activation, in a, y
    output_error_symbols: tuple  # (a, y) of output_error
    cost_slope: sp.Expr  # ∂C₀/∂a^{(L)}_j for this cost

    def bp_equation(self, name):
        return next(e for e in self.bp if e.name == name)

    def latex(self):
        return r" \\ ".join([e.latex() for e in self.bp])

    def text(self):
        return "\n".join(e.text() for e in self.bp)

    def to_dict(self):
        net = self.network
        return {
            "network": net.to_dict(),
            "notation": {"layers": "0..L, layer 0 is the input; w^(l), b^(l) feed into layer l",
                         "j": "neuron of layer l", "k": "neuron of layer l-1",
                         "delta": "delta^(l)_j = dC_0/dz^(l)_j"},
            "chain": {"definitions": [d.to_dict() for d in self.chain.definitions],
                      "steps": [s.to_dict() for s in self.chain.steps]},
            "indexed": {"definitions": [d.to_dict() for d in self.definitions],
                        "weight": self.weight.to_dict(), "bias": self.bias.to_dict(),
                        "paths": self.paths.to_dict(), "general_weight": self.general_weight.to_dict()},
            "delta": self.delta.to_dict(),
            "bp": [e.to_dict() for e in self.bp],
            "average": self.average.to_dict(),
            "gradient": [printing.latex(g) for g in self.gradient],
            "layers": [s.to_dict() for s in self.layers],
            "activations": [s.to_dict() for s in self.slopes],
            "cost": {"name": net.cost, "per_neuron": printing.latex(
                net.cost_entry.per_neuron(*self.output_error_symbols)),
                "slope": printing.latex(self.cost_slope),
                "output_error": printing.latex(self.output_error)},
        }


# The derivation -----------------------------------------------------------------------------

def _d(expr, var):
    """A local derivative, computed by SymPy."""
    return sp.diff(expr, var)


def _tidy(expr):
    """The same value written as the lectures would: 2(a − y), (a − y)/(a(1 − a)).

    SymPy factors it; a negative constant is then absorbed into the first factor that is a
    sum, and the constant is kept in front of it.
    """
    num, den = (sp.factor_terms(p) for p in sp.fraction(sp.factor(expr)))
    coeff, rest = num.as_coeff_Mul()
    nparts, dparts = list(sp.Mul.make_args(rest)), list(sp.Mul.make_args(den))
    for i, part in enumerate(dparts):  # a − 1 in a denominator reads better as 1 − a
        if part.is_Add and part.as_coeff_Add()[0] < 0:
            dparts[i], coeff = -part, -coeff
    if coeff < 0:
        i = next((i for i, p in enumerate(nparts) if p.is_Add), None)
        if i is not None:
            nparts[i], coeff = -nparts[i], -coeff
    num = printing.ordered_product(coeff, *nparts)
    return num if den == 1 else num / sp.Mul(*dparts)


def _cost_slope(cost, a, y):
    """∂c/∂a by SymPy, tidied."""
    return _tidy(_d(cost.per_neuron(a, y), a))


def _chain(network):
    """The lectures' one-neuron chain, written for this network's depth with layers L, L-1, ..."""
    depth = network.depth
    cost = network.cost_entry
    L = nt.L
    definitions = (
        Definition(nt.z[L], model.chain_weighted_input(L), "the weighted input of the last neuron"),
        Definition(nt.a[L], model.chain_activation(L), "its activation"),
        Definition(nt.C0, model.chain_cost(cost), "the cost of one training example"),
    )
    steps = []
    upstream = Factor(nt.partial(nt.C0, nt.a[L]), _cost_slope(cost, nt.a[L], nt.Y), "cost_slope")
    for i in range(depth):
        layer = L - i
        zdef = model.chain_weighted_input(layer)
        slope = Factor(nt.partial(nt.a[layer], nt.z[layer]),
                       _d(model.chain_activation(layer), nt.z[layer]), "activation_slope")
        dw = Factor(nt.partial(nt.z[layer], nt.w[layer]), _d(zdef, nt.w[layer]), "input_activation")
        db = Factor(nt.partial(nt.z[layer], nt.b[layer]), _d(zdef, nt.b[layer]), "bias")
        steps.append(ChainRule(nt.w[layer], (dw, slope, upstream), "weight"))
        steps.append(ChainRule(nt.b[layer], (db, slope, upstream), "bias"))
        if i < depth - 1:  # a^{(0)} is the input, which nobody adjusts
            da = Factor(nt.partial(nt.z[layer], nt.a[layer - 1]), _d(zdef, nt.a[layer - 1]), "weight")
            step = ChainRule(nt.a[layer - 1], (da, slope, upstream), "previous activation")
            steps.append(step)
            upstream = Factor(step.lhs, step.lhs, "upstream")
    return Chain(definitions, tuple(steps))


def _indexed(cost, layer):
    """∂C₀/∂w^{(l)}_{jk}, ∂C₀/∂b^{(l)}_j and the path sum for ∂C₀/∂a^{(l-1)}_k."""
    j, k = nt.j, nt.k
    term = model.weighted_input_term(layer, j, k)
    slope = Factor(nt.partial(nt.a[layer, j], nt.z[layer, j]),
                   _d(model.activation(layer, j), nt.z[layer, j]), "activation_slope")
    if layer == nt.L:
        value = _cost_slope(cost, nt.a[layer, j], nt.y[j])
        upstream = Factor(nt.partial(nt.C0, nt.a[layer, j]), value, "cost_slope")
    else:
        upstream = Factor(nt.partial(nt.C0, nt.a[layer, j]), nt.partial(nt.C0, nt.a[layer, j]), "upstream")
    dw = Factor(nt.partial(nt.z[layer, j], nt.w[layer, j, k]), _d(term, nt.w[layer, j, k]), "input_activation")
    db = Factor(nt.partial(nt.z[layer, j], nt.b[layer, j]), _d(term, nt.b[layer, j]), "bias")
    da = Factor(nt.partial(nt.z[layer, j], nt.a[layer - 1, k]), _d(term, nt.a[layer - 1, k]), "weight")
    weight = ChainRule(nt.w[layer, j, k], (dw, slope, upstream), "a weight only reaches the cost through z_j")
    bias = ChainRule(nt.b[layer, j], (db, slope, upstream), "the bias, with ∂z/∂b = 1")
    # a^{(l-1)}_k enters z^{(l)}_j for every j of layer l: one path per j, and they add up.
    paths = PathSum(ChainRule(nt.a[layer - 1, k], (da, slope, upstream)), j, nt.n[layer] - 1,
                    "a_k influences the cost through every neuron j of the next layer")
    return weight, bias, paths


def _bp1():
    """BP1: δ^{(L)}_j = ∂C₀/∂a^{(L)}_j σ'(z^{(L)}_j), the chain rule through a^{(L)}_j."""
    j, L = nt.j, nt.L
    slope = Factor(nt.partial(nt.a[L, j], nt.z[L, j]), _d(model.activation(L, j), nt.z[L, j]), "activation_slope")
    cost = Factor(nt.partial(nt.C0, nt.a[L, j]), nt.partial(nt.C0, nt.a[L, j]), "cost_slope")
    chain = ChainRule(nt.z[L, j], (slope, cost), "the output error")
    return BPEquation("BP1", "error at the output layer", nt.delta[L, j],
                      printing.ordered_product(cost.value, slope.value), nt.matrix("delta", L),
                      sp.HadamardProduct(nt.matrix("grad", L), nt.elementwise_sigma_prime(nt.matrix("z", L))),
                      chain)


def _bp2(l):
    """BP2: δ^{(l)}_j = Σ_k w^{(l+1)}_{kj} δ^{(l+1)}_k σ'(z^{(l)}_j): the paths through layer l+1."""
    j, k = nt.j, nt.k
    term = model.weighted_input_term(l + 1, k, j)
    da = Factor(nt.partial(nt.z[l + 1, k], nt.a[l, j]), _d(term, nt.a[l, j]), "weight")
    up = Factor(nt.partial(nt.C0, nt.z[l + 1, k]), nt.delta[l + 1, k], "upstream_delta")
    paths = PathSum(ChainRule(nt.a[l, j], (da, up)), k, nt.n[l + 1] - 1, "sum over the paths through layer l+1")
    slope = _d(model.activation(l, j), nt.z[l, j])
    return BPEquation("BP2", "error of a layer from the error of the next",
                      nt.delta[l, j], printing.ordered_product(paths.rhs, slope), nt.matrix("delta", l),
                      sp.HadamardProduct(nt.matrix("w", l + 1).T * nt.matrix("delta", l + 1),
                                         nt.elementwise_sigma_prime(nt.matrix("z", l))),
                      paths)


def _bp3_bp4(l):
    """BP3 and BP4: the chain rule through z^{(l)}_j, whose sensitivity is δ^{(l)}_j."""
    j, k = nt.j, nt.k
    term = model.weighted_input_term(l, j, k)
    up = Factor(nt.partial(nt.C0, nt.z[l, j]), nt.delta[l, j], "upstream_delta")
    db = Factor(nt.partial(nt.z[l, j], nt.b[l, j]), _d(term, nt.b[l, j]), "bias")
    dw = Factor(nt.partial(nt.z[l, j], nt.w[l, j, k]), _d(term, nt.w[l, j, k]), "input_activation")
    bias, weight = ChainRule(nt.b[l, j], (db, up), "the bias"), ChainRule(nt.w[l, j, k], (dw, up), "a weight")
    bp3 = BPEquation("BP3", "gradient with respect to a bias", bias.lhs, bias.rhs,
                     nt.partial(nt.C0, nt.matrix("b", l)), nt.matrix("delta", l), bias)
    bp4 = BPEquation("BP4", "gradient with respect to a weight", weight.lhs, weight.rhs,
                     nt.partial(nt.C0, nt.matrix("w", l)),
                     nt.matrix("delta", l) * nt.matrix("a", l - 1).T, weight)
    return bp3, bp4


def _bp():
    """δ and BP1-BP4 for a general layer l."""
    delta = Definition(nt.delta[nt.l, nt.j], nt.partial(nt.C0, nt.z[nt.l, nt.j]), "the error of neuron j in layer l")
    return delta, (_bp1(), _bp2(nt.l), *_bp3_bp4(nt.l))


def _layers(network):
    """BP1-BP4 written at every concrete layer of the network, from L down to 1."""
    out = []
    for number in range(network.depth, 0, -1):
        label = nt.relative_layer(number, network.depth)
        bp3, bp4 = _bp3_bp4(label)
        delta = _bp1() if number == network.depth else _bp2(label)
        out.append(LayerStep(number, label, network.width(number), network.activations[number - 1], delta,
                             Definition(bp4.index_lhs, bp4.index_rhs), Definition(bp3.index_lhs, bp3.index_rhs)))
    return tuple(out)


def _slopes(network):
    out = []
    t = sp.Symbol("z")
    av = sp.Symbol("a")
    for name in dict.fromkeys(network.activations):
        entry = network.activation(network.activations.index(name) + 1)
        layers = tuple(i + 1 for i, n in enumerate(network.activations) if n == name)
        out.append(ActivationSlope(name, layers, entry.expression(t), entry.derivative(t),
                                   entry.lecture_derivative(nt.sigma(t)), entry.derivative_from_output(av)))
    return tuple(out)


def _output_error(network):
    """δ^{(L)}_j for this cost and output activation, in a and y, simplified by SymPy.

    E.g. sigmoid with cross-entropy gives a − y: the simplification is SymPy's, not ours.
    """
    a, y = sp.Symbol("a"), sp.Symbol("y")
    out = network.activation(network.depth)
    slope = _cost_slope(network.cost_entry, a, y)
    product = printing.ordered_product(slope, out.derivative_from_output(a))
    simplified = _tidy(sp.cancel(product))
    error = simplified if sp.count_ops(simplified) < sp.count_ops(product) else product
    return error, (a, y), slope


def derive(network=None):
    """Derive backpropagation for ``network`` (default: the lectures' 1-1-1-1 sigmoid network)."""
    from .spec import Network

    network = Network.parse() if network is None else network
    cost = network.cost_entry
    j, k, l = nt.j, nt.k, nt.l
    definitions = (
        Definition(nt.z[l, j], model.weighted_input(l), "the weighted input of neuron j in layer l"),
        Definition(nt.a[l, j], model.activation(l), "its activation"),
        Definition(nt.C0, model.cost(cost), "the cost of one training example, summed over the outputs"),
    )
    weight, bias, paths = _indexed(cost, nt.L)
    general_weight, _, _ = _indexed(cost, l)
    delta_def, bp = _bp()
    average = Definition(nt.partial(nt.C, nt.w[l, j, k]),
                         printing.ordered_product(1 / nt.n_examples, sp.Sum(
                             nt.partial(nt.Cx, nt.w[l, j, k]), (nt.x, 1, nt.n_examples))),
                         "the full cost averages the costs of the n training examples")
    gradient = tuple(g for number in range(1, network.depth + 1)
                     for g in (nt.partial(nt.C, nt.matrix("w", number)), nt.partial(nt.C, nt.matrix("b", number))))
    error, symbols, slope = _output_error(network)
    return Derivation(
        network=network, chain=_chain(network), definitions=definitions, weight=weight, bias=bias,
        paths=paths, general_weight=general_weight, delta=delta_def, bp=bp, average=average,
        gradient=gradient, layers=_layers(network), slopes=_slopes(network),
        output_error=error, output_error_symbols=symbols,
        cost_slope=_cost_slope(cost, nt.a[nt.L, j], nt.y[j]),
    )
