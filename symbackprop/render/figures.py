"""The notes' figures as data: nodes and edges with positions, labelled by derivation symbols.

One layout per figure serves both targets: the LaTeX template draws it with TikZ, the SVG
template (for Markdown viewers) draws the same nodes and edges.  Labels are SymPy
expressions, printed by the templates' ``tex`` / ``text`` filters; positions are in
centimetres, y pointing up.

* :func:`chain_figure`  the one-neuron-per-layer chain with its weights and biases
* :func:`tree_figure`   the computation tree w, a, b -> z -> a -> C₀, edges labelled ∂/∂
* :func:`paths_figure`  this network, with the paths from a neuron k of layer L-1 to C₀
"""

import html
import math
import re
from dataclasses import dataclass, field

import sympy as sp

from .. import notation as nt
from ..printing import text

SVG_SCALE = 48  # pixels per centimetre
SVG_MARGIN = 40
NODE_RADIUS = {"neuron": 0.32, "faint": 0.22, "cost": 0.38, "quantity": 0.42, "dots": 0.0, "note": 0.0}


@dataclass
class Node:
    name: str
    x: float
    y: float
    expr: object = None  # a SymPy expression, or None
    kind: str = "neuron"  # neuron | faint | cost | quantity | dots | note
    label: str = "inside"  # inside | above | below | left | right
    note: str = ""  # plain words for kind == "note"

    @property
    def ref(self):
        return f"({self.name})"

    @property
    def at(self):
        return f"({self.x:.2f},{self.y:.2f})"

    @property
    def radius(self):
        return NODE_RADIUS[self.kind]


@dataclass
class Edge:
    src: Node
    dst: Node
    expr: object = None
    kind: str = "arrow"  # arrow | strong | faint
    side: str = "above"  # where the label sits: above | below | left | right | above left ...
    pos: float = 0.5

    def svg_line(self, fig):
        """(x1, y1, x2, y2) in SVG pixels, shortened by the node radii."""
        (x1, y1), (x2, y2) = fig.px(self.src), fig.px(self.dst)
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        r1, r2 = self.src.radius * SVG_SCALE + 3, self.dst.radius * SVG_SCALE + 5
        if self.src.kind in ("quantity", "note"):
            r1 = 0.25 * SVG_SCALE
        if self.dst.kind in ("quantity", "note"):
            r2 = 0.3 * SVG_SCALE
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        return (round(x1 + ux * r1, 1), round(y1 + uy * r1, 1), round(x2 - ux * r2, 1), round(y2 - uy * r2, 1))

    def svg_label(self, fig, size=13):
        """(x, y, anchor) of the label in SVG pixels: beside the line on ``side``, pushed out until
        the label's box (estimated from its text) clears the line, so no line crosses a label."""
        x1, y1, x2, y2 = self.svg_line(fig)
        px, py = x1 + (x2 - x1) * self.pos, y1 + (y2 - y1) * self.pos
        width, height = label_width(self.expr, size), size
        hx = 1 if "right" in self.side else -1 if "left" in self.side else 0
        vy = -1 if "above" in self.side else 1 if "below" in self.side else 0
        if not hx and not vy:
            vy = -1
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        nx, ny = -(y2 - y1) / length, (x2 - x1) / length  # unit normal of the line
        for push in range(0, 80):
            # the box: horizontally left of, right of or centred on px; vertically likewise
            left = px - width - 4 - push if hx < 0 else px + 4 + push if hx > 0 else px - width / 2
            top = py - height - 4 - push if vy < 0 else py + 4 + push if vy > 0 else py - height / 2
            corners = [(left, top), (left + width, top), (left, top + height), (left + width, top + height)]
            sides = [(cx - x1) * nx + (cy - y1) * ny for cx, cy in corners]
            if all(d > 3 for d in sides) or all(d < -3 for d in sides):
                break
        anchor = "end" if hx < 0 else "start" if hx > 0 else "middle"
        x = left + width if hx < 0 else left if hx > 0 else px
        return round(x, 1), round(top + height * 0.8, 1), anchor


@dataclass
class Figure:
    name: str
    display: bool = False  # labels in display style (the tree's fractions at full size)
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)

    def node(self, name, x, y, expr=None, kind="neuron", label="inside", note=""):
        n = Node(name, x, y, expr, kind, label, note)
        self.nodes.append(n)
        return n

    def edge(self, src, dst, expr=None, kind="arrow", side="above", pos=0.5):
        self.edges.append(Edge(src, dst, expr, kind, side, pos))

    # SVG geometry ---------------------------------------------------------------------------
    def _bounds(self):
        xs, ys = [n.x for n in self.nodes], [n.y for n in self.nodes]
        return min(xs), max(xs), min(ys), max(ys)

    def px(self, node):
        x0, _, _, y1 = self._bounds()
        return (round((node.x - x0) * SVG_SCALE + SVG_MARGIN + 40, 1),
                round((y1 - node.y) * SVG_SCALE + SVG_MARGIN, 1))

    def svg_label_xy(self, node):
        """(x, y, anchor) of a node's label outside it, in SVG pixels."""
        x, y = self.px(node)
        r = node.radius * SVG_SCALE
        return {"above": (x, y - r - 6, "middle"), "below": (x, y + r + 16, "middle"),
                "left": (x - r - 6, y + 5, "end"), "right": (x + r + 6, y + 5, "start"),
                "above right": (x + r * 0.7, y - r - 4, "start"),
                "below right": (x + r * 0.7, y + r + 14, "start")}.get(node.label, (x, y + 5, "middle"))

    @property
    def svg_width(self):
        x0, x1, _, _ = self._bounds()
        return round((x1 - x0) * SVG_SCALE + 2 * SVG_MARGIN + 80)

    @property
    def svg_height(self):
        _, _, y0, y1 = self._bounds()
        return round((y1 - y0) * SVG_SCALE + 2 * SVG_MARGIN + 10)


def _step(derivation, target):
    """The chain step whose target is ``target`` (or None)."""
    return next((s for s in derivation.chain.steps if s.target == target), None)


def _shown_layers(depth, limit=7):
    """Which layers 0..L a figure draws: all of them, or the first two, a gap, the last four."""
    if depth <= limit:
        return list(range(depth + 1))
    return [0, 1, None, depth - 3, depth - 2, depth - 1, depth]


def chain_figure(derivation):
    """Neurons a^{(0)} .. a^{(L)} in a row, weights on the edges, biases below, then C₀ with y."""
    depth = derivation.network.depth
    L = nt.L
    fig = Figure("chain")
    layers = _shown_layers(depth)
    dx = min(2.6, 13.5 / len(layers))
    prev = None
    for i, number in enumerate(layers):
        if number is None:
            fig.node(f"gap{i}", i * dx, 0, None, "dots")
            prev = None
            continue
        layer = L - (depth - number)
        neuron = fig.node(f"a{i}", i * dx, 0, nt.a[layer], "neuron", "above")
        if number > 0:
            if prev is not None:
                fig.edge(prev, neuron, nt.w[layer], "arrow", "below", 0.5)
            bias = fig.node(f"b{i}", i * dx, -1.3, nt.b[layer], "quantity")
            fig.edge(bias, neuron, None, "faint")
        prev = neuron
    cost = fig.node("cost", len(layers) * dx, 0, nt.C0, "cost")
    fig.edge(prev, cost, None, "arrow")
    target = fig.node("y", len(layers) * dx, -1.3, nt.target, "quantity")
    fig.edge(target, cost, None, "arrow")
    return fig


def tree_figure(derivation):
    """The lectures' computation tree for the last layer (and the one before, when there is one).

    Every edge from a quantity the chain rule passes through is labelled with the partial
    derivative it multiplies along it, taken from the factors of the derivation's chain steps;
    only the edge from the constant y carries none.
    """
    L = nt.L
    depth = derivation.network.depth
    weight, bias = _step(derivation, nt.w[L]), _step(derivation, nt.b[L])
    fig = Figure("tree", display=True)
    h, dx = 2.4, 4.4  # vertical step, horizontal distance of w and b from the middle column
    top = 2 if depth >= 2 else 0
    y0 = (3 + top) * h
    rows = {}

    def triple(layer, y):
        w = fig.node(f"w{len(rows)}", 0, y, nt.w[layer], "quantity")
        a = fig.node(f"ap{len(rows)}", dx, y, nt.a[layer - 1], "quantity")
        b = fig.node(f"b{len(rows)}", 2 * dx, y, nt.b[layer], "quantity")
        rows[layer] = (w, a, b)
        return w, a, b

    if depth >= 2:
        upper = _step(derivation, nt.w[L - 1])
        upper_bias = _step(derivation, nt.b[L - 1])
        a_step = _step(derivation, nt.a[L - 1])
        w1, a1, b1 = triple(L - 1, y0)
        z1 = fig.node("z1", dx, y0 - h, nt.z[L - 1], "quantity")
        fig.edge(w1, z1, upper.factors[0].partial, "arrow", "below left", 0.5)
        fig.edge(a1, z1, nt.partial(nt.z[L - 1], nt.a[L - 2]), "arrow", "right", 0.42)
        fig.edge(b1, z1, upper_bias.factors[0].partial, "arrow", "below right", 0.5)
        w, a, b = triple(L, y0 - 2 * h)
        fig.edge(z1, a, upper.factors[1].partial, "arrow", "right", 0.5)
        a_label = a_step.factors[0].partial
    else:
        w, a, b = triple(L, y0)
        a_label = nt.partial(nt.z[L], nt.a[L - 1])
    base = a.y
    z = fig.node("z", dx, base - h, nt.z[L], "quantity")
    fig.edge(w, z, weight.factors[0].partial, "arrow", "below left", 0.5)
    fig.edge(a, z, a_label, "arrow", "right", 0.42)
    fig.edge(b, z, bias.factors[0].partial, "arrow", "below right", 0.5)
    out = fig.node("a", dx, base - 2 * h, nt.a[L], "quantity")
    fig.edge(z, out, weight.factors[1].partial, "arrow", "right", 0.5)
    y = fig.node("y", 2 * dx, base - 2 * h, nt.target, "quantity")
    cost = fig.node("cost", dx, base - 3 * h, nt.C0, "cost")
    fig.edge(out, cost, weight.factors[2].partial, "arrow", "right", 0.5)
    fig.edge(y, cost, None, "arrow")
    return fig


def _shown(width, limit=6):
    """Which neurons of a layer to draw: all of them, or the first few, a gap, the last two."""
    if width <= limit:
        return list(range(width))
    return [0, 1, 2, None, width - 2, width - 1]


def paths_layer(network):
    """The layer m whose sum over paths the figure shows: the output layer when it has several
    neurons, else the last layer m >= 2 with several (a^{(m-1)}_k reaches the cost through each
    of its neurons), else the output layer, where there is a single path."""
    depth = network.depth
    if network.width(depth) > 1:
        return depth
    return next((m for m in range(depth - 1, 1, -1) if network.width(m) > 1), depth)


def paths_figure(derivation):
    """The whole network, faint, with the paths from neuron k of layer m-1 through every neuron
    j of layer m drawn strong and labelled with their weights, and on to C₀ (m = paths_layer)."""
    net = derivation.network
    depth = net.depth
    m = paths_layer(net)
    label_m = nt.relative_layer(m, depth)
    fig = Figure("paths")
    layers = _shown_layers(depth)
    if m - 1 not in layers:  # a deep network where the paths lie in the skipped middle
        layers = [0, None, m - 1, m, None, depth] if m < depth - 1 else [0, None, m - 1, m, depth]
        layers = [n for i, n in enumerate(layers) if n is None or n not in layers[:i]]
    dx = min(3.2, 13.0 / (len(layers) - 1))
    dy = 1.15
    bottom = -(max(len(_shown(net.width(n))) for n in layers if n is not None) - 1) * dy / 2 - 1.0
    columns = []
    for i, layer in enumerate(layers):
        x = i * dx
        if layer is None:
            fig.node(f"gap{i}", x, 0, None, "dots")
            columns.append(None)
            continue
        shown = _shown(net.width(layer))
        top = (len(shown) - 1) * dy / 2
        column = {}
        for row, j in enumerate(shown):
            y = top - row * dy
            name = f"n{layer}x{row}"
            if j is None:
                fig.node(name, x, y, None, "dots")
                continue
            if layer == m:
                named = len(shown) <= 3 or row in (0, len(shown) - 1)
                column[j] = fig.node(name, x, y, nt.a[label_m, j] if named else None, "neuron",
                                     "above right" if y >= 0 else "below right")
            elif layer == m - 1 and j == 0:
                column[j] = fig.node(name, x, y, nt.a[label_m - 1, nt.k], "neuron", "above")
            elif layer > m:
                column[j] = fig.node(name, x, y, None, "neuron")
            else:
                column[j] = fig.node(name, x, y, None, "faint")
        columns.append(column)
        label = nt.relative_layer(layer, depth) if layer >= depth - 1 or layer in (m - 1, m) else sp.Integer(layer)
        fig.node(f"layer{layer}", x, bottom, label, "note", note="layer")
    for i in range(1, len(layers)):
        before, after = columns[i - 1], columns[i]
        if before is None or after is None:
            continue
        for src_j, src in before.items():
            for dst_j, dst in after.items():
                if layers[i] == m and src_j == 0:
                    # the first path labelled above its arrow, the last one below and to the left of
                    # its arrow's end, where only faint lines pass (the label's white box covers them)
                    first, last = dst_j == 0, dst_j == max(after) and dst_j != 0
                    fig.edge(src, dst, nt.w[label_m, dst_j, nt.k] if first or last else None, "strong",
                             "above" if first else "below left", 0.5 if first else 0.8)
                elif layers[i] > m:
                    fig.edge(src, dst, None, "arrow")
                else:
                    fig.edge(src, dst, None, "faint")
    cost = fig.node("cost", (len(layers) - 1) * dx + max(2.0, 0.8 * dx), 0, nt.C0, "cost")
    for node in columns[-1].values():
        fig.edge(node, cost, None, "strong" if depth == m else "arrow")
    return fig


# SVG labels -------------------------------------------------------------------------------

def label_width(expr, size=13):
    """About how many pixels the SVG label of ``expr`` takes (scripts count as 0.7 of a letter)."""
    source = text(expr).replace(" ", "")
    plain = _TOKEN.sub(lambda m: "", source)
    scripts = len(source) - len(plain)
    return size * 0.6 * (len(plain) + 0.7 * scripts)


_TOKEN = re.compile(r"\^\(([^()]*)\)|_\{([^{}]*)\}|_([0-9a-zA-Z]+)")


_SUPER = dict(zip("0123456789()-+Ll", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻⁺ᴸˡ"))
_SUB = dict(zip("0123456789jkl", "₀₁₂₃₄₅₆₇₈₉ⱼₖₗ"))


def svg_text(expr, size=15):
    """A label as SVG text: a^(L-1)_k becomes a⁽ᴸ⁻¹⁾ₖ with Unicode super- and subscripts.

    The text comes from the project's Unicode printer; a layer or index with a character that
    has no Unicode superscript or subscript form is raised or lowered with a tspan instead.
    """
    source = text(expr).replace(" ", "")
    pieces, last = [], 0
    for m in _TOKEN.finditer(source):
        pieces.append((source[last:m.start()], 0))
        if m.group(1) is not None:
            pieces.append((f"({m.group(1)})", 1))
        else:
            pieces.append((m.group(2) if m.group(2) is not None else m.group(3), -1))
        last = m.end()
    pieces.append((source[last:], 0))
    out, level = [], 0
    for chunk, new in pieces:
        table = _SUPER if new == 1 else _SUB
        if new and all(c in table for c in chunk):
            chunk, new = "".join(table[c] for c in chunk), 0
        if not chunk:
            continue
        dy = (level - new) * 5  # SVG y points down: up one level is -5
        small = f' font-size="{round(size * 0.72)}"' if new else ""
        escaped = html.escape(chunk, quote=False)
        out.append(f'<tspan dy="{dy}"{small}>{escaped}</tspan>' if (dy or new) else escaped)
        level = new
    return "".join(out)
