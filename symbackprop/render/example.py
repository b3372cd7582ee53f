"""The notes' worked examples: this network's numbers at seeded parameters, followed by hand.

Every number comes from ``numeric`` (the one numerical backprop: ``forward``, ``backward``,
``cost``, ``finite_differences``); nothing here computes a derivative another way.  Three
examples, all at the same seeded parameters:

* :func:`chain_numbers`  the one-neuron chain: each factor of each chain rule, and its product;
* :func:`hand_example`   a small multi-neuron network written out neuron by neuron (every z, a,
  ∂C₀/∂a, σ', δ and gradient entry), then one step of gradient descent that lowers the cost;
* :func:`network_numbers` the user's own network: δ and ∂C₀/∂w per layer (summaries for big
  ones), their sizes layer by layer, the neurons that are off, checked by finite differences.

Numbers are :class:`Number` objects: 4 significant digits for everything computed, the
parameters of a hand-sized example exactly as drawn (rounded to 2 decimals first, so that a
reader's calculator starts from the same values).
"""

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import numeric
from ..printing import ordered_xreplace, plain
from ..spec import Network

SEED = 0
DIGITS = 4  # significant digits of every computed number shown
DECIMALS = 2  # the parameters, inputs and targets of a hand-sized example
HAND_PARAMETERS = 40  # networks up to this many parameters get parameters with DECIMALS decimals
HAND_WIDTH = 3  # the user's network is the hand example when no layer is wider and ...
HAND_DEPTH = 3  # ... it has at most this many weight layers
FD_ALL = 400  # parameters up to which every derivative is checked by finite differences
MATRIX_ROWS, MATRIX_COLUMNS = 10, 6  # a matrix is printed whole up to this size (the page's width)
COLUMN_LIMIT = 6  # a vector up to this many entries is printed as a column
VECTOR_LIMIT = 64  # a vector up to this many entries is printed whole (as a table when long)
RATE = 1.0  # the first learning rate tried for the gradient-descent step (halved until the cost drops)
SEEDS = 30  # seeds tried for a hand example where every layer passes some error back


@dataclass(frozen=True)
class Number:
    """A number as the notes print it: 4 significant digits, or the exact given decimals."""

    value: float
    decimals: int = None  # None: DIGITS significant digits

    def __float__(self):
        return float(self.value)

    @property
    def negative(self):
        return self.formatted.startswith("-")

    @property
    def formatted(self):
        if self.decimals is not None:
            out = f"{self.value:.{self.decimals}f}"
        elif self.value == 0:
            return "0"
        else:
            out = f"{self.value:#.{DIGITS}g}"
        if out.startswith("-") and float(out.split("e")[0]) == 0:
            out = out[1:]
        return out

    def _parts(self):
        mantissa, _, exponent = self.formatted.partition("e")
        return mantissa.rstrip("."), (int(exponent) if exponent else None)

    def latex(self):
        mantissa, exponent = self._parts()
        return mantissa if exponent is None else rf"{mantissa} \cdot 10^{{{exponent}}}"

    def text(self):
        mantissa, exponent = self._parts()
        mantissa = mantissa.replace("-", "−")
        return mantissa if exponent is None else f"{mantissa}·10^{exponent}"

    def __str__(self):
        return self.text()


def number(value, decimals=None):
    return Number(float(value), decimals)


def exactly(value):
    """A number given exactly (a learning rate of 0.25): as many decimals as it has."""
    text = f"{float(value):g}"
    return Number(float(value), len(text.partition(".")[2]))


@dataclass
class Product:
    """Numbers to multiply, printed 0.1 × (−0.2); ``terms`` of a :class:`Sum`."""

    factors: list
    shown_as = "product"  # how the templates' ``value`` macro prints it


@dataclass
class Sum:
    """A sum of products of numbers, then ``plus`` (a bias), printed w a + w a + b."""

    terms: list
    plus: object = None
    shown_as = "sum"


@dataclass
class Grid:
    """A matrix (or a column vector) of numbers, printed as a bracketed matrix."""

    rows: list
    shown_as = "grid"

    @property
    def shape(self):
        return len(self.rows), len(self.rows[0]) if self.rows else 0


@dataclass
class Outer:
    """A column times a row, δ (a)ᵀ with numbers."""

    column: Grid
    row: Grid
    shown_as = "outer"


@dataclass
class Step:
    """A gradient-descent step with numbers: before − η × gradient."""

    before: Grid
    rate: Number
    gradient: Grid
    shown_as = "step"


@dataclass
class Combination:
    """Numbers times matrices added up, printed 0.75 [w] − 0.5 [g]: ``terms`` of (sign "" "+" "-",
    coefficient Number or None, Grid)."""

    terms: list
    shown_as = "combination"
    width: int = 6  # matrix columns that fit on one line of a display

    @property
    def parts(self):
        """The combination over several lines of a display, a term per line, when its matrices are wide."""
        columns = sum(m.shape[1] for _, _, m in self.terms if isinstance(m, Grid))
        if columns <= self.width or len(self.terms) < 2:
            return [self]
        return [Combination([term]) for term in self.terms]


def grid(array, decimals=None):
    array = np.atleast_2d(array)
    return Grid([[number(v, decimals) for v in row] for row in array])


def column(vector, decimals=None):
    return grid(np.asarray(vector).reshape(-1, 1), decimals)


# Parameters --------------------------------------------------------------------------------

def hand_sized(network):
    return network.num_parameters <= HAND_PARAMETERS


def example_point(network, seed=SEED):
    """(params, X, Y) of the examples: ``numeric``'s seeded parameters and one training example;
    for a hand-sized network rounded to DECIMALS decimals, so that a reader starts from the
    very numbers the computation uses."""
    params = numeric.init_params(network, seed)
    X, Y = numeric.random_batch(network, 1, seed + 1)
    normalised = getattr(network.cost_entry, "needs_normalised_output", False)
    if normalised:  # targets that add up to 1, as the cost assumes (a probability per class)
        Y = Y / Y.sum(axis=1, keepdims=True)
    if hand_sized(network):
        params = {k: np.round(v, DECIMALS) for k, v in params.items()}
        X, Y = np.round(X, DECIMALS), np.clip(np.round(Y, DECIMALS), 0.01, 0.99)
        if normalised:  # still adding up to 1 after the rounding
            Y[:, -1] = np.round(1 - Y[:, :-1].sum(axis=1), DECIMALS)
    return params, X, Y


def plain_network(network):
    """The network without its regularisers: the notes' numbers are those of C₀, one example's cost."""
    return Network(network.sizes, network.activations, network.cost)


def given(network):
    """The decimals parameters and inputs are printed with: exact for a hand-sized network."""
    return DECIMALS if hand_sized(network) else None


# The one-neuron chain -----------------------------------------------------------------------

@dataclass
class NumericStep:
    step: object
    factors: list  # Number per factor of the chain rule
    product: Number
    backprop: object  # the numerical backprop's value (None for ∂C₀/∂a steps)
    finite_difference: object


def chain_numbers(derivation):
    """The chain of the same depth at the example's parameters: each factor's value, each
    gradient, checked against the numerical backprop and central finite differences."""
    net = plain_network(derivation.network).one_neuron_chain()
    depth = net.depth
    params, X, Y = example_point(net)
    back = numeric.backward(net, params, X, Y)
    zs, acts, grads = back.zs, back.acts, back.grads
    fd = numeric.finite_differences(net, params, X, Y)
    values = {nt.target: sp.Float(Y[0, 0])}
    for layer in range(depth + 1):
        values[nt.a[layer]] = sp.Float(acts[layer][0, 0])
    for layer in range(1, depth + 1):
        values[nt.z[layer]] = sp.Float(zs[layer][0, 0])
        values[nt.w[layer]] = sp.Float(params[f"W{layer}"][0, 0])
        values[nt.b[layer]] = sp.Float(params[f"b{layer}"][0])
        # σ'(z^{(l)}) of layer l's own activation, from its output a = σ(z) (no sympy.diff per factor)
        slope = net.activation(layer).derivative_from_output(sp.Float(acts[layer][0, 0]))
        values[nt.sigma_prime(nt.z[layer])] = sp.Float(sp.N(slope))
    upstream = {}
    steps = []
    for step in derivation.chain.steps:
        numbers = []
        for factor in step.factors:
            expr = plain(factor.value).xreplace(upstream).xreplace({nt.L: sp.Integer(depth)})
            numbers.append(float(sp.N(expr.xreplace(values))))
        product = float(np.prod(numbers))
        target = step.target
        if target.base == nt.a:
            upstream[step.lhs] = sp.Float(product)
            reference = fd_value = None
        else:
            layer = int(nt.concrete_layer(nt.layer_of(target), depth))
            key = f"{'W' if target.base == nt.w else 'b'}{layer}"
            reference, fd_value = float(grads[key].flat[0]), float(fd[key].flat[0])
        steps.append(NumericStep(step, [number(v) for v in numbers], number(product),
                                 None if reference is None else number(reference),
                                 None if fd_value is None else number(fd_value)))
    exact = given(net)
    table = [(nt.relative_layer(layer, depth), number(params[f"W{layer}"][0, 0], exact),
              number(params[f"b{layer}"][0], exact), number(zs[layer][0, 0]), number(acts[layer][0, 0]))
             for layer in range(1, depth + 1)]
    diffs = [abs(float(grads[k].flat[0]) - float(fd[k].flat[0])) for k in grads]
    return dict(network=net, x=number(X[0, 0], exact), y=number(Y[0, 0], exact), a0=nt.a[nt.L - depth],
                layers=table, steps=steps, cost=number(numeric.cost(net, params, X, Y)),
                max_difference=Number(max(diffs), None))


# A small multi-neuron network by hand ---------------------------------------------------------

@dataclass
class ForwardNeuron:
    z: object  # z^{(l)}_j (a SymPy Indexed)
    a: object
    sum: Sum  # w a + w a + b with numbers
    z_value: Number
    a_value: Number
    form: object = None  # a normalised layer's a_j as its formula in this layer's z (softmax), else None


@dataclass
class BackwardNeuron:
    d_a: object  # ∂C₀/∂a^{(l)}_j
    d_a_value: Number
    d_a_sum: object  # Sum of w δ from the layer above, or None at the output layer
    d_a_form: object  # the same as a formula: the cost's slope at the output, Σ_k w δ below it
    slope: object  # σ'(z^{(l)}_j)
    slope_form: object  # σ'(z) in terms of a, e.g. a(1 − a), written with a^{(l)}_j
    slope_value: Number
    delta: object  # δ^{(l)}_j
    delta_product: Product  # None at a normalised output layer (softmax), whose δ is not a product
    delta_value: Number
    delta_form: object = None  # there: δ as the derivation gives it


@dataclass
class HandLayer:
    number: int
    label: object
    activation: object  # the registry entry
    forward: list
    backward: list = field(default_factory=list)
    weights: Grid = None
    biases: Grid = None
    grad_w: Grid = None  # ∂C₀/∂w^{(l)} = δ (a^{(l-1)})^T
    delta: Grid = None
    previous: Grid = None  # a^{(l-1)} as a row: (a^{(l-1)})^T
    new_weights: Grid = None
    new_biases: Grid = None
    outer: object = None  # δ (a^{(l-1)})^T with numbers
    weight_step: object = None  # w − η ∂C₀/∂w with numbers
    bias_step: object = None


def _lowers_the_cost(net, params, X, Y, grads, rate):
    new = {k: params[k] - rate * grads[k] for k in params}
    return numeric.cost(net, new, X, Y) < numeric.cost(net, params, X, Y)


def hand_network(network):
    """The network the worked example writes out by hand: the user's own when it is small and
    has several neurons in some layer, else one with 2 neurons per layer and the activations
    and cost of the user's last (at most 2) layers (never its regularisers: the example is C₀'s)."""
    network = plain_network(network)
    if not network.one_neuron_per_layer and network.depth <= HAND_DEPTH \
            and max(network.sizes) <= HAND_WIDTH and hand_sized(network):
        return network
    depth = min(network.depth, 2)
    return Network((2,) * (depth + 1), network.activations[-depth:], network.cost)


def hand_seed(net):
    """The first seed whose example passes some error back through every layer (no layer with
    every neuron off) and where a gradient-descent step lowers the cost."""
    for seed in range(SEED, SEED + SEEDS):
        params, X, Y = example_point(net, seed)
        back = numeric.backward(net, params, X, Y)
        if all(np.abs(back.delta[layer]).max() > 1e-3 for layer in range(1, net.depth + 1)):
            return seed
    return SEED


def _rate(net, params, X, Y, grads):
    rate = RATE
    while rate > 1e-4 and not _lowers_the_cost(net, params, X, Y, grads, rate):
        rate /= 2
    return rate


def hand_example(derivation):
    """The small network's example, neuron by neuron, and one gradient-descent step."""
    net = hand_network(derivation.network)
    seed = hand_seed(net)
    params, X, Y = example_point(net, seed)
    back = numeric.backward(net, params, X, Y)
    zs, acts, d_a, delta, grads = back.zs, back.acts, back.d_a, back.delta, back.grads
    exact = given(net)
    depth = net.depth
    slope_forms = {s.name: s.from_output for s in derivation.slopes}
    layers = []
    for layer in range(1, depth + 1):
        label = sp.Integer(layer)  # a concrete small network: its layers by number (here L = depth)
        W, b = params[f"W{layer}"], params[f"b{layer}"]
        forward = []
        for j in range(net.width(layer)):
            terms = [Product([number(W[j, k], exact), number(acts[layer - 1][0, k], exact if layer == 1 else None)])
                     for k in range(net.width(layer - 1))]
            form = None
            if not net.activation(layer).elementwise:  # a_j = e(z_j) / Σ_k e(z_k), the sum written out
                form = ordered_xreplace(derivation.slope(net.activations[layer - 1]).expression,
                                        {nt.L: label, nt.j: sp.Integer(j), nt.n[nt.L]: sp.Integer(net.width(layer))}).doit()
            forward.append(ForwardNeuron(nt.z[label, j], nt.a[label, j], Sum(terms, number(b[j], exact)),
                                         number(zs[layer][0, j]), number(acts[layer][0, j]), form))
        layers.append(HandLayer(layer, label, net.activation(layer), forward, weights=grid(W, exact),
                                biases=column(b, exact)))
    slopes = {}
    for layer in range(depth, 0, -1):
        item = layers[layer - 1]
        label = item.label
        name = net.activations[layer - 1]
        slope_values = numeric.slope_from_output(name)(acts[layer])
        slope_values = np.broadcast_to(np.asarray(slope_values, dtype=float), acts[layer].shape)
        slopes[layer] = slope_values
        form = _slope_form(derivation, name, slope_forms)
        elementwise = net.activation(layer).elementwise
        for j in range(net.width(layer)):
            if not elementwise:  # softmax: δ_j = Σ_i ∂C₀/∂a_i ∂a_i/∂z_j, as the derivation wrote it for j
                item.backward.append(_normalised_neuron(derivation, net, label, j, d_a, delta))
                continue
            if layer == depth:
                above = None
                d_a_form = ordered_xreplace(derivation.cost_slope, {nt.j: sp.Integer(j), nt.L: label})
            else:
                W_up = params[f"W{layer + 1}"]
                above = Sum([Product([number(W_up[k, j], exact), number(delta[layer + 1][0, k])])
                             for k in range(net.width(layer + 1))])
                paths = derivation.bp_equation("BP2").derived_from.rhs  # Σ_k w^{(l+1)}_{kj} δ^{(l+1)}_k
                d_a_form = ordered_xreplace(paths, {nt.l: label, nt.j: sp.Integer(j)}).xreplace(
                    {nt.n[label + 1]: sp.Integer(net.width(layer + 1))})
            item.backward.append(BackwardNeuron(
                nt.partial(nt.C0, nt.a[label, j]), number(d_a[layer][0, j]), above, d_a_form,
                nt.sigma_prime(nt.z[label, j]), ordered_xreplace(form, {nt.output: nt.a[label, j]}) if form is not None else None,
                number(slope_values[0, j]), nt.delta[label, j],
                Product([number(d_a[layer][0, j]), number(slope_values[0, j])]), number(delta[layer][0, j])))
        item.delta = column(delta[layer][0])
        item.previous = grid(acts[layer - 1][0][None, :], exact if layer == 1 else None)
        item.grad_w = grid(grads[f"W{layer}"])
        item.outer = Outer(item.delta, item.previous)
    rate = _rate(net, params, X, Y, grads)
    new = {k: params[k] - rate * grads[k] for k in params}
    for item in layers:
        item.new_weights = grid(new[f"W{item.number}"])
        item.new_biases = column(new[f"b{item.number}"])
        item.weight_step = Step(item.weights, exactly(rate), item.grad_w)
        item.bias_step = Step(item.biases, exactly(rate), item.delta)
    before, after = numeric.cost(net, params, X, Y), numeric.cost(net, new, X, Y)
    jacobian = None
    if not net.activation(depth).elementwise:
        # ∂a_i/∂z_j of the output layer at the example, row by row from numeric's own Jᵀ∇ₐC (J^T e_i is row i)
        eye = np.eye(net.width(depth))
        rows = np.stack([numeric.through_activation(net, depth, acts[depth], eye[i][None, :])[0]
                         for i in range(net.width(depth))])
        jacobian = dict(matrix=grid(rows), transposed=grid(rows.T), gradient=column(d_a[depth][0]),
                        delta=column(delta[depth][0]), product=Outer(grid(rows.T), column(d_a[depth][0])),
                        difference=Combination([("", None, column(acts[depth][0])), ("-", None, column(Y[0], exact))]),
                        label=sp.Integer(depth),
                        values=rows)
    squared = float(sum(np.sum(g ** 2) for g in grads.values()))
    fd = numeric.finite_differences(net, params, X, Y)
    diff = max(float(np.max(np.abs(grads[k] - fd[k]))) for k in grads)
    # one entry to ask about in the exercises: the weight into neuron 0 of layer 1 from input 1
    k = min(1, net.width(0) - 1)
    return dict(
        network=net, own=net == plain_network(derivation.network), seed=seed, params=params, X=X, Y=Y, grads=grads,
        x=column(X[0], exact), y=column(Y[0], exact), outputs=[(nt.y[j], number(Y[0, j], exact)) for j in range(net.width(depth))],
        layers=layers, slopes=slopes, jacobian=jacobian,
        cost=number(before), cost_after=number(after), drop=number(before - after),
        predicted_drop=number(rate * squared), gradient_squared=number(squared), rate=exactly(rate),
        rate_halved=rate < RATE, first_rate=exactly(RATE), max_difference=Number(diff),
        cost_sum=Sum([Product([t]) for t in _cost_terms(derivation, net, acts, Y)]),
        asked=dict(weight=nt.partial(nt.C0, nt.w[1, 0, k]), a=number(acts[0][0, k], exact), delta=number(delta[1][0, 0]),
                   value=number(grads["W1"][0, k]), a_symbol=nt.a[0, k], delta_symbol=nt.delta[1, 0]),
    )


def _normalised_neuron(derivation, net, label, j, d_a, delta):
    """A neuron of a normalised output layer (softmax): its δ from the derivation's BP1 for this j,
    simplified where the cost's slope cancels the Jacobian (a − y), with no σ' of its own."""
    layer = int(label)
    where = {nt.j: sp.Integer(j), nt.L: label}
    if derivation.output_error_cancels:
        form = ordered_xreplace(derivation.output_error_indexed, where)
    else:
        form = ordered_xreplace(derivation.bp_equation("BP1").index_rhs, where).xreplace(
            {nt.n[label]: sp.Integer(net.width(layer))})
    return BackwardNeuron(nt.partial(nt.C0, nt.a[label, j]), number(d_a[layer][0, j]), None,
                          ordered_xreplace(derivation.cost_slope, where), None, None, None, nt.delta[label, j],
                          None, number(delta[layer][0, j]), delta_form=form)


def _slope_form(derivation, name, forms):
    """σ'(z) in terms of a = σ(z) (a(1 − a), 1 − a²), or None where that only repeats a step."""
    form = forms[name]  # the hand network's activations are some of the network's own
    return None if form.has(sp.Heaviside, sp.Piecewise) or form.is_number else form


def _cost_terms(derivation, net, acts, Y):
    """C₀ of the hand example: the term of every output neuron, with numbers."""
    cost = net.cost_entry
    out = []
    for j in range(net.width(net.depth)):
        a, y = float(acts[-1][0, j]), float(Y[0, j])
        out.append(number(float(sp.N(plain(cost.per_neuron(sp.Float(a), sp.Float(y)))))))
    return out


# The user's network -------------------------------------------------------------------------

@dataclass
class Summary:
    """A matrix too big to print: its shape, a few entries of its top-left corner, its largest entry."""

    rows: int
    columns: int
    corner: list  # ((row, column), Number)
    largest: Number
    where: tuple  # (row, column) of the largest entry in absolute value
    zero_rows: int
    shown_as = "summary"


def summary(matrix):
    matrix = np.atleast_2d(matrix)
    row, col = np.unravel_index(int(np.argmax(np.abs(matrix))), matrix.shape)
    corner = [((r, c), number(matrix[r, c])) for r in range(min(2, matrix.shape[0])) for c in range(min(2, matrix.shape[1]))]
    return Summary(matrix.shape[0], matrix.shape[1], corner, number(matrix[row, col]),
                   (int(row), int(col)), int(np.sum(np.all(matrix == 0, axis=1))))


@dataclass
class VectorTable:
    """A long vector as a table: index, value, in a few column groups."""

    entries: list  # (index, Number)
    groups: int = 4
    shown_as = "table"

    @property
    def rows(self):
        height = -(-len(self.entries) // self.groups)
        return [[self.entries[g * height + r] if g * height + r < len(self.entries) else None
                 for g in range(self.groups)] for r in range(height)]


@dataclass
class NetworkLayer:
    number: int
    label: object
    activation: object
    shape: tuple
    weights: object  # Grid, or Summary when too large
    biases: object  # Grid (column), VectorTable, or None when too long
    delta: object  # Grid (column), VectorTable, or Summary-free None when too long
    grad_w: object  # Grid or Summary
    delta_norm: float
    grad_norm: float
    off: list  # neurons j whose activation slope is 0 at this example
    slopes: object = None  # σ'(z^{(l)}_j) at the example (a NumPy vector)


def _vector(values, exact=None):
    values = np.asarray(values).ravel()
    if len(values) <= COLUMN_LIMIT:
        return column(values, exact)
    if len(values) <= VECTOR_LIMIT:
        return VectorTable([(i, number(v, exact)) for i, v in enumerate(values)])
    return None


def network_numbers(network, seed=SEED):
    """The user's network at the example's parameters: per layer δ, ∂C₀/∂w and their sizes,
    the neurons that are off, and a check of all gradients against finite differences
    (sampled for large networks).  ``seed``: the hand example's when this is its network."""
    network = plain_network(network)
    params, X, Y = example_point(network, seed)
    back = numeric.backward(network, params, X, Y)
    grads = back.grads
    entries = numeric.sample_entries(params, FD_ALL, SEED) if network.num_parameters > FD_ALL else None
    fd = numeric.finite_differences(network, params, X, Y, entries=entries)
    diff = max(float(np.nanmax(np.abs(grads[k] - fd[k]))) for k in grads)
    checked = sum(int(np.isfinite(fd[k]).sum()) for k in fd)
    exact = given(network)

    def matrix(array, decimals=None):
        array = np.atleast_2d(array)
        small = array.shape[0] <= MATRIX_ROWS and array.shape[1] <= MATRIX_COLUMNS
        return grid(array, decimals) if small else summary(array)

    layers = []
    for layer in range(network.depth, 0, -1):
        W = params[f"W{layer}"]
        slope = numeric.slope_from_output(network.activations[layer - 1])(back.acts[layer])
        slope = np.broadcast_to(np.asarray(slope, dtype=float), back.acts[layer].shape)
        layers.append(NetworkLayer(
            layer, nt.relative_layer(layer, network.depth), network.activation(layer), W.shape,
            matrix(W, exact), _vector(params[f"b{layer}"], exact), _vector(back.delta[layer][0]),
            matrix(grads[f"W{layer}"]), float(np.linalg.norm(back.delta[layer][0])),
            float(np.linalg.norm(grads[f"W{layer}"])), [int(j) for j in np.flatnonzero(slope[0] == 0)], slope[0]))
    small = max(network.width(0), network.width(network.depth)) <= COLUMN_LIMIT
    return dict(x=column(X[0], exact) if small else None, y=column(Y[0], exact) if small else None,
                layers=layers, cost=number(numeric.cost(network, params, X, Y)), max_difference=Number(diff),
                checked=checked, total=network.num_parameters, params=params, X=X, Y=Y, backward=back)
