"""Study notes for one network: LaTeX and Markdown from the derivation, and the PDF.

The notes follow the lectures (shared/seeds): the one-neuron chain, the chain rule and what
each factor means, the bias, propagating back, the average over examples and the gradient,
several neurons with j and k and the sum over paths, δ and BP1-BP4, this network's own
activation and cost, a worked numeric example and exercises.

One template body (``notes.body.j2``) holds the prose and structure; ``notes.tex.j2`` and
``notes.md.j2`` render it with the LaTeX or the Markdown macros (``notes.macros.*.j2``), so
both files say the same thing.  Every formula comes from the derivation and is printed by the
environment's ``tex`` filter.  This module only gathers what the templates read: the
derivation, the figures' layouts, the numbers of the worked example and the exercises.
"""

import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import numeric
from ..derivation import derive
from ..errors import SymbackpropError
from ..printing import ordered_product, ordered_sum, ordered_xreplace, plain
from ..spec import LECTURE_MULTI_SIZES, LECTURE_SIZES, Network
from . import figures
from .environment import render_template

TARGETS = {"latex": "notes.tex.j2", "markdown": "notes.md.j2"}
SVG_TEMPLATE = "figure.svg.j2"
TEX_TIMEOUT = 120  # seconds for one PDF build
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-pictures latexmk"
INSTALL_HINT = f"sudo apt-get install -y --no-install-recommends {TEX_PACKAGES}"
MATRIX_LIMIT = 10  # print a parameter or gradient matrix when neither side exceeds this
SEED = 0
FD_ALL = 400  # parameters up to which the worked example checks every derivative by finite differences
EXPANDED_LAYERS = 8  # chain layers whose derivatives are also shown with the recursion written out


def title(network):
    """The network in words, with room to break lines: 4-4-2 (relu, sigmoid; cross_entropy cost)."""
    acts = network.activations[0] if network.uniform_activation else ", ".join(network.activations)
    return f"{'-'.join(map(str, network.sizes))} ({acts}; {network.cost} cost)"


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

def _flat_factors(step, steps_by_lhs):
    """The step's factors with every upstream ∂C₀/∂a^{(l)} replaced by its own factors."""
    out = []
    for factor in step.factors:
        inner = steps_by_lhs.get(factor.value)
        if inner is not None and factor.role == "upstream":
            out += _flat_factors(inner, steps_by_lhs)
        else:
            out.append(factor.value)
    return out


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
        from ..printing import latex

        return latex(self.product)

    def text(self):
        from ..printing import text

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


def _chain_layers(derivation):
    steps = derivation.chain.steps
    by_lhs = {s.lhs: s for s in steps if s.target.base == nt.a}
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
        layers.append(ChainLayer(item["label"], w, b, item.get("previous"),
                                 Lines(_flat_factors(w, by_lhs)) if expand else None,
                                 Lines(_flat_factors(b, by_lhs)) if expand else None))
    return layers


def _chain_network(network):
    """The one-neuron-per-layer network of the same depth, activations and cost."""
    return Network((1,) * len(network.sizes), network.activations, network.cost)


def _number(value, digits=4):
    value = float(value)
    return sp.Float(value, digits) if value != 0 else sp.Integer(0)


def _fixed(value, decimals=3):
    """A number with a fixed number of decimals, so that the columns of a matrix stay narrow."""
    return sp.Float(f"{float(value):.{decimals}f}")


def _matrix(array):
    array = np.atleast_2d(array)
    return sp.Matrix(array.shape[0], array.shape[1], lambda r, c: _fixed(array[r, c]))


@dataclass
class FactorValue:
    factor: object
    value: object  # a number (SymPy Float)


@dataclass
class NumericStep:
    step: object
    factors: list
    product: object
    backprop: object  # None for ∂C₀/∂a steps
    finite_difference: object


@dataclass
class NumericLayer:
    number: int
    label: object
    weights: object  # sp.Matrix or None when too large
    biases: object
    delta: object
    grad_w: object
    shape: tuple


def _chain_numbers(derivation):
    """The chain of the same depth at seeded parameters: each factor's value, each gradient,
    checked against the numerical backprop and central finite differences."""
    net = _chain_network(derivation.network)
    depth = net.depth
    params = numeric.init_params(net, SEED)
    X, Y = numeric.random_batch(net, 1, SEED + 1)
    zs, acts = numeric.forward(net, params, X)
    grads = numeric.backprop(net, params, X, Y)
    fd = numeric.finite_differences(net, params, X, Y)
    values = {nt.Y: sp.Float(Y[0, 0])}
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
            expr = expr.xreplace(values)
            numbers.append(float(sp.N(expr)))
        product = float(np.prod(numbers))
        target = step.target
        if target.base == nt.a:
            upstream[step.lhs] = sp.Float(product)
            reference = fd_value = None
        else:
            layer = int(nt.concrete_layer(nt.layer_of(target), depth))
            key = f"{'W' if target.base == nt.w else 'b'}{layer}"
            reference, fd_value = float(grads[key].flat[0]), float(fd[key].flat[0])
        steps.append(NumericStep(step, [FactorValue(f, _number(v)) for f, v in zip(step.factors, numbers)],
                                 _number(product), None if reference is None else _number(reference),
                                 None if fd_value is None else _number(fd_value)))
    table = [(nt.relative_layer(layer, depth), _number(values[nt.w[layer]]), _number(values[nt.b[layer]]),
              _number(values[nt.z[layer]]), _number(values[nt.a[layer]])) for layer in range(depth, 0, -1)]
    diffs = [abs(float(grads[k].flat[0]) - float(fd[k].flat[0])) for k in grads]
    return dict(network=net, x=_number(X[0, 0]), y=_number(Y[0, 0]), a0=nt.a[nt.L - depth], layers=table,
                steps=steps, cost=_number(numeric.cost(net, params, X, Y)), max_difference=_number(max(diffs), 2))


def _network_numbers(network):
    """The user's network at seeded parameters: δ and ∂C/∂w per layer, and a check of all of
    them against finite differences (sampled for large networks)."""
    params = numeric.init_params(network, SEED)
    X, Y = numeric.random_batch(network, 1, SEED + 1)
    grads = numeric.backprop(network, params, X, Y)
    entries = None
    if network.num_parameters > FD_ALL:  # a sample of every tensor, about FD_ALL entries in all
        rng = np.random.default_rng(SEED)
        each = max(1, FD_ALL // len(params))
        entries = {k: rng.choice(v.size, size=min(v.size, each), replace=False) for k, v in params.items()}
    fd = numeric.finite_differences(network, params, X, Y, entries=entries)
    diff = max(float(np.nanmax(np.abs(grads[k] - fd[k]))) for k in grads)
    checked = sum(int(np.isfinite(fd[k]).sum()) for k in fd)

    def shown(array):
        array = np.atleast_2d(array)
        return _matrix(array) if max(array.shape) <= MATRIX_LIMIT else None

    layers = []
    for layer in range(network.depth, 0, -1):
        W = params[f"W{layer}"]
        layers.append(NumericLayer(layer, nt.relative_layer(layer, network.depth), shown(W),
                                   shown(params[f"b{layer}"][:, None]), shown(grads[f"b{layer}"][:, None]),
                                   shown(grads[f"W{layer}"]), W.shape))
    small = max(network.width(0), network.width(network.depth)) <= MATRIX_LIMIT
    return dict(x=_matrix(X.T) if small else None, y=_matrix(Y.T) if small else None, layers=layers,
                cost=_number(numeric.cost(network, params, X, Y)), max_difference=_number(diff, 2),
                checked=checked, total=network.num_parameters)


@dataclass
class Exercise:
    question: str  # words
    lhs: object
    answer: object
    network: object  # the network verify checks it on

    @property
    def command(self):
        return verify_command(self.network, self.lhs, None)

    @property
    def title(self):
        return self.question[:1].upper() + self.question[1:]

    @property
    def answer_command(self):
        return verify_command(self.network, self.lhs, self.answer)


def _verify_latex(expr):
    """The printer's LaTeX with σ' written as \\sigma^{\\prime}, so it sits in single quotes."""
    from ..printing import latex

    return latex(expr).replace(r"\sigma'", r"\sigma^{\prime}")


def verify_command(network, lhs, answer):
    """``symbackprop verify NET 'lhs = answer'`` (``...`` for the reader's answer)."""
    rhs = "..." if answer is None else _verify_latex(answer)
    return (f"symbackprop verify \\\n    {network.cli_args()} \\\n"
            f"    {shlex.quote(f'{_verify_latex(lhs)} = {rhs}')}")


def _exercises(derivation, chain_layers):
    net = derivation.network
    chain_net = _chain_network(net)
    top = chain_layers[0]
    out = [
        Exercise("the bias of the last layer in the one-neuron chain", top.bias.lhs, top.bias.rhs, chain_net),
    ]
    if top.previous is not None:
        out.append(Exercise("the activation of the second-to-last neuron in the chain",
                            top.previous.lhs, top.previous.rhs, chain_net))
        below = chain_layers[1]
        out.append(Exercise("the weight one layer back, with the recursion written out",
                            below.weight.lhs, below.weight_expanded.product, chain_net))
    out += [
        Exercise("a weight of the last layer with several neurons per layer", derivation.weight.lhs,
                 derivation.weight.rhs, net),
        Exercise("a bias of the last layer with several neurons per layer", derivation.bias.lhs,
                 derivation.bias.rhs, net),
        Exercise("an activation of the layer before the output, adding up the paths", derivation.paths.lhs, derivation.paths.rhs, net),
        Exercise("the output error for this network's cost and output activation",
                 nt.delta[nt.L, nt.j], output_error(derivation), net),
    ]
    if len(derivation.layers) > 1:
        step = derivation.layers[1].delta
        out.append(Exercise("the error one layer back from the output (BP2)", step.index_lhs, step.index_rhs, net))
    return out


def output_error(derivation):
    """δ^{(L)}_j for this cost and output activation, written with a^{(L)}_j and y_j."""
    a, y = derivation.output_error_symbols
    return ordered_xreplace(derivation.output_error, {a: nt.a[nt.L, nt.j], y: nt.y[nt.j]})


@dataclass
class Column:
    """A column vector of derivatives, each entry at full size: the gradient ∇C."""

    entries: tuple
    limit: int = 8

    def latex(self):
        from ..printing import latex

        entries = list(self.entries)
        if len(entries) > self.limit:  # a deep network: the first layer, a gap, the last two
            entries = entries[:2] + [None] + entries[-4:]
        # a strut in every row: an array row only grows to fit its content, never beyond it
        rows = r" \\ ".join(r"\vdots" if e is None else rf"\displaystyle {latex(e)} \rule[-2.2ex]{{0pt}}{{6ex}}"
                             for e in entries)
        return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"

    def text(self):
        from ..printing import text

        return "(" + ", ".join(text(e) for e in self.entries) + ")ᵀ"


def _feedforward():
    """The algorithm's feedforward step in matrix form: z^{(l)} = w^{(l)} a^{(l-1)} + b^{(l)}, a = σ(z)."""
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    l, t = nt.l, sp.Dummy("t")
    z = nt.matrix("z", l)
    return [(z, ordered_sum(nt.matrix("w", l) * nt.matrix("a", l - 1), nt.matrix("b", l))),
            (nt.matrix("a", l), ElementwiseApplyFunction(sp.Lambda(t, nt.sigma(t)), z))]


def _symbols(depth):
    """Symbols the prose names, so that no formula is typed into a template."""
    L, l, j, k = nt.L, nt.l, nt.j, nt.k
    z = sp.Symbol("z")
    return dict(
        L=L, l=l, j=j, k=k, y=nt.Y, C0=nt.C0, C=nt.C, Cx=nt.Cx, x=nt.x, n=nt.n_examples, z=z,
        aL=nt.a[L], aL1=nt.a[L - 1], zL=nt.z[L], wL=nt.w[L], bL=nt.b[L], zl=nt.z[l],
        a0=nt.a[L - depth], a0L=nt.a[L, 0], a1L=nt.a[L, 1], half=sp.Rational(1, 2),
        sigma_name=sp.Symbol("sigma"), sigma_z=nt.sigma(z), sigma_prime_z=nt.sigma_prime(z),
        theta=sp.Heaviside(z), nabla_C=sp.Symbol(r"\nabla C"),
        odot=sp.HadamardProduct(sp.MatrixSymbol("u", nt.n[l], 1), sp.MatrixSymbol("v", nt.n[l], 1)),
        akL1=nt.a[L - 1, k], ajL=nt.a[L, j], zjL=nt.z[L, j], wjk=nt.w[L, j, k],
        nL=nt.n[L], nL1=nt.n[L - 1], wL_matrix=nt.matrix("w", L), deltaL=nt.delta[L, j],
        dC0_daL=nt.partial(nt.C0, nt.a[L]), dC0_dajL=nt.partial(nt.C0, nt.a[L, j]),
        dC0_dz=nt.partial(nt.C0, nt.z[l, j]), grad=nt.matrix("grad", L),
        sigma_prime_vec=nt.elementwise_sigma_prime(nt.matrix("z", l)),
        a0_vec=nt.matrix("a", 0), y_vec=nt.matrix("y", L), delta_vec=nt.matrix("delta", l),
    )


def context(network):
    """Everything the notes' templates read for ``network``."""
    derivation = derive(network)
    chain_layers = _chain_layers(derivation)
    depth = network.depth
    multi = None if network.one_neuron_per_layer else _network_numbers(network)
    layer_shapes = [(number, nt.relative_layer(number, depth), nt.matrix("w", nt.relative_layer(number, depth)),
                     network.width(number), network.width(number - 1)) for number in range(depth, 0, -1)]
    return dict(
        d=derivation, net=network, depth=depth, title=title(network), s=_symbols(depth), stem=file_stem(network),
        gradient_vector=Column(derivation.gradient),
        layer_symbol=nt.matrix, layer_gradient=lambda label: nt.partial(nt.C0, nt.matrix("w", label)),
        chain=chain_layers, chain_net=_chain_network(network),
        figures=dict(chain=figures.chain_figure(derivation), tree=figures.tree_figure(derivation),
                     paths=figures.paths_figure(derivation)),
        first_weight=chain_layers[0].weight, first_bias=chain_layers[0].bias,
        feedforward=_feedforward(), output_error=output_error(derivation),
        layer_shapes=layer_shapes, chain_numbers=_chain_numbers(derivation), numbers=multi,
        exercises=_exercises(derivation, chain_layers),
        activations=[(slope, network.activation(slope.layers[0])) for slope in derivation.slopes],
        # the lectures' form σ'(z) in terms of σ(z), when it says something the derivative does not
        # (ReLU's step of σ(z) only repeats θ(z), with SymPy's value at 0 as a second argument)
        lecture_forms={slope.name: slope.lecture_form != slope.derivative and not slope.lecture_form.has(sp.Heaviside)
                       for slope in derivation.slopes},
        cost=network.cost_entry,
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
        engine = find_engine()
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


def find_engine():
    """("latexmk", path) or ("pdflatex", path), or an error that says what to install."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        raise SymbackpropError(f"--pdf needs pdflatex, which is not installed; install TeX with: {INSTALL_HINT}")
    latexmk = shutil.which("latexmk")
    return ("latexmk", latexmk) if latexmk else ("pdflatex", pdflatex)


def tex_environment():
    """The environment TeX runs in: no file reads or writes outside the working folder."""
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f")
    return env


AUXILIARY = (".aux", ".toc", ".out", ".fls", ".fdb_latexmk")
PDFLATEX_FLAGS = ["-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]


def _run(cmd, cwd, timeout):
    proc = subprocess.Popen(cmd, cwd=cwd, env=tex_environment(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise SymbackpropError(f"TeX took longer than {timeout} s and was stopped ({' '.join(cmd[:1])} in {cwd})") from None
    return proc.returncode, out.decode("utf-8", "replace")


def first_error(log_text):
    """The first error line of a TeX log ('! Undefined control sequence.' or file:line: ...)."""
    for line in log_text.splitlines():
        if line.startswith("!") or re.match(r"^[^:\s]+\.tex:\d+: ", line):
            return line.strip()
    return ""


def build_pdf(tex_path, engine=None, timeout=TEX_TIMEOUT):
    """Compile ``tex_path`` to PDF next to it with pdflatex (through latexmk when present):
    shell escape off, non-interactive, stop at the first error, TeX confined to the folder."""
    engine = engine or find_engine()
    tex_path = Path(tex_path)
    folder, name = tex_path.parent.resolve(), tex_path.name
    log = folder / f"{tex_path.stem}.log"
    if engine[0] == "latexmk":  # -norc: no latexmkrc (Perl) from the folder is read
        cmd, runs = [engine[1], "-norc", "-pdf", "-silent", *PDFLATEX_FLAGS, name], 1
    else:  # the contents, references and longtable widths settle by the second or third run
        cmd, runs = [engine[1], *PDFLATEX_FLAGS, name], 4
    for run in range(runs):
        code, output = _run(cmd, folder, timeout)
        text = log.read_text("utf-8", "replace") if log.exists() else output
        if code != 0:
            error = first_error(text) or first_error(output) or f"exit status {code}"
            hint = f"; install the TeX packages with: {INSTALL_HINT}" if re.search(r"`[^']+\.sty' not found", error) else ""
            raise SymbackpropError(f"pdflatex failed on {tex_path}: {error} (full log: {log}){hint}")
        if run >= 1 and "Rerun" not in text:
            break
    pdf = tex_path.with_suffix(".pdf")
    if not pdf.exists():
        raise SymbackpropError(f"pdflatex wrote no PDF for {tex_path}")
    for ext in AUXILIARY:  # the .log stays, for anyone who wants to read it
        folder.joinpath(f"{tex_path.stem}{ext}").unlink(missing_ok=True)
    return pdf
