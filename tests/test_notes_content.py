"""What the notes say, checked on the rendered text for several networks (issue 11).

The prose must fit the network (no squares for cross-entropy, no sigmoid in a tanh network,
no identifiers), the notation must be the one the notes introduce, the Markdown must number
and link like the PDF, and the worked example's numbers must be what the one numerical
backprop gives: the gradient-descent step lowers the cost, the plots draw the example's
numbers (the same in the PDF and the SVG).
"""

import re
import subprocess
import xml.dom.minidom

import numpy as np
import pytest
import sympy as sp

from symbackprop import activations, numeric, printing
from symbackprop import notation as nt
from symbackprop.render import example, figures, notes
from symbackprop.spec import Network

NETWORKS = {
    "chain": ("1,1,1,1", None, None),
    "lectures": ("3,3,2", None, None),
    "cross-entropy": ("4,4,4,2", "relu,tanh,sigmoid", "cross_entropy"),
    "tanh": ("2,3,3,2", "tanh", "quadratic"),
    "deep-tanh": ("2,10,10,10,10,10,10", "tanh", "quadratic"),
    "wide": ("784,30,10", "relu,sigmoid", "cross_entropy"),
    "one-output": ("3,4,4,1", "softplus,softplus,sigmoid", "half_quadratic"),
    "depth1": ("2,1", "identity", "half_quadratic"),
    "softmax-l2": ("3,4,3", "tanh,softmax", "log_likelihood", {"l2": 0.5}),
}


def _parse(spec):
    """A network of NETWORKS: sizes, activation, cost and, optionally, the regularisers' strengths."""
    return Network.parse(*spec[:3], **(spec[3] if len(spec) > 3 else {}))


@pytest.fixture(scope="module", params=list(NETWORKS), ids=list(NETWORKS))
def notes_of(request):
    net = _parse(NETWORKS[request.param])
    ctx = notes.context(net)
    return request.param, net, ctx, notes.render_notes(net, "latex", ctx), notes.render_notes(net, "markdown", ctx)


def _render(name):
    net = _parse(NETWORKS[name])
    ctx = notes.context(net)
    return net, ctx, notes.render_notes(net, "latex", ctx), notes.render_notes(net, "markdown", ctx)


def _section(md, label):
    """The Markdown of one section, found by its anchor (the numbers move with optional sections)."""
    start = md.index(f'<a id="sec-{label}"></a>')
    end = md.find('<a id="sec-', start + 1)
    return md[start:end if end > 0 else len(md)]


def _prose(md):
    """The Markdown's words: no code blocks, no images, no math."""
    text = re.sub(r"```.*?```|!\[[^]]*\]\([^)]*\)|\$\$.*?\$\$|\$[^$]*\$", " ", md, flags=re.S)
    return re.sub(r"\s+", " ", text)


def _sentences(md):
    return re.split(r"(?<=[.;:])\s", _prose(md))


# Prose that fits the network -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["cross-entropy", "wide"])
def test_cross_entropy_notes_never_speak_of_squares_for_the_cost(name):
    _, _, _, md = _render(name)
    about_cost = [s for s in _sentences(md) if "cost" in s.lower()]
    assert about_cost
    assert not [s for s in about_cost if "square" in s.lower()]
    assert "cross-entropy" in md


def test_quadratic_notes_do_speak_of_squares():
    """The check above can fail: the quadratic cost's notes say what it adds up."""
    _, _, _, md = _render("lectures")
    assert any("square" in s and "cost" in s for s in _sentences(md))


@pytest.mark.parametrize("name", ["tanh", "deep-tanh"])
def test_tanh_notes_never_say_sigmoid(name):
    _, _, tex, md = _render(name)
    assert "sigmoid" not in md.lower() and "sigmoid" not in tex.lower()
    assert "tanh" in _prose(md)


def test_identifiers_only_in_commands_and_file_names(notes_of):
    _, net, _, _, md = notes_of
    prose = _prose(md)
    entries = [activations.get(name) for name in net.activations] + [net.cost_entry]
    names = {e.name for e in entries if e.words != e.name}  # relu (ReLU), cross_entropy (cross-entropy) ...
    for name in names:
        assert not re.search(rf"\b{name}\b", prose), name


def test_the_factor_table_speaks_of_this_networks_output_activation(notes_of):
    _, net, ctx, _, md = notes_of
    row = next(line for line in md.splitlines() if line.startswith(r"| $\frac{\partial a^{(L)}}{\partial z^{(L)}}$"))
    assert len(re.split(r"(?<!\\)\|", row)) == 5  # three cells: a | in the prose is escaped
    row = row.replace("\\|", "|")
    out = ctx["chain_out"]  # the chain's output neuron: the network's own (a softmax's: its one-neuron counterpart)
    if net.activation(net.depth).elementwise:
        assert out is net.activation(net.depth)
    assert out.flat in row
    for l in range(1, net.depth):
        if net.activation(l).flat != out.flat:
            assert net.activation(l).flat not in row  # another layer's activation is not this factor's
    assert ("cancel" in row) == ctx["cd"].output_error_cancels


def test_cancellation_is_said_where_it_happens():
    _, ctx, tex, md = _render("cross-entropy")
    assert ctx["d"].output_error_cancels
    lessons = md[md.index("## 11."):md.index("## 12.")]
    assert "cancel" in lessons and printing.latex(ctx["output_error"]) in lessons
    _, ctx, _, md = _render("lectures")
    lessons = md[md.index("## 11."):md.index("## 12.")]
    assert "carries the output layer's slope" in lessons and "cross-entropy" in lessons


def test_relu_notes_state_the_slope_at_the_kink():
    _, ctx, _, md = _render("cross-entropy")
    assert "ReLU'(0) = 0" in md


def test_tanh_derivative_is_written_with_its_own_name():
    _, _, tex, _ = _render("tanh")
    assert r"\tanh'(z) &= 1 - \tanh^{2}(z)" in tex
    assert r"\tanh{\left(" not in tex and r"\sigma'(z) &= 1 - \tanh" not in tex


def test_the_cost_is_written_in_one_order_throughout():
    _, ctx, tex, _ = _render("cross-entropy")
    chain, indexed = (printing.latex(ctx["costs"][k]) for k in ("chain", "indexed"))
    assert chain.startswith(r"- (y \ln(a^{(L)})") and r"\left(y_{j} \ln(a^{(L)}_{j})" in indexed
    assert r"\ln(a^{(L)}_{j}) y_{j}" not in tex  # SymPy's own order nowhere


def test_notation_is_introduced_before_it_is_used(notes_of):
    _, _, _, tex, md = notes_of
    body = md[md.index("## 1."):]
    average = body[body.index("## 6."):body.index("## 7.")]
    assert "_{jk}" not in average  # the chain's w^{(L)} there; indices come in Section 7
    intro = md[:md.index("## 1.")]
    assert "$n_{l}$ is the number of neurons in layer" in intro and "number of training examples" in intro
    assert r"\sum_{x=0}^{n - 1}" in average  # examples numbered from 0, like the neurons


def test_bp2_derivation_ends_with_delta_and_explains_the_transpose(notes_of):
    _, net, ctx, tex, md = notes_of
    bp = md[md.index("## 8."):md.index("## 9.")]
    assert "the letters shift by one layer" in bp and "to, from" in bp
    assert r"\delta^{(l)}_{j} &= \frac{\partial C_{0}}{\partial z^{(l)}_{j}}" in bp  # the last step
    assert "column" in bp and "transpose" in bp
    assert printing.latex(ctx["transpose"]["product"]) in bp  # the sums as (w^T) δ, written out


def test_no_doubled_parentheses_in_the_prose(notes_of):
    _, _, _, _, md = notes_of
    assert not re.search(r"\) \(", _prose(md))  # two parentheticals in a row


# Markdown: numbers, links, contents ---------------------------------------------------------------

def test_markdown_numbers_and_links_like_the_pdf(notes_of):
    _, _, ctx, tex, md = notes_of
    headings = re.findall(r"^## (\d+)\. (.+)$", md, flags=re.M)
    assert [int(n) for n, _ in headings] == list(range(1, len(headings) + 1))
    latex_sections = re.findall(r"\\section\{(.+?)\}", tex)
    assert [t for _, t in headings] == latex_sections
    numbers = {label: int(n) for n, label in re.findall(r'^(\d+)\. \[[^]]+\]\(#sec-([a-z]+)\)$', md, flags=re.M)}
    assert len(numbers) == len(headings)  # the table of contents
    for number, label in re.findall(r"\[Section (\d+)\]\(#sec-([a-z]+)\)", md):
        assert numbers[label] == int(number)
        assert f'<a id="sec-{label}"></a>' in md
    for number, name in re.findall(r"\[Figure (\d+)\]\(#fig-([a-z]+)\)", md):
        assert ctx["figure_numbers"][name] == int(number) and f'<a id="fig-{name}"></a>' in md
    assert "section below" not in md and "the figure “" not in md
    # the LaTeX places its figures in the same order, so that its numbers are the same
    assert re.findall(r"\\label\{fig:([a-z]+)\}", tex) == list(ctx["figure_numbers"])


def test_markdown_lists_are_numbered(notes_of):
    _, _, ctx, _, md = notes_of
    exercises = _section(md, "exercises")
    assert re.findall(r"^(\d+)\. ", exercises, flags=re.M) == [str(ex.number) for ex in ctx["exercises"]]
    algorithm = md[md.index("### The algorithm"):]
    assert re.findall(r"^(\d)\. \*\*", algorithm, flags=re.M)[:5] == ["1", "2", "3", "4", "5"]
    assert not re.search(r"^- \*\*(Input|Feedforward)", md, flags=re.M)


# Figures ----------------------------------------------------------------------------------

def test_every_tree_arrow_but_the_targets_is_labelled(notes_of):
    _, net, ctx, tex, _ = notes_of
    tree = ctx["figures"]["tree"]
    assert [e.dst.expr for e in tree.edges if e.expr is None] == [figures.nt.C0]
    assert len([e for e in tree.edges if e.expr is not None]) == (9 if net.depth >= 2 else 5)


def _boxes_cross_lines(fig):
    """Pairs (label, line) where an edge label's SVG box is crossed by any drawn line."""
    out = []
    for e in fig.edges:
        if e.expr is None:
            continue
        x, y, anchor = e.svg_label(fig)
        width, height = figures.label_width(e.expr), 13
        left = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
        box = (left, y - height * 0.8, left + width, y + height * 0.2)
        for other in fig.edges:
            if other.kind == "faint":
                continue
            if _segment_hits_box(other.svg_line(fig), box):
                out.append((printing.text(e.expr), printing.text(other.dst.expr or other.dst.name)))
    return out


def _segment_hits_box(segment, box):
    x1, y1, x2, y2 = segment
    for t in np.linspace(0, 1, 200):
        x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
        if box[0] + 1 < x < box[2] - 1 and box[1] + 1 < y < box[3] - 1:
            return True
    return False


@pytest.mark.parametrize("name", ["chain", "lectures", "deep-tanh"])
def test_svg_tree_labels_are_clear_of_every_line(name):
    _, ctx, _, _ = _render(name)
    assert not _boxes_cross_lines(ctx["figures"]["tree"])


@pytest.mark.parametrize("sizes, layer", [("3,3,2", 2), ("2,3,3,1", 2), ("2,3,4,1,1", 2), ("1,1,1,1", 3), ("6,1", 1)])
def test_the_paths_figure_shows_a_layer_with_several_paths(sizes, layer):
    net = Network.parse(sizes)
    assert figures.paths_layer(net) == layer
    fig = figures.paths_figure(notes.derive(net))
    paths = [e for e in fig.edges if e.kind == "strong" and e.dst.kind == "neuron"]
    assert len(paths) == net.width(layer)
    assert len({e.src.name for e in paths}) == 1  # all from neuron k
    assert [e.expr for e in paths if e.expr is not None][0] == figures.nt.w[figures.nt.relative_layer(layer, net.depth), 0, figures.nt.k]


def test_single_path_is_explained():
    _, _, _, md = _render("chain")
    assert "every sum has one term" in md


# Wide networks ------------------------------------------------------------------------------

def test_the_wide_network_shows_its_errors_and_summarises_big_matrices():
    net, ctx, tex, md = _render("wide")
    section = md[md.index("### This network"):md.index("## 11.")]
    rows = re.findall(r"^\| .*\|$", section, flags=re.M)
    indices = [int(i) for row in rows for i in re.findall(r"\| (\d+) \| \$", row)]
    assert sorted(indices) == sorted(list(range(10)) + list(range(30)))  # δ of the output layer and the hidden one
    assert "has 10 rows and 30 columns" in section and "has 30 rows and 784 columns" in section
    assert "largest entry in size" in section and "too large to print" not in md


# The worked examples ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["chain", "lectures", "cross-entropy", "deep-tanh", "wide", "depth1"])
def test_the_gradient_descent_step_lowers_the_cost(name):
    net, ctx, _, md = _render(name)
    hand = ctx["hand"]
    small = hand["network"]
    params, X, Y = example.example_point(small, hand["seed"])
    grads = numeric.backprop(small, params, X, Y)  # recomputed here, not read from the example
    rate = float(hand["rate"])
    before = numeric.cost(small, params, X, Y)
    after = numeric.cost(small, {k: params[k] - rate * grads[k] for k in params}, X, Y)
    assert after < before
    assert float(hand["cost"]) == pytest.approx(before, rel=1e-3) and float(hand["cost_after"]) == pytest.approx(after, rel=1e-3)
    assert f"${hand['cost_after'].latex()}$ instead of ${hand['cost'].latex()}$" in md


def test_the_hand_example_is_small_and_several_neurons_wide(notes_of):
    _, net, ctx, _, md = notes_of
    small = ctx["hand"]["network"]
    assert max(small.sizes) >= 2 and max(small.sizes) <= 3 and small.num_parameters <= 40
    assert set(small.activations) <= set(net.activations) and small.cost == net.cost
    for item in ctx["hand"]["layers"]:  # the parameters as drawn, two decimals, exactly
        for row in item.weights.rows:
            assert all(re.fullmatch(r"-?\d+\.\d\d", v.formatted) for v in row)


def test_the_hand_example_follows_by_hand():
    """Each printed z is the printed sum of printed products (the parameters are exact)."""
    _, ctx, _, _ = _render("lectures")
    for item in ctx["hand"]["layers"][:1]:  # layer 1: inputs and parameters both exact
        for n in item.forward:
            total = sum(float(t.factors[0].formatted) * float(t.factors[1].formatted) for t in n.sum.terms)
            total += float(n.sum.plus.formatted)
            assert total == pytest.approx(float(n.z_value.formatted), abs=6e-4 * max(1, abs(total)))
    for item in ctx["hand"]["layers"]:
        for n in item.backward:
            assert float(n.delta_value) == pytest.approx(float(n.d_a_value) * float(n.slope_value), rel=1e-9)


def test_numbers_have_four_significant_digits_and_negatives_in_parentheses():
    _, ctx, tex, _ = _render("lectures")
    assert example.Number(0.5).formatted == "0.5000" and example.Number(-0.000123456).formatted == "-0.0001235"
    assert example.Number(1.23456e-7).latex() == r"1.235 \cdot 10^{-7}"
    assert re.search(r"\\times \(-\d", tex)  # a negative factor in parentheses


def _plot_coordinates(tex, name):
    """The coordinates of every \\addplot of one plot in the LaTeX, as (x, y) strings."""
    block = tex[:tex.index(f"\\label{{fig:{name}}}")]
    block = block[block.rindex(r"\begin{figure}"):]
    return [re.findall(r"\(([-\d.e+]+),([-\d.e+]+)\)", c) for c in re.findall(r"coordinates \{\n(.*?)\n\}", block, flags=re.S)]


def test_the_plots_draw_the_worked_examples_numbers(notes_of):
    _, net, ctx, tex, _ = notes_of
    for name, plot in ctx["plots"].items():
        svg = notes.render_plot_svg(plot)
        xml.dom.minidom.parseString(svg)
        in_svg = re.findall(r'data-coordinates="([^"]*)"', svg)
        in_tex = _plot_coordinates(tex, name)
        assert [[tuple(p.split(",")) for p in c.split(" ")] for c in in_svg] == in_tex  # the same numbers
    # the layers plot: the lengths of δ and of ∂C₀/∂w at the example, recomputed here
    if "layers" in ctx["plots"]:
        seed = ctx["hand"]["seed"] if ctx["hand"]["own"] else example.SEED
        params, X, Y = example.example_point(net, seed)
        back = numeric.backward(example.plain_network(net), params, X, Y)  # C₀'s, without a penalty
        deltas, grads = ctx["plots"]["layers"].panels[0].series[:2]
        assert [l for l, _ in deltas.points] == list(range(1, net.depth + 1))
        for layer, value in deltas.points:
            assert value == pytest.approx(np.linalg.norm(back.delta[layer][0]), rel=1e-9)
        for layer, value in grads.points:
            assert value == pytest.approx(np.linalg.norm(back.grads[f"W{layer}"]), rel=1e-9)
    # the example's neurons on σ': the hand example's z and σ'(z)
    hand = ctx["hand"]
    marks = [m for p in ctx["plots"]["activations"].panels for s in p.series if s.style == "marks" for m in s.points]
    zs = {float(n.z_value.value) for item in hand["layers"] if item.activation.elementwise for n in item.forward}
    assert marks and {z for z, _ in marks} == zs
    # the descent plot starts at the cost and marks the step taken
    steps = ctx["plots"]["descent"].panels[0].series[2].points
    assert steps == [(0.0, pytest.approx(float(hand["cost"]))), (float(hand["rate"]), float(hand["cost_after"]))]


def test_the_layers_plot_shows_vanishing_gradients_on_a_deep_tanh_network():
    net, ctx, _, md = _render("deep-tanh")
    v = ctx["lessons"]["vanishing"]
    assert float(v.ratio) < 0.1 and v.trend == "vanishing"
    assert "vanishes on its way back" in md


def test_dead_relus_are_named_when_they_occur():
    net, ctx, _, md = _render("wide")
    off = ctx["lessons"]["off"]
    assert off and off[0].layer == 1
    params, X, Y = example.example_point(net)
    zs, _ = numeric.forward(net, params, X)
    assert off[0].neurons == [int(j) for j in np.flatnonzero(zs[1][0] < 0)]
    grads = numeric.backprop(net, params, X, Y)
    assert np.all(grads["W1"][off[0].neurons] == 0)  # their rows of the gradient are zero
    lessons = md[md.index("## 11."):md.index("## 12.")]
    assert ", ".join(map(str, off[0].neurons)) in lessons


def test_the_count_of_multiplications():
    from symbackprop.render.lessons import counts
    c = counts(Network.parse("784,30,10"))
    assert c.forward == 784 * 30 + 30 * 10 and c.parameters == 784 * 30 + 30 + 30 * 10 + 10
    assert c.backward == 10 + (10 * 30 + 30) + c.forward and c.differences == 2 * c.parameters * c.forward


def test_nielsen_map(notes_of):
    _, net, ctx, _, md = notes_of
    section = _section(md, "nielsen")
    assert "layer 1" in section and "BP1a" in section and net.cost_entry.nielsen[1:] in section  # a capital first
    for name in ("BP1", "BP2", "BP3", "BP4"):
        assert name in section


# The commands file ---------------------------------------------------------------------------

def test_the_verify_script_beside_the_notes(tmp_path):
    net = Network.parse("3,3,2")
    notes.write_notes([net], tmp_path)
    script = tmp_path / f"{notes.file_stem(net)}.verify.sh"
    assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0
    text = script.read_text()
    ctx = notes.context(net)
    for ex in ctx["exercises"]:
        if ex.formula:
            assert f"exercise_{ex.number}()" in text and f"answer_{ex.number}()" in text
            assert "\n".join("    " + line for line in ex.answer_command.splitlines()) in text


# Networks of the second wave: a softmax output, regularisation ------------------------------

def test_a_softmax_output_is_not_written_as_a_product_of_slopes():
    net = Network.parse("3,3,2", "sigmoid,softmax", "log_likelihood")
    ctx = notes.context(net)
    md = notes.render_notes(net, "markdown", ctx)
    out = ctx["hand"]["layers"][-1]
    for n in out.backward:  # δ_j = a_j − y_j from the derivation, not ∂C₀/∂a_j σ'(z_j)
        assert n.slope is None and n.delta_product is None
        assert printing.latex(n.delta_form) == f"a^{{(2)}}_{{{out.backward.index(n)}}} - y_{{{out.backward.index(n)}}}"
    params, X, Y = example.example_point(ctx["hand"]["network"], ctx["hand"]["seed"])
    assert Y.sum() == pytest.approx(1.0)  # the targets of a cost over a probability add up to 1
    back = numeric.backward(ctx["hand"]["network"], params, X, Y)
    acts = back.acts[-1][0]
    assert [float(n.delta_value) for n in out.backward] == pytest.approx(list(acts - Y[0]), rel=1e-3)
    assert "softmax" not in [c.entry.name for c in ctx["curves"]]  # no curve of one z for a whole layer
    assert r"\frac{\partial a^{(L)}_{i}}{\partial z^{(L)}_{j}}" in notes.render_notes(net, "latex", ctx)
    assert "softmax" in md and "log-likelihood" in md


def test_regularisation_is_stated_and_the_numbers_stay_those_of_one_examples_cost():
    net = Network.parse("3,3,2", l2=0.1)
    ctx = notes.context(net)
    md = notes.render_notes(net, "markdown", ctx)
    assert "This network adds L2 regularisation" in md and r"\frac{\lambda}{n}" in md
    plain = notes.context(Network.parse("3,3,2"))
    assert ctx["hand"]["own"]
    assert float(ctx["hand"]["cost"]) == float(plain["hand"]["cost"])  # C₀, the notes' subject
    for mine, theirs in zip(ctx["numbers"]["layers"], plain["numbers"]["layers"]):
        assert mine.grad_norm == theirs.grad_norm


def test_every_registry_entry_has_the_notes_prose():
    """A new activation or cost needs its prose for the notes; a display form must be the term itself."""
    from symbackprop import costs
    a, y = sp.symbols("a y")
    for entry in activations.REGISTRY.values():
        assert entry.description and entry.flat and entry.nielsen and entry.words, entry.name
    for entry in costs.REGISTRY.values():
        assert entry.description and entry.slope_meaning and entry.adds_up and entry.nielsen, entry.name
        assert sp.simplify(printing.plain(entry.display_term(a, y)) - entry.per_neuron(a, y)) == 0, entry.name


# The softmax section (issue 12) ----------------------------------------------------------------

SOFTMAX = {"log-likelihood": ("3,4,3", "tanh,softmax", "log_likelihood", {"l2": 0.5}),
           "quadratic": ("3,3,2", "sigmoid,softmax", "quadratic", {"l1": 0.1})}
OUTSIDE_THE_CHAIN = ("several", "bp", "normalised", "functions", "lessons", "nielsen", "decay")


@pytest.fixture(scope="module", params=list(SOFTMAX), ids=list(SOFTMAX))
def softmax_notes(request):
    net = _parse(SOFTMAX[request.param])
    ctx = notes.context(net)
    return net, ctx, notes.render_notes(net, "latex", ctx), notes.render_notes(net, "markdown", ctx)


def test_softmax_notes_never_treat_the_output_layer_as_element_wise(softmax_notes):
    """σ' of a softmax output is never a slope to multiply by: outside the chain sections (which show
    the one-neuron counterpart) the output layer's σ' appears only where the notes say it is not one."""
    net, ctx, tex, md = softmax_notes
    assert "divides by exactly the output layer's slope" not in md
    hand_part = md[md.index("### Several neurons, by hand"):md.index('<a id="sec-decay"></a>')]
    for part in [_section(md, label) for label in OUTSIDE_THE_CHAIN] + [hand_part]:
        for line in part.splitlines():
            if re.search(r"\\sigma'\(z\^\{\((L|2)\)\}", line):
                assert "not one slope" in line, line
    lessons = _section(md, "lessons")
    output_error = lessons[lessons.index("**The output error.**"):lessons.index("**Why backpropagation")]
    assert "\\sigma'" not in output_error and "Jacobian" in output_error
    # the table of factors is about the chain's counterpart, and the notes say what the factor is instead
    table = _section(md, "weight")
    assert f"the chain's {ctx['chain_out'].words} output neuron" in table and "Jacobian" in table
    assert ctx["chain_out"].elementwise and ctx["chain_net"].one_neuron_per_layer


def test_the_softmax_chain_is_its_one_neuron_counterpart(softmax_notes):
    """A softmax of one neuron is 1: the chain shows the two-class softmax, the sigmoid (and the two-class
    log-likelihood, the cross-entropy), found by SymPy; checked here independently."""
    net, ctx, tex, md = softmax_notes
    chain = ctx["chain_net"]
    z, a, y = sp.symbols("z a y")
    out = activations.get(chain.activations[-1])
    assert sp.simplify(sp.exp(z) / (sp.exp(z) + 1) - out.expression(z)) == 0
    assert chain.activations[:-1] == net.activations[:-1]
    if net.cost_entry.needs_normalised_output:
        two_classes = -y * sp.log(a) - (1 - y) * sp.log(1 - a)
        assert sp.simplify(two_classes - chain.cost_entry.per_neuron(a, y)) == 0
        assert "the counterpart of this network's log-likelihood cost" in md
    else:
        assert chain.cost == net.cost
    chain_part = _section(md, "chain")
    assert r"\frac{e^{z}}{e^{z}} = 1" in chain_part and "sigmoid output neuron" in chain_part
    # its numbers are those of a chain that learns: not the softmax of one neuron, whose slope is 0
    assert float(ctx["chain_numbers"]["cost"]) > 0 and all(float(s.product) != 0 for s in ctx["chain_numbers"]["steps"])


def test_the_jacobian_is_derived_with_its_two_cases(softmax_notes):
    net, ctx, tex, md = softmax_notes
    sm = ctx["softmax"]
    section = _section(md, "normalised")
    i, j, L = sp.Symbol("i", integer=True, nonnegative=True), nt.j, nt.L
    assert printing.latex(sm["raw"]) in section  # SymPy's quotient rule, then the two cases and together
    assert r"\frac{\partial a^{(L)}_{j}}{\partial z^{(L)}_{j}} &= a^{(L)}_{j} \left(1 - a^{(L)}_{j}\right)" in section
    assert r"\frac{\partial a^{(L)}_{i}}{\partial z^{(L)}_{j}} &= - a^{(L)}_{i} a^{(L)}_{j}" in section
    assert r"a^{(L)}_{i} \left(\delta_{i j} - a^{(L)}_{j}\right)" in section
    assert r"\delta^{(L)} &= \left(\frac{\partial a^{(L)}}{\partial z^{(L)}}\right)^{T} \nabla_a C" in section
    assert "sum over paths" in section and "Kronecker delta" in section
    # the whole matrix agrees with an independent differentiation of e^{z_i} / Σ_k e^{z_k}
    width = sm["width"]
    assert width == min(max(net.width(net.depth), 2), 3) and sm["small"][1].shape == (width, width)
    zs = sp.symbols(f"z0:{width}")
    soft = [sp.exp(zk) / sum(sp.exp(zm) for zm in zs) for zk in zs]
    for r in range(width):
        for c in range(width):
            entry = sm["small"][1][r, c]
            values = {nt.a[L, m]: soft[m] for m in range(width)}
            assert sp.simplify(printing.plain(entry).xreplace(values) - sp.diff(soft[r], zs[c])) == 0


def test_the_worked_examples_jacobian_gives_its_error(softmax_notes):
    """At the hand example's softmax layer: J = diag(a) − a aᵀ (computed here), δ = Jᵀ∇ₐC, and a − y
    where the cost cancels."""
    net, ctx, tex, md = softmax_notes
    hand = ctx["hand"]
    params, X, Y = example.example_point(hand["network"], hand["seed"])
    back = numeric.backward(hand["network"], params, X, Y)
    a = back.acts[-1][0]
    J = np.diag(a) - np.outer(a, a)
    assert hand["jacobian"]["values"] == pytest.approx(J)
    assert J.T @ back.d_a[-1][0] == pytest.approx(back.delta[-1][0])
    if ctx["d"].output_error_cancels:
        assert back.delta[-1][0] == pytest.approx(a - Y[0])
        assert "and indeed" in _section(md, "normalised")


def test_the_cancellation_is_said_only_where_the_output_error_cancels(softmax_notes):
    net, ctx, tex, md = softmax_notes
    section = _section(md, "normalised")
    cancels = ctx["d"].output_error_cancels
    assert ("cost cancels it." in section) == cancels
    assert ("does not cancel the Jacobian" in section) == (not cancels)
    if cancels:  # the sum collapses: a_j Σ_i y_i − y_j, with targets adding up to 1
        assert r"a^{(L)}_{j} \sum_{i=0}^{n_{L} - 1} y_{i} - y_{j}" in section
        assert r"\sum_{i=0}^{n_{L} - 1} y_{i} = 1" in section and "add up to 1" in section
        assert "The parallel with the sigmoid and the cross-entropy cost." in section
        assert "The same error as here" in section
    else:
        assert "collapses to the output minus the target instead" in section


def test_element_wise_notes_have_no_softmax_section():
    _, ctx, tex, md = _render("cross-entropy")
    assert ctx["softmax"] is None and ctx["counterpart"] is None
    assert 'id="sec-normalised"' not in md and "Jacobian" not in md


# Weight decay ----------------------------------------------------------------------------------

DECAY = {"l2": ("3,3,2", "sigmoid", "quadratic", {"l2": 0.5}), "l2-softmax": SOFTMAX["log-likelihood"],
         "l2-strong": ("2,3,2", "tanh", "half_quadratic", {"l2": 8}), "l1": SOFTMAX["quadratic"]}


@pytest.mark.parametrize("name", list(DECAY))
def test_weight_decay_notes_state_the_decay_with_this_networks_lambda(name):
    net = _parse(DECAY[name])
    ctx = notes.context(net)
    md = notes.render_notes(net, "markdown", ctx)
    section = _section(md, "decay")
    (entry, lam), = net.regularisers
    shown = f"{lam:g}"
    assert f"\\lambda = {shown}" in section
    assert r"\frac{\partial C}{\partial b^{(l)}_{j}} &= \frac{\partial C_{0}}{\partial b^{(l)}_{j}}" in section
    assert "biases are not regularised" in section
    if entry.numpy_slope(np.array(2.0)) == 2.0:  # penalty'(w) = w: a decay factor
        assert r"\left(1 - \frac{\eta \lambda}{n}\right) w^{(l)}_{jk} - \eta \frac{\partial C_{0}}{\partial w^{(l)}_{jk}}" in section
        assert f"1 - \\frac{{{shown} \\eta}}{{n}}" in section
    else:  # penalty'(w) = sgn(w): a constant step towards 0
        assert r"- \frac{\eta \lambda}{n} \operatorname{sign}{\left(w^{(l)}_{jk} \right)}" in section
        assert f"\\frac{{{shown} \\eta}}{{n}}" in section and "towards 0 by the same amount" in section
    assert 'id="sec-decay"' in md and "Section" in _section(md, "average")
    assert not re.search(r"\\times -\d", md)  # a negative factor is in parentheses, 0.5 × (−0.09)


@pytest.mark.parametrize("name", list(DECAY))
def test_the_penalised_gradient_descent_step_lowers_the_penalised_cost(name):
    """The weight-decay example's step, recomputed here: w − η(∂C₀/∂w + (λ/n) penalty'(w)) from numeric's
    C₀ gradient and the registry's penalty', biases by ∂C₀/∂b alone; the cost with the penalty goes down."""
    net = _parse(DECAY[name])
    ctx = notes.context(net)
    dx = ctx["decay_example"]
    (entry, lam), = net.regularisers
    plain = ctx["hand"]["network"]
    params, X, Y = dx["params"], dx["X"], dx["Y"]
    n, rate = len(X), dx["values"]["rate"]
    grads0 = numeric.backprop(plain, params, X, Y)
    expected = {}
    for key, value in params.items():
        penalty = lam / n * entry.numpy_slope(value) if key.startswith("W") else 0.0
        expected[key] = value - rate * (grads0[key] + penalty)
        assert dx["new"][key] == pytest.approx(expected[key], abs=1e-12)
    before = numeric.cost(dx["network"], params, X, Y)
    after = numeric.cost(dx["network"], expected, X, Y)
    penalty = sum(lam / n * float(entry.numpy_penalty(params[f"W{l}"])) for l in range(1, plain.depth + 1))
    assert before == pytest.approx(numeric.cost(plain, params, X, Y) + penalty)
    assert after < before
    assert float(dx["cost"]) == pytest.approx(before, rel=1e-3) and float(dx["cost_after"]) == pytest.approx(after, rel=1e-3)
    if dx["factor"] is not None:  # the decay factor shown is 1 − ηλ/n, and above 0
        assert float(dx["factor"]) == pytest.approx(1 - rate * lam / n, rel=1e-3) and float(dx["factor"]) > 0
    md = notes.render_notes(net, "markdown", ctx)
    assert f"goes from ${dx['cost'].latex()}$ to ${dx['cost_after'].latex()}$" in _section(md, "decay")
