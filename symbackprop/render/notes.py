"""Study notes for one network: LaTeX and Markdown from the derivation, and the PDF.

The notes follow the lectures: the one-neuron chain, the chain rule and what
each factor means, the bias, propagating back, the average over examples and the gradient,
several neurons with j and k and the sum over paths, δ and BP1-BP4, this network's own
activation and cost, a worked numeric example and exercises.

One template body (``notes.body.j2``) holds the prose and structure; ``notes.tex.j2`` and
``notes.md.j2`` render it with the LaTeX or the Markdown macros (``notes.macros.*.j2``), so
both files say the same thing.  Every formula comes from the derivation and is printed by the
environment's ``tex`` filter.  This module only gathers what the templates read: the
derivation, the figures' layouts, the worked example (``example``) and the exercises
(``exercises``); ``pdf`` compiles the LaTeX.
"""

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from .. import notation as nt
from ..derivation import derive
from ..errors import SymbackpropError
from .. import activations, costs
from ..printing import latex, ordered_product, ordered_sum, ordered_xreplace, plain, text
from ..spec import DEFAULT_COST, LECTURE_MULTI_SIZES, LECTURE_SIZES, Network
from . import decay, example, figures, lessons, normalised, plots
from .environment import render_template
from .exercises import exercises
from .pdf import build_pdf, find_engine

TARGETS = {"latex": "notes.tex.j2", "markdown": "notes.md.j2"}
SVG_TEMPLATE = "figure.svg.j2"
PLOT_TEMPLATE = "notes.plot.svg.j2"
COMMANDS_TEMPLATE = "notes.verify.sh.j2"
EXPANDED_LAYERS = 8  # chain layers whose derivatives are also shown with the recursion written out


def title(network):
    """The network in words, with room to break lines: 4-4-2 (ReLU, sigmoid; cross-entropy cost),
    3-4-3 (tanh, softmax; log-likelihood cost; L2, λ = 0.5)."""
    words = [network.activation(layer).words for layer in range(1, network.depth + 1)]
    acts = words[0] if network.uniform_activation else ", ".join(words)
    extra = "".join(f"; {entry.name.upper()}, λ = {lam:g}" for entry, lam in network.regularisers)
    return f"{'-'.join(map(str, network.sizes))} ({acts}; {network.cost_entry.words} cost{extra})"


def lecture_networks():
    """The lectures' networks: the 1-1-1-1 chain and a small multi-neuron network."""
    return [Network.parse(LECTURE_SIZES), Network.parse(LECTURE_MULTI_SIZES)]


def file_stem(network):
    """notes-1-1-1-1-sigmoid-quadratic, notes-2-3-1-relu-sigmoid-cross_entropy.

    A deep network gets a shorter name that stays unique: notes-784-…-10-L40-3fa2c1d0-quadratic.
    """
    acts = network.activations[0] if network.uniform_activation else "-".join(network.activations)
    extra = "".join(f"-{name}-{lam:g}" for name, lam in network.regularisation)  # notes-…-quadratic-l2-0.5
    stem = f"notes-{'-'.join(map(str, network.sizes))}-{acts}-{network.cost}{extra}"
    if len(stem) <= 120:
        return stem
    digest = hashlib.sha1(repr(network.to_dict()).encode()).hexdigest()[:8]
    return f"notes-{network.sizes[0]}-{network.sizes[-1]}-L{network.depth}-{digest}-{network.cost}{extra}"


# What the templates read ---------------------------------------------------------------------

@dataclass
class Lines:
    """A long product shown over several lines of a display, ``size`` factors per line."""

    factors: list
    size: int = 7

    @property
    def parts(self):
        f = self.factors
        return [ordered_product(*f[i:i + self.size]) for i in range(0, len(f), self.size)]

    @property
    def product(self):
        return ordered_product(*self.factors)

    def latex(self):
        return latex(self.product)

    def text(self):
        return text(self.product)


@dataclass
class ChainLayer:
    """The chain steps of one layer, and their values with the recursion written out."""

    label: object  # L, L-1, ...
    weight: object
    bias: object
    previous: object  # ∂C₀/∂a^{(l-1)}, or None at the first layer
    weight_expanded: Lines  # the value with every upstream ∂C₀/∂a replaced (None far back)
    bias_expanded: Lines


def chain_layers(derivation):
    """The chain's steps grouped by layer, from L down, with the recursion written out."""
    steps = derivation.chain.steps
    out = []
    for step in steps:
        if step.target.base == nt.w:
            out.append(dict(label=nt.layer_of(step.target), weight=step))
        elif step.target.base == nt.b:
            out[-1]["bias"] = step
        else:
            out[-1]["previous"] = step
    layers = []
    for i, item in enumerate(out):
        w, b = item["weight"], item["bias"]
        # written out for the first layers back; deeper, the product only grows by w σ' per layer
        # (and writing out all of them would make the notes quadratic in the depth)
        expand = i < EXPANDED_LAYERS
        flat = derivation.chain.flat_factors
        layers.append(ChainLayer(item["label"], w, b, item.get("previous"),
                                 Lines([f.value for f in flat(w)]) if expand else None,
                                 Lines([f.value for f in flat(b)]) if expand else None))
    return layers


@dataclass
class Column:
    """A column vector of derivatives, each entry at full size: the gradient ∇C."""

    entries: tuple
    limit: int = 8

    def latex(self):
        entries = list(self.entries)
        if len(entries) > self.limit:  # a deep network: the first layer, a gap, the last two
            entries = entries[:2] + [None] + entries[-4:]
        # a strut in every row: an array row only grows to fit its content, never beyond it
        rows = r" \\ ".join(r"\vdots" if e is None else rf"\displaystyle {latex(e)} \rule[-2.2ex]{{0pt}}{{6ex}}"
                             for e in entries)
        return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"

    def text(self):
        return "(" + ", ".join(text(e) for e in self.entries) + ")ᵀ"


def _feedforward():
    """The algorithm's feedforward step in matrix form: z^{(l)} = w^{(l)} a^{(l-1)} + b^{(l)}, a = σ(z)."""
    l = nt.l
    return [(nt.z[l], ordered_sum(nt.matrix_product(nt.w[l], nt.a[l - 1]), nt.b[l])), (nt.a[l], nt.sigma(nt.z[l]))]


def _symbols(depth):
    """Symbols the prose names, so that no formula is typed into a template."""
    L, l, j, k = nt.L, nt.l, nt.j, nt.k
    z = sp.Symbol("z")
    return dict(
        L=L, l=l, j=j, k=k, y=nt.target, C0=nt.C0, C=nt.C, Cx=nt.Cx, x=nt.x, n=nt.n_examples, z=z,
        output_activation=nt.a[L], previous_activation=nt.a[L - 1], output_z=nt.z[L], output_weight=nt.w[L],
        output_bias=nt.b[L], layer_z=nt.z[l], input_activation=nt.a[L - depth], previous_layer=L - 1,
        first_output=nt.a[L, 0], second_output=nt.a[L, 1], half=sp.Rational(1, 2), zero=sp.Integer(0),
        one=sp.Integer(1), sigma=sp.Symbol("sigma"), sigma_z=nt.sigma(z), sigma_prime_z=nt.sigma_prime(z),
        theta=sp.Heaviside(z), gradient=sp.Symbol(r"\nabla C"),
        hadamard_example=nt.Hadamard(sp.Symbol("u"), sp.Symbol("v")),
        previous_activation_k=nt.a[L - 1, k], output_activation_j=nt.a[L, j], output_z_j=nt.z[L, j],
        weight_jk=nt.w[L, j, k], weight_kj=nt.w[l + 1, k, j], output_width=nt.n[L], previous_width=nt.n[L - 1],
        layer_width=nt.n[l], output_error_j=nt.delta[L, j], output_error=nt.delta[L],
        cost_slope_chain=nt.partial(nt.C0, nt.a[L]), cost_slope_j=nt.partial(nt.C0, nt.a[L, j]),
        error_definition=nt.partial(nt.C0, nt.z[l, j]), grad_a_C=nt.grad_a_C(),
        sigma_prime_layer=nt.sigma_prime(nt.z[l]), input_vector=nt.a[0], target_vector=nt.target,
        layer_error=nt.delta[l], layer=l, next_layer=l + 1, layer_before=l - 1,
        layer_error_j=nt.delta[l, j], layer_activation_j=nt.a[l, j], layer_z_j=nt.z[l, j],
        layer_slope_j=nt.sigma_prime(nt.z[l, j]), next_z_k=nt.z[l + 1, k], next_error_k=nt.delta[l + 1, k],
        next_error=nt.delta[l + 1], next_weight=nt.w[l + 1], layer_weight=nt.w[l],
        back_sum_j=nt.partial(nt.C0, nt.a[l, j]), learning_rate=sp.Symbol("eta"),
        layer_weight_jk=nt.w[l, j, k], first_weight=nt.w[1], last_weight=nt.w[L], input_layer=sp.Integer(1),
        a_j=nt.output, y_j=nt.target, output_slope_j=nt.sigma_prime(nt.z[L, j]), lam=nt.lam,
        output_error_p=nt.delta[L, nt.index_symbol("p")], i_equals_j=sp.Eq(nt.index_symbol("i"), j, evaluate=False), i_not_j=sp.Ne(nt.index_symbol("i"), j, evaluate=False),
        layer_gradient_jk=nt.partial(nt.C0, nt.w[l, j, k]), lam_over_n=nt.lam / nt.n_examples,
        output_z_i=nt.z[L, nt.index_symbol("i")], output_sensitivity_j=nt.partial(nt.C0, nt.z[L, j]), output=nt.output, one_minus_y=1 - nt.target, output_activation_i=nt.a[L, nt.index_symbol("i")],
        targets_sum=sp.Sum(nt.y[nt.index_symbol("i")], (nt.index_symbol("i"), 0, nt.n[L] - 1)),
    )


def entry_of(symbol, where):
    """One entry of a whole-layer symbol: w^{(l)} -> w^{(l)}_{jk}, ∂C₀/∂w^{(l)} -> ∂C₀/∂w^{(l)}_{jk}."""
    if isinstance(symbol, sp.Derivative):
        return nt.partial(symbol.expr, entry_of(symbol.variables[0], where))
    return symbol.base[(*symbol.indices, *[sp.Integer(i) for i in where])]


def _average():
    """The lectures' average over the training examples for the chain's weight, the examples
    numbered x = 0 … n−1 like the neurons (C₀ is the term x = 0): C = (1/n) Σₓ Cₓ and its slope."""
    n, x = nt.n_examples, nt.x
    cost = (nt.C, ordered_product(1 / n, sp.Sum(nt.Cx, (x, 0, n - 1))))
    slope = (nt.partial(nt.C, nt.w[nt.L]), ordered_product(1 / n, sp.Sum(nt.partial(nt.Cx, nt.w[nt.L]), (x, 0, n - 1))))
    general = (nt.partial(nt.C, nt.w[nt.l, nt.j, nt.k]),
               ordered_product(1 / n, sp.Sum(nt.partial(nt.Cx, nt.w[nt.l, nt.j, nt.k]), (x, 0, n - 1))))
    return dict(cost=cost, slope=slope, general=general)


def _cost_displays(derivation):
    """C₀ of the chain and of several neurons, written as people write the cost (the registry's
    display form, checked to be the derivation's own term)."""
    cost = derivation.network.cost_entry
    a, y = derivation.output_error_symbols
    term = cost.display_term
    if sp.simplify(plain(term(a, y)) - plain(derivation.cost_term)) != 0:  # a wrong display form cannot pass
        term = cost.per_neuron
    j, limits = nt.j, (nt.j, 0, nt.n[nt.L] - 1)
    each = term(nt.a[nt.L, j], nt.y[j])
    if isinstance(each, sp.Mul) and each.args[0] == -1:  # −Σ [...] rather than Σ −[...]
        indexed = sp.Mul(-1, sp.Sum(sp.Mul(*each.args[1:], evaluate=False), limits), evaluate=False)
    else:
        indexed = sp.Sum(each, limits)
    return dict(chain=term(nt.a[nt.L], nt.target), indexed=indexed)


def _transpose(network):
    """BP2's sum over k written out for a small layer pair, and the same as (w^{(l+1)})^T δ^{(l+1)}:
    this network's last two layers when they are small, else 3 neurons feeding 2."""
    rows, cols = network.width(network.depth - 1), network.width(network.depth)
    if network.depth < 2 or not (2 <= rows <= 3 and 1 <= cols <= 3):
        rows, cols = 3, 2
    l = nt.l
    sums = sp.ImmutableMatrix(rows, 1, lambda j, _: ordered_sum(
        *[ordered_product(nt.w[l + 1, k, j], nt.delta[l + 1, k]) for k in range(cols)]))
    weights = sp.ImmutableMatrix(cols, rows, lambda k, j: nt.w[l + 1, k, j])
    transposed = sp.ImmutableMatrix(rows, cols, lambda j, k: nt.w[l + 1, k, j])
    errors = sp.ImmutableMatrix(cols, 1, lambda k, _: nt.delta[l + 1, k])
    return dict(rows=rows, cols=cols, sums=sums, weights=weights, product=nt.matrix_product(transposed, errors))


def _jacobian_symbols(hand):
    """What the worked example's normalised output layer shows: ∂a/∂z, ∇ₐC, δ = (∂a/∂z)ᵀ ∇ₐC, a − y."""
    if hand.get("jacobian") is None:
        return None
    layer = hand["jacobian"]["label"]
    jac = nt.partial(nt.a[layer], nt.z[layer])
    return dict(J=jac, grad=nt.grad_a_C(), delta=nt.delta[layer],
                product=nt.matrix_product(nt.Transposed(jac), nt.grad_a_C()),
                a_minus_y=ordered_sum(nt.a[layer], sp.Mul(-1, nt.target, evaluate=False)))


FIGURES = ("chain", "tree", "paths", "activations", "descent", "layers")
"""The figures in the order the notes show them (the template places them in this order)."""


def context(network):
    """Everything the notes' templates read for ``network``."""
    derivation = derive(network)
    # the chain of sections 1-5: a normalised output layer (softmax) is 1 on one neuron, so the chain
    # shows its one-neuron counterpart (and its cost's); else the network's own chain
    chain_net = normalised.chain_network(network)
    chain_d = derivation if chain_net == network.one_neuron_chain() else derive(chain_net)
    chain = chain_layers(chain_d)
    depth = network.depth
    hand = example.hand_example(derivation)
    own = hand["own"]
    numbers = example.network_numbers(network, hand["seed"] if own else example.SEED)
    curves = plots.activation_curves(derivation, hand)
    lesson = lessons.lessons(network, derivation, numbers, curves)
    layer_shapes = [(number, nt.relative_layer(number, depth), nt.w[nt.relative_layer(number, depth)],
                     network.width(number), network.width(number - 1)) for number in range(depth, 0, -1)]
    plot_layouts = dict(activations=plots.activation_plot(curves), descent=plots.descent_plot(hand),
                        layers=plots.layer_plot(numbers, depth))
    shown = {name: fig for name, fig in plot_layouts.items() if fig is not None}
    decays = decay.decays(derivation)
    decay_example = decay.decay_example(derivation, hand, decays[0]) if decays else None
    drawings = dict(chain=figures.chain_figure(chain_d), tree=figures.tree_figure(chain_d),
                    paths=figures.paths_figure(derivation))
    present = [name for name in FIGURES if name in drawings or name in shown]
    paths_layer = figures.paths_layer(network)
    paths_label = nt.relative_layer(paths_layer, depth)
    general_paths = derivation.general_paths
    return dict(
        d=derivation, net=network, depth=depth, title=title(network), s=_symbols(depth), stem=file_stem(network),
        gradient_vector=Column(derivation.gradient),
        layer_symbol=lambda name, layer: nt.BY_NAME[name].base[layer],
        layer_gradient=lambda layer: nt.partial(nt.C0, nt.w[layer]),
        indexed=lambda name, layer, *neurons: nt.BY_NAME[name].base[(layer, *neurons)],
        chain=chain, chain_net=chain_net, cd=chain_d, chain_out=chain_net.activation(depth),
        chain_cost=chain_net.cost_entry, chain_costs=_cost_displays(chain_d),
        chain_error=normalised.output_error(chain_d), counterpart=normalised.counterpart_of(network),
        softmax=normalised.section(derivation), decays=decays, decay_example=decay_example,
        figures=drawings, plots=shown, figure_numbers={name: i for i, name in enumerate(present, 1)},
        paths_layer=paths_layer, paths_label=paths_label, paths_width=network.width(paths_layer),
        paths_here=(ordered_xreplace(general_paths.lhs, {nt.l: paths_label}),
                    ordered_xreplace(general_paths.rhs, {nt.l: paths_label})),
        first_weight=chain[0].weight, first_bias=chain[0].bias,
        feedforward=_feedforward(), output_error=normalised.output_error(derivation),
        layer_shapes=layer_shapes, chain_numbers=example.chain_numbers(chain_d), numbers=numbers,
        hand=hand, lessons=lesson, curves=curves, average=_average(), costs=_cost_displays(derivation),
        transpose=_transpose(network),
        exercises=exercises(derivation, chain_layers, hand, lesson["counts"], decay_example),
        activations=[(slope, network.activation(slope.layers[0])) for slope in derivation.slopes],
        # the lectures' form σ'(z) in terms of σ(z), when it says something SymPy's derivative does
        # not (ReLU's step of σ(z) only repeats θ(z), with SymPy's value at 0 as a second argument)
        lecture_forms={slope.name: latex(slope.lecture_form) != latex(slope.derivative)
                       and not slope.lecture_form.has(sp.Heaviside) for slope in derivation.slopes},
        cost=network.cost_entry, lecture_cost=chain_net.cost == DEFAULT_COST,
        activation_words=[network.activation(layer).words for layer in range(1, depth + 1)],
        all_costs=list(costs.REGISTRY.values()), all_activations=list(activations.REGISTRY.values()),
        label_parts=plots.label_parts, ordered=ordered_product, entry_of=entry_of, title_of=title,
        index_symbol=nt.index_symbol, product_of=example.Product, prime_of=plots.Primed, sigma_of=nt.sigma, slope_of=nt.sigma_prime,
        matrix_rhs=lambda layer: nt.matrix_product(nt.delta[layer], nt.Transposed(nt.a[layer - 1])),
        bias_gradient=lambda layer: nt.partial(nt.C0, nt.b[layer]),
        step_of=lambda param, grad: ordered_sum(param, sp.Mul(-1, sp.Symbol("eta"), grad)),
        jacobian_symbols=_jacobian_symbols(hand),
        at_layer=lambda expr, label: ordered_xreplace(expr, {nt.l: label}),
        hand_words=[hand["network"].activation(layer).words for layer in range(1, hand["network"].depth + 1)],
    )


def render_notes(network, target="latex", _context=None):
    """The notes for one network as a string: ``target`` is "latex" or "markdown"."""
    if target not in TARGETS:
        raise SymbackpropError(f"unknown notes target '{target}'; use one of {', '.join(TARGETS)}")
    ctx = context(network) if _context is None else _context
    return render_template(TARGETS[target], **ctx)


def render_svg(figure):
    return render_template(SVG_TEMPLATE, fig=figure, svg_text=figures.svg_text)


def render_plot_svg(plot):
    return render_template(PLOT_TEMPLATE, plot=plot, svg_text=figures.svg_text, svg_math=plots.svg_math,
                           label_parts=plots.label_parts, log_tick=plots.log_tick)


def render_commands(ctx):
    """The exercises' verify commands as a shell script beside the notes (and attached to the PDF)."""
    return render_template(COMMANDS_TEMPLATE, **ctx)


# Writing files and the PDF ----------------------------------------------------------------

def write_notes(networks=None, out_dir="output", pdf=False):
    """Write .tex, .md (with its .svg figures) and, with ``pdf``, .pdf for each network.

    Returns the written paths.  ``networks=None`` means the lectures' networks.
    """
    networks = lecture_networks() if networks is None else list(networks)
    out = Path(out_dir)
    if pdf:
        engine = find_engine()  # before writing anything: without TeX, say so at once
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SymbackpropError(f"cannot create the output folder {out}: {e.strerror}") from None
    written, builds = [], []
    workers = max(1, min(len(networks), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for network in networks:
            ctx = context(network)
            stem = ctx["stem"]
            # the commands first: the .tex attaches the file when it is there
            files = {out / f"{stem}.verify.sh": render_commands(ctx),
                     out / f"{stem}.tex": render_notes(network, "latex", ctx),
                     out / f"{stem}.md": render_notes(network, "markdown", ctx)}
            for name, fig in ctx["figures"].items():
                files[out / f"{stem}.{name}.svg"] = render_svg(fig)
            for name, plot in ctx["plots"].items():
                files[out / f"{stem}.{name}.svg"] = render_plot_svg(plot)
            for path, content in files.items():
                try:
                    path.write_text(content, encoding="utf-8")
                except OSError as e:
                    raise SymbackpropError(f"cannot write {path}: {e.strerror}") from None
                written.append(path)
            if pdf:  # compiled while the next network's notes are rendered
                builds.append(pool.submit(build_pdf, out / f"{stem}.tex", engine))
        written += [build.result() for build in builds]
    return [str(p) for p in written]


