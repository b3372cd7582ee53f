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
from ..printing import latex, ordered_product, ordered_sum, text
from ..spec import DEFAULT_COST, LECTURE_MULTI_SIZES, LECTURE_SIZES, Network
from . import example, figures
from .environment import render_template
from .exercises import exercises
from .pdf import build_pdf, find_engine

TARGETS = {"latex": "notes.tex.j2", "markdown": "notes.md.j2"}
SVG_TEMPLATE = "figure.svg.j2"
EXPANDED_LAYERS = 8  # chain layers whose derivatives are also shown with the recursion written out


def title(network):
    """The network in words, with room to break lines: 4-4-2 (ReLU, sigmoid; cross-entropy cost)."""
    words = [network.activation(layer).words for layer in range(1, network.depth + 1)]
    acts = words[0] if network.uniform_activation else ", ".join(words)
    return f"{'-'.join(map(str, network.sizes))} ({acts}; {network.cost_entry.words} cost)"


def lecture_networks():
    """The lectures' networks: the 1-1-1-1 chain and a small multi-neuron network."""
    return [Network.parse(LECTURE_SIZES), Network.parse(LECTURE_MULTI_SIZES)]


def file_stem(network):
    """notes-1-1-1-1-sigmoid-quadratic, notes-2-3-1-relu-sigmoid-cross_entropy.

    A deep network gets a shorter name that stays unique: notes-784-…-10-L40-3fa2c1d0-quadratic.
    """
    acts = network.activations[0] if network.uniform_activation else "-".join(network.activations)
    stem = f"notes-{'-'.join(map(str, network.sizes))}-{acts}-{network.cost}"
    if len(stem) <= 120:
        return stem
    digest = hashlib.sha1(repr(network.to_dict()).encode()).hexdigest()[:8]
    return f"notes-{network.sizes[0]}-{network.sizes[-1]}-L{network.depth}-{digest}-{network.cost}"


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
        output_bias=nt.b[L], layer_z=nt.z[l], input_activation=nt.a[L - depth],
        first_output=nt.a[L, 0], second_output=nt.a[L, 1], half=sp.Rational(1, 2),
        sigma=sp.Symbol("sigma"), sigma_z=nt.sigma(z), sigma_prime_z=nt.sigma_prime(z),
        theta=sp.Heaviside(z), gradient=sp.Symbol(r"\nabla C"),
        hadamard_example=nt.Hadamard(sp.Symbol("u"), sp.Symbol("v")),
        previous_activation_k=nt.a[L - 1, k], output_activation_j=nt.a[L, j], output_z_j=nt.z[L, j],
        weight_jk=nt.w[L, j, k], output_width=nt.n[L], previous_width=nt.n[L - 1], output_error_j=nt.delta[L, j],
        cost_slope_chain=nt.partial(nt.C0, nt.a[L]), cost_slope_j=nt.partial(nt.C0, nt.a[L, j]),
        error_definition=nt.partial(nt.C0, nt.z[l, j]), grad_a_C=nt.grad_a_C(),
        sigma_prime_layer=nt.sigma_prime(nt.z[l]), input_vector=nt.a[0], target_vector=nt.target,
        layer_error=nt.delta[l],
    )


def context(network):
    """Everything the notes' templates read for ``network``."""
    derivation = derive(network)
    chain = chain_layers(derivation)
    depth = network.depth
    multi = None if network.one_neuron_per_layer else example.network_numbers(network)
    layer_shapes = [(number, nt.relative_layer(number, depth), nt.w[nt.relative_layer(number, depth)],
                     network.width(number), network.width(number - 1)) for number in range(depth, 0, -1)]
    return dict(
        d=derivation, net=network, depth=depth, title=title(network), s=_symbols(depth), stem=file_stem(network),
        gradient_vector=Column(derivation.gradient),
        layer_symbol=lambda name, layer: nt.BY_NAME[name].base[layer],
        layer_gradient=lambda layer: nt.partial(nt.C0, nt.w[layer]),
        chain=chain, chain_net=network.one_neuron_chain(),
        figures=dict(chain=figures.chain_figure(derivation), tree=figures.tree_figure(derivation),
                     paths=figures.paths_figure(derivation)),
        first_weight=chain[0].weight, first_bias=chain[0].bias,
        feedforward=_feedforward(), output_error=derivation.output_error_indexed,
        layer_shapes=layer_shapes, chain_numbers=example.chain_numbers(derivation), numbers=multi,
        exercises=exercises(derivation, chain),
        activations=[(slope, network.activation(slope.layers[0])) for slope in derivation.slopes],
        # the lectures' form σ'(z) in terms of σ(z), when it says something the derivative does not
        # (ReLU's step of σ(z) only repeats θ(z), with SymPy's value at 0 as a second argument)
        lecture_forms={slope.name: slope.lecture_form != slope.derivative and not slope.lecture_form.has(sp.Heaviside)
                       for slope in derivation.slopes},
        cost=network.cost_entry, lecture_cost=network.cost == DEFAULT_COST,
        activation_words=[network.activation(layer).words for layer in range(1, depth + 1)],
    )


def render_notes(network, target="latex", _context=None):
    """The notes for one network as a string: ``target`` is "latex" or "markdown"."""
    if target not in TARGETS:
        raise SymbackpropError(f"unknown notes target '{target}'; use one of {', '.join(TARGETS)}")
    ctx = context(network) if _context is None else _context
    return render_template(TARGETS[target], **ctx)


def render_svg(figure):
    return render_template(SVG_TEMPLATE, fig=figure, svg_text=figures.svg_text)


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
    written, tex_files = [], []
    for network in networks:
        ctx = context(network)
        stem = ctx["stem"]
        files = {out / f"{stem}.tex": render_notes(network, "latex", ctx),
                 out / f"{stem}.md": render_notes(network, "markdown", ctx)}
        for name, fig in ctx["figures"].items():
            files[out / f"{stem}.{name}.svg"] = render_svg(fig)
        for path, content in files.items():
            try:
                path.write_text(content, encoding="utf-8")
            except OSError as e:
                raise SymbackpropError(f"cannot write {path}: {e.strerror}") from None
            written.append(path)
        tex_files.append(out / f"{stem}.tex")
    if pdf:
        with ThreadPoolExecutor(max_workers=max(1, min(len(tex_files), os.cpu_count() or 1))) as pool:
            written += list(pool.map(lambda tex: build_pdf(tex, engine), tex_files))
    return [str(p) for p in written]


