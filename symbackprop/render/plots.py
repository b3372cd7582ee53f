"""The notes' plots as data: panels with axes, series of numbers and marked regions.

One layout per plot serves both targets, as for the figures: the LaTeX template draws it
with pgfplots (``\\addplot coordinates``), the SVG template (``notes.plot.svg.j2``) draws the
same numbers as polylines; both print the coordinates from :attr:`Series.coordinates`, so
the PDF and the Markdown plot the very same values.  Every value comes from ``numeric`` (the
registries' NumPy forms and the one numerical backprop) or from the worked examples.

* :func:`activation_plot`  σ and σ' of this network's activations, flat regions shaded, the
  worked example's neurons marked on σ'
* :func:`layer_plot`       ‖δ⁽ˡ⁾‖ and ‖∂C₀/∂w⁽ˡ⁾‖ per layer at the example (log scale)
* :func:`descent_plot`     the cost along the gradient-descent step of the hand example
"""

import html
import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .. import notation as nt
from .. import numeric
from ..printing import text
from .figures import svg_text

Z_RANGE = 5.0  # σ and σ' are drawn for z in [-Z_RANGE, Z_RANGE] (wider when an example's z lies outside)
Z_POINTS = 81
FLAT = 0.1  # a region is shaded where σ' is below this fraction of its largest value
DESCENT_POINTS = 21

# SVG geometry of one panel, in pixels
PANEL_WIDTH = {1: 560, 2: 330}
PANEL_HEIGHT = 210
LEFT, RIGHT, TOP, BOTTOM = 62, 14, 30, 46
LEGEND_HEIGHT = 22
COLORS = {"blue": "#1f4e9c", "red": "#a3221b", "gray": "#666666", "green": "#2e7d32"}


def _coordinate(value):
    return f"{float(value):.6g}"


@dataclass
class Series:
    points: list  # (x, y) floats
    style: str  # line | dashed | marks | linemarks
    color: str  # a key of COLORS (also a pgfplots color name)
    legend: list = None  # parts: words (str), SymPy expressions, or objects with latex() and text()

    @property
    def coordinates(self):
        """The points as both targets print them: 'x,y' pairs with 6 significant digits."""
        return [(_coordinate(x), _coordinate(y)) for x, y in self.points]

    @property
    def hex(self):
        return COLORS[self.color]


@dataclass(frozen=True)
class Primed:
    """σ' under the activation's own name, tanh'(z), from the derivation's ActivationSlope."""

    slope: object

    def latex(self):
        return self.slope.named_prime

    def text(self):
        return text(self.slope.named).replace("(", "'(", 1)


_SUPERSCRIPT = dict(zip("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"))


def log_tick(value):
    """A tick of a log axis as pgfplots labels it: 10⁻³."""
    return "10" + "".join(_SUPERSCRIPT[c] for c in str(round(math.log10(value))))


def label_parts(parts):
    """[(kind, value)]: ("words", str) or ("math", expression) for the templates."""
    return [("words", part) if isinstance(part, str) else ("math", part) for part in parts or []]


def svg_math(value, size=13):
    """An expression as SVG text (Unicode scripts), for plot titles and legends."""
    if hasattr(value, "text"):
        return html.escape(value.text(), quote=False)
    return svg_text(value, size)


@dataclass
class Panel:
    title: list  # parts, as Series.legend
    xlabel: object
    ylabel: object
    xmin: float
    xmax: float
    ymin: float
    ymax: float
    series: list
    xticks: list
    yticks: list
    ylog: bool = False
    regions: list = field(default_factory=list)  # (x0, x1) shaded
    columns: int = 1  # panels per row in the figure

    # SVG geometry --------------------------------------------------------------------------
    @property
    def width(self):
        return PANEL_WIDTH[self.columns]

    @property
    def height(self):
        return PANEL_HEIGHT + (LEGEND_HEIGHT if any(s.legend is not None for s in self.series) else 0)

    def _ty(self, y):
        if self.ylog:
            return (math.log10(y) - math.log10(self.ymin)) / (math.log10(self.ymax) - math.log10(self.ymin))
        return (y - self.ymin) / (self.ymax - self.ymin)

    def px(self, x, y):
        """SVG pixels of a data point inside this panel (y clipped to the axis)."""
        inner_w, inner_h = self.width - LEFT - RIGHT, PANEL_HEIGHT - TOP - BOTTOM
        tx = (x - self.xmin) / (self.xmax - self.xmin)
        ty = min(1.0, max(0.0, self._ty(y)))
        return round(LEFT + tx * inner_w, 1), round(TOP + (1 - ty) * inner_h, 1)

    def polyline(self, series):
        return " ".join(f"{x},{y}" for x, y in (self.px(*p) for p in series.points
                                                  if not self.ylog or p[1] > 0))

    @property
    def frame(self):
        return LEFT, TOP, self.width - LEFT - RIGHT, PANEL_HEIGHT - TOP - BOTTOM

    def xtick_px(self):
        return [(self.px(t, self.ymin if not self.ylog else self.ymin)[0], t) for t in self.xticks]

    def ytick_px(self):
        return [(self.px(self.xmin, t)[1], t) for t in self.yticks]

    def region_px(self):
        out = []
        for x0, x1 in self.regions:
            (a, _), (b, _) = self.px(x0, self.ymin), self.px(x1, self.ymin)
            out.append((a, TOP, b - a, PANEL_HEIGHT - TOP - BOTTOM))
        return out

    def legend_px(self):
        """(x, y, series) of each legend entry, in a row under the axis, each as wide as its words."""
        out, x = [], 12.0
        for s in self.series:
            if s.legend is None:
                continue
            out.append((round(x, 1), PANEL_HEIGHT + 12, s))
            x += 26 + 12 * 0.5 * sum(len(p if isinstance(p, str) else text(p) if not hasattr(p, "text") else p.text())
                                      for p in s.legend) + 18
        return out


@dataclass
class Plot:
    name: str
    panels: list

    @property
    def columns(self):
        return self.panels[0].columns if self.panels else 1

    @property
    def svg_width(self):
        return sum(p.width for p in self.panels[:self.columns])

    @property
    def svg_height(self):
        rows = -(-len(self.panels) // self.columns)
        return rows * max(p.height for p in self.panels)

    def offsets(self):
        """(x, y, panel) of every panel in the SVG grid."""
        height = max(p.height for p in self.panels)
        return [((i % self.columns) * self.panels[0].width, (i // self.columns) * height, p)
                for i, p in enumerate(self.panels)]


def _nice_ticks(low, high, count=5):
    """Round tick values covering [low, high]."""
    span = high - low
    if span <= 0:
        return [low]
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    t = first
    while t <= high + 1e-9:
        ticks.append(round(t, 10) + 0.0)
        t += step
    return ticks


def _padded(values, pad=0.08):
    low, high = float(np.min(values)), float(np.max(values))
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    margin = (high - low) * pad
    return low - margin, high + margin


def _regions(z, flat):
    """Intervals of z where ``flat`` holds, as (start, end) pairs."""
    out, start = [], None
    for i, f in enumerate(flat):
        if f and start is None:
            start = z[i]
        if not f and start is not None:
            out.append((start, z[i - 1]))
            start = None
    if start is not None:
        out.append((start, z[-1]))
    return [(float(a), float(b)) for a, b in out if b > a]


@dataclass
class ActivationCurve:
    """One activation's σ and σ' on a grid: the plot's numbers and what the lessons read."""

    slope: object  # the derivation's ActivationSlope
    entry: object  # the registry entry
    z: np.ndarray
    sigma: np.ndarray
    sigma_prime: np.ndarray
    marks: list  # (z, σ'(z)) of the worked example's neurons with this activation

    @property
    def largest_slope(self):
        return float(np.max(self.sigma_prime))

    @property
    def can_die(self):
        """Whether the slope is exactly 0 somewhere on the plot (a neuron there passes nothing back)."""
        return bool(np.any(self.sigma_prime == 0))

    @property
    def flat(self):
        return _regions(self.z, self.sigma_prime < FLAT * self.largest_slope)


def activation_curves(derivation, hand):
    """σ and σ' of every activation of the network, with the hand example's neurons marked."""
    out = []
    net = hand["network"]
    for slope in derivation.slopes:
        entry = derivation.network.activation(slope.layers[0])
        if not entry.elementwise:  # softmax: a whole layer's function, no curve of one z
            continue
        marks = []
        for item in hand["layers"]:
            if net.activations[item.number - 1] == slope.name:
                marks += [(float(n.z_value.value), float(hand["slopes"][item.number][0, j]))
                          for j, n in enumerate(item.forward)]
        reach = max([Z_RANGE] + [abs(z) + 0.5 for z, _ in marks])
        z = np.linspace(-reach, reach, Z_POINTS)
        sigma = np.asarray(entry.numpy(z), dtype=float)
        prime = np.broadcast_to(np.asarray(numeric.slope_of_z(slope.name)(z), dtype=float), z.shape)
        out.append(ActivationCurve(slope, entry, z, sigma, np.array(prime), marks))
    return out


def activation_plot(curves):
    """σ and σ' of each activation that acts neuron by neuron (None when there is none)."""
    if not curves:
        return None
    columns = 1 if len(curves) == 1 else 2
    panels = []
    for c in curves:
        series = [Series(list(zip(c.z, c.sigma)), "line", "blue", [c.slope.named]),
                  Series(list(zip(c.z, c.sigma_prime)), "dashed", "red", [Primed(c.slope)])]
        if c.marks:
            series.append(Series(c.marks, "marks", "red", ["the example's neurons"]))
        ymin, ymax = _padded(np.concatenate([c.sigma, c.sigma_prime]))
        ymin, ymax = min(ymin, -0.1), max(ymax, 1.1)
        xmin, xmax = float(c.z[0]), float(c.z[-1])
        panels.append(Panel([c.entry.words], sp.Symbol("z"), None, xmin, xmax, ymin, ymax, series,
                            _nice_ticks(xmin, xmax), _nice_ticks(ymin, ymax, 4), regions=c.flat,
                            columns=columns))
    return Plot("activations", panels)


def _log_range(values):
    values = [v for v in values if v > 0]
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    if high - low < 1:
        high += 1
    return 10.0 ** low, 10.0 ** high, [10.0 ** e for e in range(low, high + 1)]


def layer_plot(numbers, depth):
    """‖δ⁽ˡ⁾‖ and ‖∂C₀/∂w⁽ˡ⁾‖ for l = 1..L at the example (None when there is nothing to draw)."""
    rows = sorted(numbers["layers"], key=lambda item: item.number)
    deltas = [(item.number, item.delta_norm) for item in rows if item.delta_norm > 0]
    grads = [(item.number, item.grad_norm) for item in rows if item.grad_norm > 0]
    if depth < 2 or not deltas:
        return None
    ymin, ymax, yticks = _log_range([v for _, v in deltas + grads])
    step = max(1, math.ceil(depth / 12))
    xticks = [float(layer) for layer in range(1, depth + 1, step)]
    l = nt.l
    series = [Series(deltas, "linemarks", "blue", ["length of ", nt.delta[l]]),
              Series(grads, "linemarks", "red", ["length of ", nt.partial(nt.C0, nt.w[l])])]
    panel = Panel(["errors and weight gradients, layer by layer"], sp.Symbol("l"), None,
                  0.5, depth + 0.5, ymin, ymax, series, xticks, yticks, ylog=True)
    return Plot("layers", [panel])


def descent_plot(hand):
    """C₀ along the step θ − t ∇C₀ for t from 0 to 2η, with its tangent at 0 and the step at η."""
    net, params, X, Y, grads = hand["network"], hand["params"], hand["X"], hand["Y"], hand["grads"]
    rate = float(hand["rate"])
    squared = float(hand["gradient_squared"])
    ts = np.linspace(0, 2 * rate, DESCENT_POINTS)
    costs = [numeric.cost(net, {k: params[k] - t * grads[k] for k in params}, X, Y) for t in ts]
    start = costs[0]
    ymin, ymax = _padded(costs)
    ymin = min(ymin, start - float(ts[-1]) * squared)
    ymin = max(ymin, min(costs) - 0.3 * (max(costs) - min(costs) + 1e-9))
    # the tangent up to where it leaves the axis, so that both targets draw the same segment
    end = min(float(ts[-1]), (start - ymin) / squared) if squared > 0 else float(ts[-1])
    tangent = [(0.0, start), (end, start - end * squared)]
    steps = [(0.0, start), (rate, float(hand["cost_after"].value))]
    t = sp.Symbol("t")
    series = [Series(list(zip(ts, costs)), "line", "blue", ["cost after a step of size ", t]),
              Series(tangent, "dashed", "gray", ["its slope at 0"]),
              Series(steps, "marks", "red", ["the step taken"])]
    panel = Panel(["the cost ", nt.C0, " along the step"], t, None, 0.0, float(ts[-1]), ymin, ymax, series,
                  _nice_ticks(0.0, float(ts[-1])), _nice_ticks(ymin, ymax, 4))
    return Plot("descent", [panel])
