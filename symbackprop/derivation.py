"""The chain rule, step by step, returned as data.

Each local derivative (∂z/∂w, ∂a/∂z, ∂C₀/∂a, ...) is computed by SymPy's ``diff`` on the local
expression from ``model``; this module only applies the chain rule over the known graph
w, a^{(l-1)}, b -> z -> a -> C₀ and does the index bookkeeping SymPy's indexed calculus gets
wrong: which paths exist (w_{jk} reaches C₀ only through z_j; a_k through every z_j of the
layer above, hence the sum over paths).  Nothing here depends on layer widths, and the work
is one constant-size block per layer: O(depth).

``derive(network)`` returns a :class:`Derivation` (computed once per network and cached);
printers, templates, ``verify`` (through :meth:`Derivation.forms`), ``check`` and ``codegen``
only read it.
"""

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from . import model
from . import notation as nt
from . import printing
from .spec import Network

@dataclass(frozen=True)
class Role:
    """What one kind of chain-rule factor is: its ratio, a short name, and what it means."""

    ratio: str  # the local derivative it is, e.g. ∂z/∂w
    name: str  # a short name for diagnoses: "the activation feeding the weight"
    meaning: str  # what it says, for the notes' table and the JSON


ROLES = {
    "input_activation": Role("∂z/∂w", "the activation feeding the weight",
                             "how strongly the previous neuron fires: a nudge to the weight matters more when the "
                             "input neuron is active (neurons that fire together wire together)"),
    "activation_slope": Role("∂a/∂z", "the slope of the activation",
                             "the slope of the activation gates how much of the nudge to z passes through; where "
                             "the activation saturates or is flat, it shrinks the gradient"),
    "cost_slope": Role("∂C₀/∂a", "the slope of the cost",
                       "the size of the error: the further the output is from the desired y, the stronger the signal"),
    "bias": Role("∂z/∂b", "the bias's factor 1", "a nudge to the bias moves z by exactly that nudge, so this factor is 1"),
    "weight": Role("∂z/∂a", "the weight of the connection",
                   "the weight of the connection: how strongly the previous activation feeds this neuron"),
    "upstream": Role("∂C₀/∂a one layer up", "what propagates back from the layer above",
                     "how sensitive the cost is to this activation, already found one layer later "
                     "(this is what propagates back)"),
    "upstream_delta": Role("δ one layer up", "the error of the layer above",
                           "the error δ of the neuron in the layer above, already found (this is what propagates back)"),
}
"""The one table of factor roles, read by derive, the notes and verify's diagnoses."""


@dataclass(frozen=True)
class Factor:
    """One ratio of the chain rule: its symbol ∂num/∂den, its value and what it means."""

    partial: sp.Expr
    value: sp.Expr
    role: str

    @property
    def meaning(self):
        return ROLES[self.role].meaning

    def to_dict(self):
        return {"partial": printing.latex(self.partial), "value": printing.latex(self.value),
                "role": self.role, "meaning": self.meaning}


class _Shows:
    """LaTeX, text and Jupyter display shared by every piece of the derivation."""

    def _repr_latex_(self):
        """One equation inline; several (``latex()`` joined by \\\\) in an ``aligned`` block, one per
        line and aligned at their first '=' (MathJax 3 ignores a top-level \\\\)."""
        body = self.latex()
        rows = body.split(r" \\ ")
        if len(rows) == 1:
            return f"$\\displaystyle {body}$"
        aligned = r" \\ ".join(row.replace(" = ", " &= ", 1) for row in rows)
        return f"$$\\begin{{aligned}} {aligned} \\end{{aligned}}$$"

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
    matrix_lhs: sp.Expr = None  # the same for the whole layer: ∂C₀/∂a^{(l)} = (w^{(l+1)})^T δ^{(l+1)}
    matrix_rhs: sp.Expr = None
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
    named: sp.Expr  # σ(z) under its own name: tanh(z), ReLU(z)
    expression: sp.Expr  # what that is: 1/(1 + e^{-z})
    derivative: sp.Expr  # σ'(z), by sp.diff
    lecture_form: sp.Expr  # in terms of the named function, e.g. σ(z)(1 − σ(z)), 1 − tanh²(z)
    from_output: sp.Expr  # in terms of a = σ(z), for code: a(1 − a)

    @property
    def named_prime(self):
        """σ' under the activation's own name, as LaTeX: tanh'(z)."""
        return printing.latex(self.named).replace("(z)", "'(z)", 1)

    def latex(self):
        forms = dict.fromkeys([printing.latex(self.derivative), printing.latex(self.lecture_form)])
        return (rf"{printing.latex(self.named)} = {printing.latex(self.expression)}, \quad "
                rf"{self.named_prime} = {' = '.join(forms)}")

    def text(self):
        return f"{printing.text(self.named)} = {printing.text(self.expression)}, σ'(z) = {printing.text(self.derivative)}"

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

    def flat_factors(self, step):
        """The step's factors with every upstream ∂C₀/∂a^{(l)} replaced by that step's own
        factors: the whole path from the target to the cost, one Factor per local derivative."""
        by_lhs = {s.lhs: s for s in self.steps if s.target.base == nt.a}
        out = []
        for factor in step.factors:
            inner = by_lhs.get(factor.value) if factor.role == "upstream" else None
            out += self.flat_factors(inner) if inner is not None else [factor]
        return out

    def expanded(self, step):
        """The step's value with the recursion written out: the product of its flat factors."""
        return printing.ordered_product(*[f.value for f in self.flat_factors(step)])

    def latex(self):
        return r" \\ ".join(s.latex() for s in self.steps)

    def text(self):
        return "\n".join(s.text() for s in self.steps)


@dataclass(frozen=True, eq=False)
class Regularisation(_Shows):
    """A regulariser's term in the cost and in the weights' gradient (Nielsen's chapter 3)."""

    name: str
    title: str
    strength: float  # λ
    cost: Definition  # C = C₀ + (λ/n) Σ penalty(w)
    weight: Definition  # ∂C/∂w_jk = ∂C₀/∂w_jk + (λ/n) penalty'(w_jk), penalty' by SymPy
    bias: Definition  # ∂C/∂b_j = ∂C₀/∂b_j: biases are not penalised
    matrix: Definition  # the same for the whole weight matrix, entry by entry

    def latex(self):
        return r" \\ ".join(d.latex() for d in (self.cost, self.weight, self.bias))

    def text(self):
        return "\n".join(d.text() for d in (self.cost, self.weight, self.bias))

    def to_dict(self):
        return {"name": self.name, "title": self.title, "lambda": self.strength, "cost": self.cost.latex(),
                "weight": self.weight.latex(), "bias": self.bias.latex(), "matrix": self.matrix.latex()}


SIMPLIFIED = "BP1 simplified"
"""The source of the output error as SymPy simplified it (a − y where σ' cancels)."""


@dataclass(frozen=True)
class Form:
    """One statement of the derivation, as verify looks it up: lhs = rhs for a general layer
    and neurons (l, j, k), with the chain-rule factors it is made of (for the diagnosis)."""

    lhs: sp.Expr
    rhs: sp.Expr
    factors: tuple = ()
    source: str = ""  # where it comes from: "BP2", "paths", "factor", ...


@dataclass(frozen=True, eq=False)
class Derivation(_Shows):
    """Everything derived for one network.  Read by render, verify, check and codegen."""

    network: object
    chain: Chain
    definitions: tuple  # indexed z, a, C₀
    weight: ChainRule  # ∂C₀/∂w^{(L)}_{jk}
    bias: ChainRule  # ∂C₀/∂b^{(L)}_j
    paths: PathSum  # ∂C₀/∂a^{(L-1)}_k
    general_weight: ChainRule  # ∂C₀/∂w^{(l)}_{jk} for any layer
    general_bias: ChainRule  # ∂C₀/∂b^{(l)}_j
    general_paths: PathSum  # ∂C₀/∂a^{(l-1)}_k
    delta: Definition  # δ^{(l)}_j := ∂C₀/∂z^{(l)}_j
    bp: tuple  # BP1..BP4
    average: Definition  # ∂C/∂w = (1/n) Σ_x ∂C_x/∂w
    gradient: tuple  # the entries of ∇C, per layer
    layers: tuple  # LayerStep for L, L-1, ..., 1
    slopes: tuple  # ActivationSlope per distinct activation
    cost_term: sp.Expr  # c(a, y), one output neuron's term of C₀, in notation's output and target
    cost_slope: sp.Expr  # ∂C₀/∂a^{(L)}_j for this cost
    output_error: sp.Expr  # δ^{(L)}_j simplified for this cost and output activation, in a, y
    output_error_cancels: bool  # the cost's slope and the output activation's σ' cancel (a − y)
    regularisation: tuple = ()  # a Regularisation per regulariser of the network

    @property
    def output_error_symbols(self):
        """(a, y): the symbols ``output_error`` and ``cost_term`` are written in."""
        return nt.output, nt.target

    @property
    def output_error_indexed(self):
        """δ^{(L)}_j for this cost and output activation, written with a^{(L)}_j and y_j."""
        return printing.ordered_xreplace(self.output_error, {nt.output: nt.a[nt.L, nt.j], nt.target: nt.y[nt.j]})

    def with_cost_slope(self, expr):
        """``expr`` with every ∂C₀/∂a^{(L)}_x replaced by this cost's slope at neuron x."""
        def is_output_partial(e):
            if not (isinstance(e, sp.Derivative) and e.expr == nt.C0):
                return False
            (var, _), = e.variable_count
            return isinstance(var, sp.Indexed) and var.base == nt.a and len(var.indices) == 2 and var.indices[0] == nt.L

        return expr.replace(is_output_partial, lambda e: self.cost_slope.xreplace(
            {nt.j: e.variable_count[0][0].indices[1]}))

    def bp_equation(self, name):
        return next(e for e in self.bp if e.name == name)

    def slope(self, name):
        """The ActivationSlope of the activation ``name``."""
        return next(s for s in self.slopes if s.name == name)

    def forms(self):
        """Every statement of the derivation as a :class:`Form`: the output layer's first (with
        this cost's slope), then those for any layer l, index forms, matrix forms, local factors.
        verify finds the expected right-hand side of a student's left-hand side here."""
        L, j = nt.L, nt.j
        bp = {e.name: e for e in self.bp}
        cost = Factor(nt.partial(nt.C0, nt.a[L, j]), self.cost_slope, "cost_slope")
        if self.network.activation(self.network.depth).elementwise:
            out_slope = bp["BP1"].derived_from.factors[0]
            output_error = printing.ordered_product(self.cost_slope, out_slope.value)
            bp1_factors = (out_slope, cost)
        else:  # softmax: BP1 is the sum over the outputs, Jᵀ∇_a C
            output_error, bp1_factors = self.with_cost_slope(bp["BP1"].index_rhs), ()
        bp2_paths = bp["BP2"].derived_from
        bp2_factors = (*bp2_paths.path.factors, Factor(nt.partial(nt.a[nt.l, j], nt.z[nt.l, j]),
                                                        nt.sigma_prime(nt.z[nt.l, j]), "activation_slope"))
        chains = (self.weight, self.bias, self.general_weight, self.general_bias)
        cancelled = []
        if self.output_error_cancels:  # δᴸ = a − y: shown first, as the derivation simplifies it
            whole = printing.ordered_xreplace(self.output_error, {nt.output: nt.a[L], nt.target: nt.target})
            cancelled = [Form(bp["BP1"].index_lhs, self.output_error_indexed, (), SIMPLIFIED),
                         Form(nt.partial(nt.C0, nt.z[L, j]), self.output_error_indexed, (), SIMPLIFIED),
                         Form(bp["BP1"].matrix_lhs, whole, (), SIMPLIFIED)]
        regularised = [form for r in self.regularisation
                       for form in (Form(r.weight.lhs, r.weight.rhs, (), "regularisation"),
                                    Form(r.matrix.lhs, r.matrix.rhs, (), "regularisation"))]
        forms = [*regularised, *cancelled,
            Form(cost.partial, cost.value, (cost,), "cost slope"),
            *(Form(c.lhs, c.rhs, c.factors, "chain rule") for c in chains[:2]),
            Form(self.paths.lhs, self.paths.rhs, self.paths.path.factors, "paths"),
            Form(bp["BP1"].index_lhs, output_error, bp1_factors, "BP1"),
            Form(nt.partial(nt.C0, nt.z[L, j]), output_error, bp1_factors, "BP1"),
            Form(bp["BP1"].matrix_lhs, bp["BP1"].matrix_rhs, (), "BP1"),
            Form(nt.partial(nt.C0, nt.a[L]), nt.grad_a_C(), (), "BP1"),
            *(Form(c.lhs, c.rhs, c.factors, "chain rule") for c in chains[2:]),
            Form(self.general_paths.lhs, self.general_paths.rhs, self.general_paths.path.factors, "paths"),
            Form(bp2_paths.lhs, bp2_paths.rhs, bp2_paths.path.factors, "BP2"),
        ]
        for name in ("BP2", "BP3", "BP4"):
            e = bp[name]
            factors = bp2_factors if name == "BP2" else e.derived_from.factors
            forms.append(Form(e.index_lhs, e.index_rhs, factors, name))
            if name == "BP2":
                forms.append(Form(nt.partial(nt.C0, nt.z[nt.l, j]), e.index_rhs, factors, name))
            forms.append(Form(e.matrix_lhs, e.matrix_rhs, (), name))
        forms.append(Form(bp2_paths.matrix_lhs, bp2_paths.matrix_rhs, (), "BP2"))
        for factor in (*self.general_weight.factors[:2], *self.general_bias.factors[:1],
                       *self.general_paths.path.factors[:1]):
            forms.append(Form(factor.partial, factor.value, (factor,), "factor"))
        return tuple(forms)

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
                        "paths": self.paths.to_dict(), "general_weight": self.general_weight.to_dict(),
                        "general_bias": self.general_bias.to_dict(), "general_paths": self.general_paths.to_dict()},
            "delta": self.delta.to_dict(),
            "bp": [e.to_dict() for e in self.bp],
            "average": self.average.to_dict(),
            "gradient": [printing.latex(g) for g in self.gradient],
            "layers": [s.to_dict() for s in self.layers],
            "activations": [s.to_dict() for s in self.slopes],
            "regularisation": [r.to_dict() for r in self.regularisation],
            "cost": {"name": net.cost, "per_neuron": printing.latex(self.cost_term),
                     "slope": printing.latex(self.cost_slope),
                     "output_error": printing.latex(self.output_error)},
        }


# The derivation -----------------------------------------------------------------------------

def local_derivative(expr, var):
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


def cost_slope(cost, a, y):
    """∂c/∂a: SymPy's derivative, written as the registry's lectures' form when it has one.

    The registry's form is checked against SymPy's derivative, so a wrong entry cannot pass.
    """
    derivative = local_derivative(cost.per_neuron(a, y), a)
    if cost.slope is None:
        return _tidy(derivative)
    form = cost.slope(a, y)
    if sp.simplify(printing.plain(form) - derivative) != 0:
        raise ValueError(f"the cost registry's slope for {cost.name} is not the derivative of its term")
    return form


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
    upstream = Factor(nt.partial(nt.C0, nt.a[L]), cost_slope(cost, nt.a[L], nt.target), "cost_slope")
    for i in range(depth):
        layer = L - i
        zdef = model.chain_weighted_input(layer)
        slope = Factor(nt.partial(nt.a[layer], nt.z[layer]),
                       local_derivative(model.chain_activation(layer), nt.z[layer]), "activation_slope")
        dw = Factor(nt.partial(nt.z[layer], nt.w[layer]), local_derivative(zdef, nt.w[layer]), "input_activation")
        db = Factor(nt.partial(nt.z[layer], nt.b[layer]), local_derivative(zdef, nt.b[layer]), "bias")
        steps.append(ChainRule(nt.w[layer], (dw, slope, upstream), "weight"))
        steps.append(ChainRule(nt.b[layer], (db, slope, upstream), "bias"))
        if i < depth - 1:  # a^{(0)} is the input, which nobody adjusts
            da = Factor(nt.partial(nt.z[layer], nt.a[layer - 1]), local_derivative(zdef, nt.a[layer - 1]), "weight")
            step = ChainRule(nt.a[layer - 1], (da, slope, upstream), "previous activation")
            steps.append(step)
            upstream = Factor(step.lhs, step.lhs, "upstream")
    return Chain(definitions, tuple(steps))


def _indexed(cost, layer):
    """∂C₀/∂w^{(l)}_{jk}, ∂C₀/∂b^{(l)}_j and the path sum for ∂C₀/∂a^{(l-1)}_k."""
    j, k = nt.j, nt.k
    term = model.weighted_input_term(layer, j, k)
    slope = Factor(nt.partial(nt.a[layer, j], nt.z[layer, j]),
                   local_derivative(model.activation(layer, j), nt.z[layer, j]), "activation_slope")
    if layer == nt.L:
        value = cost_slope(cost, nt.a[layer, j], nt.y[j])
        upstream = Factor(nt.partial(nt.C0, nt.a[layer, j]), value, "cost_slope")
    else:
        upstream = Factor(nt.partial(nt.C0, nt.a[layer, j]), nt.partial(nt.C0, nt.a[layer, j]), "upstream")
    dw = Factor(nt.partial(nt.z[layer, j], nt.w[layer, j, k]), local_derivative(term, nt.w[layer, j, k]),
                "input_activation")
    db = Factor(nt.partial(nt.z[layer, j], nt.b[layer, j]), local_derivative(term, nt.b[layer, j]), "bias")
    da = Factor(nt.partial(nt.z[layer, j], nt.a[layer - 1, k]), local_derivative(term, nt.a[layer - 1, k]), "weight")
    weight = ChainRule(nt.w[layer, j, k], (dw, slope, upstream), "a weight only reaches the cost through z_j")
    bias = ChainRule(nt.b[layer, j], (db, slope, upstream), "the bias, with ∂z/∂b = 1")
    # a^{(l-1)}_k enters z^{(l)}_j for every j of layer l: one path per j, and they add up.
    paths = PathSum(ChainRule(nt.a[layer - 1, k], (da, slope, upstream)), j, nt.n[layer] - 1,
                    "a_k influences the cost through every neuron j of the next layer")
    return weight, bias, paths


def normalised_jacobian(entry):
    """∂a^{(L)}_i/∂z^{(L)}_j of a normalised output layer (softmax), by SymPy: a_i = e(z_i)/Σ_k e(z_k)
    differentiated, its sum collapsed, and e(z) written back as a·Σ: a_i(δ_ij − a_j) for softmax."""
    L, j, k, i = nt.L, nt.j, nt.k, nt.index_symbol("i")
    total = sp.Sum(entry.expression(nt.z[L, k]), (k, 0, nt.n[L] - 1))
    a_i = entry.expression(nt.z[L, i]) / total
    raw = sp.diff(a_i, nt.z[L, j]).doit()
    raw = raw.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])  # j is a neuron of layer L
    held = sp.Symbol("S", positive=True)
    back = sp.expand(raw.xreplace({total: held})).xreplace(
        {entry.expression(nt.z[L, i]): nt.a[L, i] * held, entry.expression(nt.z[L, j]): nt.a[L, j] * held})
    jacobian = sp.factor(sp.simplify(back))
    if jacobian.has(held) or jacobian.has(nt.z):
        raise ValueError(f"the Jacobian of {entry.name} is not a function of its outputs")
    return i, jacobian


def _through_delta(layer):
    """∂C₀/∂w^{(l)}_{jk}, ∂C₀/∂b^{(l)}_j and ∂C₀/∂a^{(l-1)}_k through z^{(l)}_j, whose sensitivity is δ."""
    j, k = nt.j, nt.k
    term = model.weighted_input_term(layer, j, k)
    up = Factor(nt.partial(nt.C0, nt.z[layer, j]), nt.delta[layer, j], "upstream_delta")
    dw = Factor(nt.partial(nt.z[layer, j], nt.w[layer, j, k]), local_derivative(term, nt.w[layer, j, k]),
                "input_activation")
    db = Factor(nt.partial(nt.z[layer, j], nt.b[layer, j]), local_derivative(term, nt.b[layer, j]), "bias")
    da = Factor(nt.partial(nt.z[layer, j], nt.a[layer - 1, k]), local_derivative(term, nt.a[layer - 1, k]), "weight")
    return (ChainRule(nt.w[layer, j, k], (dw, up), "a weight only reaches the cost through z_j"),
            ChainRule(nt.b[layer, j], (db, up), "the bias, with ∂z/∂b = 1"),
            PathSum(ChainRule(nt.a[layer - 1, k], (da, up)), j, nt.n[layer] - 1,
                    "a_k influences the cost through every neuron j of the next layer"))


def _bp1(network):
    """BP1: δ^{(L)}_j = ∂C₀/∂a^{(L)}_j σ'(z^{(L)}_j), the chain rule through a^{(L)}_j; for a normalised
    output layer (softmax) every a_i depends on z_j: δ^{(L)}_j = Σ_i ∂C₀/∂a^{(L)}_i ∂a_i/∂z_j = (Jᵀ∇_a C)_j."""
    j, L = nt.j, nt.L
    entry = network.activation(network.depth)
    if not entry.elementwise:
        i, jacobian = normalised_jacobian(entry)
        slope = Factor(nt.partial(nt.a[L, i], nt.z[L, j]), jacobian, "activation_slope")
        cost = Factor(nt.partial(nt.C0, nt.a[L, i]), nt.partial(nt.C0, nt.a[L, i]), "cost_slope")
        paths = PathSum(ChainRule(nt.z[L, j], (slope, cost)), i, nt.n[L] - 1,
                        "every output a_i depends on z_j through the normalising sum")
        return BPEquation("BP1", "error at the output layer", nt.delta[L, j], paths.rhs, nt.delta[L],
                          nt.matrix_product(nt.Transposed(nt.partial(nt.a[L], nt.z[L])), nt.grad_a_C()), paths)
    slope = Factor(nt.partial(nt.a[L, j], nt.z[L, j]), local_derivative(model.activation(L, j), nt.z[L, j]),
                   "activation_slope")
    cost = Factor(nt.partial(nt.C0, nt.a[L, j]), nt.partial(nt.C0, nt.a[L, j]), "cost_slope")
    chain = ChainRule(nt.z[L, j], (slope, cost), "the output error")
    return BPEquation("BP1", "error at the output layer", nt.delta[L, j],
                      printing.ordered_product(cost.value, slope.value), nt.delta[L],
                      nt.Hadamard(nt.grad_a_C(), nt.sigma_prime(nt.z[L])), chain)


def _bp2(l):
    """BP2: δ^{(l)}_j = Σ_k w^{(l+1)}_{kj} δ^{(l+1)}_k σ'(z^{(l)}_j): the paths through layer l+1."""
    j, k = nt.j, nt.k
    term = model.weighted_input_term(l + 1, k, j)
    da = Factor(nt.partial(nt.z[l + 1, k], nt.a[l, j]), local_derivative(term, nt.a[l, j]), "weight")
    up = Factor(nt.partial(nt.C0, nt.z[l + 1, k]), nt.delta[l + 1, k], "upstream_delta")
    back = nt.matrix_product(nt.Transposed(nt.w[l + 1]), nt.delta[l + 1])
    paths = PathSum(ChainRule(nt.a[l, j], (da, up)), k, nt.n[l + 1] - 1, "sum over the paths through layer l+1",
                    nt.partial(nt.C0, nt.a[l]), back)
    slope = local_derivative(model.activation(l, j), nt.z[l, j])
    return BPEquation("BP2", "error of a layer from the error of the next",
                      nt.delta[l, j], printing.ordered_product(paths.rhs, slope), nt.delta[l],
                      nt.Hadamard(back, nt.sigma_prime(nt.z[l])), paths)


def _bp3_bp4(l):
    """BP3 and BP4: the chain rule through z^{(l)}_j, whose sensitivity is δ^{(l)}_j."""
    j, k = nt.j, nt.k
    term = model.weighted_input_term(l, j, k)
    up = Factor(nt.partial(nt.C0, nt.z[l, j]), nt.delta[l, j], "upstream_delta")
    db = Factor(nt.partial(nt.z[l, j], nt.b[l, j]), local_derivative(term, nt.b[l, j]), "bias")
    dw = Factor(nt.partial(nt.z[l, j], nt.w[l, j, k]), local_derivative(term, nt.w[l, j, k]), "input_activation")
    bias, weight = ChainRule(nt.b[l, j], (db, up), "the bias"), ChainRule(nt.w[l, j, k], (dw, up), "a weight")
    bp3 = BPEquation("BP3", "gradient with respect to a bias", bias.lhs, bias.rhs,
                     nt.partial(nt.C0, nt.b[l]), nt.delta[l], bias)
    bp4 = BPEquation("BP4", "gradient with respect to a weight", weight.lhs, weight.rhs,
                     nt.partial(nt.C0, nt.w[l]), nt.matrix_product(nt.delta[l], nt.Transposed(nt.a[l - 1])), weight)
    return bp3, bp4


def _bp(network):
    """δ and BP1-BP4 for a general layer l."""
    delta = Definition(nt.delta[nt.l, nt.j], nt.partial(nt.C0, nt.z[nt.l, nt.j]), "the error of neuron j in layer l")
    return delta, (_bp1(network), _bp2(nt.l), *_bp3_bp4(nt.l))


def _layers(network):
    """BP1-BP4 written at every concrete layer of the network, from L down to 1."""
    out = []
    for number in range(network.depth, 0, -1):
        label = nt.relative_layer(number, network.depth)
        bp3, bp4 = _bp3_bp4(label)
        delta = _bp1(network) if number == network.depth else _bp2(label)
        out.append(LayerStep(number, label, network.width(number), network.activations[number - 1], delta,
                             Definition(bp4.index_lhs, bp4.index_rhs), Definition(bp3.index_lhs, bp3.index_rhs)))
    return tuple(out)


def _slopes(network):
    out = []
    z = sp.Symbol("z")
    for name in dict.fromkeys(network.activations):
        entry = network.activation(network.activations.index(name) + 1)
        layers = tuple(i + 1 for i, n in enumerate(network.activations) if n == name)
        if entry.elementwise:
            out.append(ActivationSlope(name, layers, entry.named(z), entry.expression(z), entry.derivative(z),
                                       entry.lecture_form(z), entry.derivative_from_output(nt.output)))
        else:  # the output layer's a_j = e(z_j)/Σ_k e(z_k), and its Jacobian ∂a_i/∂z_j
            L, j, k = nt.L, nt.j, nt.k
            _, jacobian = normalised_jacobian(entry)
            out.append(ActivationSlope(name, layers, entry.named(nt.z[L, j]),
                                       entry.expression(nt.z[L, j]) / sp.Sum(entry.expression(nt.z[L, k]),
                                                                             (k, 0, nt.n[L] - 1)),
                                       jacobian, jacobian, entry.derivative_from_output(nt.output)))
    return tuple(out)


def _output_error(network, slope):
    """δ^{(L)}_j for this cost and output activation, in a and y, simplified by SymPy, and
    whether that simplification cancelled σ' (sigmoid with cross-entropy gives a − y: the
    simplification is SymPy's, not ours)."""
    out = network.activation(network.depth)
    if not out.elementwise:
        return _normalised_output_error(network)
    product = printing.ordered_product(slope, out.derivative_from_output(nt.output))
    simplified = _tidy(sp.cancel(printing.plain(product)))
    if sp.count_ops(simplified) < sp.count_ops(product):
        return simplified, True
    return product, False


def _normalised_output_error(network):
    """δ^{(L)}_j = Σ_i ∂C₀/∂a_i J_ij for a softmax output, by SymPy, with targets adding up to 1
    (one-hot, or probabilities): with the log-likelihood it is a − y, in (a, y) like the others."""
    L, j = nt.L, nt.j
    i, jacobian = normalised_jacobian(network.activation(network.depth))
    error = sp.Sum(printing.plain(cost_slope(network.cost_entry, nt.a[L, i], nt.y[i])) * jacobian,
                   (i, 0, nt.n[L] - 1)).doit()
    error = error.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])
    error = sp.simplify(sp.expand(error)).xreplace({sp.Sum(nt.y[i], (i, 0, nt.n[L] - 1)): 1})
    if error.has(sp.Sum):
        return error, False  # it stays a sum over the outputs (e.g. the quadratic cost)
    return _tidy(error.xreplace({nt.a[L, j]: nt.output, nt.y[j]: nt.target})), True


def _regularisation(network):
    """Each regulariser's cost term and gradient, per example, with penalty' by SymPy."""
    l, j, k = nt.l, nt.j, nt.k
    share = nt.lam / nt.n_examples
    out = []
    for entry, strength in network.regularisers:
        total = sp.Sum(sp.Sum(sp.Sum(entry.penalty(nt.w[l, j, k]), (k, 0, nt.n[l - 1] - 1)), (j, 0, nt.n[l] - 1)),
                       (l, 1, nt.L))  # nested, so that it prints as three sums
        cost = Definition(nt.C, printing.ordered_sum(nt.C0, printing.ordered_product(share, total)),
                          "the cost with this example's share of the penalty on every weight")
        weight = Definition(nt.partial(nt.C, nt.w[l, j, k]), printing.ordered_sum(
            nt.partial(nt.C0, nt.w[l, j, k]), printing.ordered_product(share, entry.slope(nt.w[l, j, k]))))
        bias = Definition(nt.partial(nt.C, nt.b[l, j]), nt.partial(nt.C0, nt.b[l, j]), "biases are not penalised")
        matrix = Definition(nt.partial(nt.C, nt.w[l]), printing.ordered_sum(
            nt.partial(nt.C0, nt.w[l]), printing.ordered_product(share, entry.slope(nt.w[l]))))
        out.append(Regularisation(entry.name, entry.title, strength, cost, weight, bias, matrix))
    return tuple(out)


@lru_cache(maxsize=64)
def derive(network=None):
    """Derive backpropagation for ``network`` (default: the lectures' 1-1-1-1 sigmoid network).

    Cached per network: check, notes, verify and codegen of one network share one derivation.
    """
    network = Network.parse() if network is None else network
    cost = network.cost_entry
    j, k, l = nt.j, nt.k, nt.l
    definitions = (
        Definition(nt.z[l, j], model.weighted_input(l), "the weighted input of neuron j in layer l"),
        Definition(nt.a[l, j], model.activation(l), "its activation"),
        Definition(nt.C0, model.cost(cost), "the cost of one training example, summed over the outputs"),
    )
    if network.activation(network.depth).elementwise:
        weight, bias, paths = _indexed(cost, nt.L)
    else:  # softmax: a_j depends on every z, so the output layer's chain rules go through δ^{(L)}_j (BP1)
        weight, bias, paths = _through_delta(nt.L)
    general_weight, general_bias, general_paths = _indexed(cost, l)
    delta_def, bp = _bp(network)
    average = Definition(nt.partial(nt.C, nt.w[l, j, k]),
                         printing.ordered_product(1 / nt.n_examples, sp.Sum(
                             nt.partial(nt.Cx, nt.w[l, j, k]), (nt.x, 1, nt.n_examples))),
                         "the full cost averages the costs of the n training examples")
    gradient = tuple(g for number in range(1, network.depth + 1)
                     for g in (nt.partial(nt.C, nt.w[number]), nt.partial(nt.C, nt.b[number])))
    slope = cost_slope(cost, nt.output, nt.target)
    error, cancels = _output_error(network, slope)
    return Derivation(
        network=network, chain=_chain(network), definitions=definitions, weight=weight, bias=bias,
        paths=paths, general_weight=general_weight, general_bias=general_bias, general_paths=general_paths,
        delta=delta_def, bp=bp, average=average, gradient=gradient, layers=_layers(network),
        slopes=_slopes(network), cost_term=cost.per_neuron(nt.output, nt.target),
        cost_slope=cost_slope(cost, nt.a[nt.L, j], nt.y[j]), output_error=error, output_error_cancels=cancels,
        regularisation=_regularisation(network),
    )
