"""The teacher's chart: how many answers made each mistake, as a horizontal SVG bar chart."""

from .views import render

BAR_HEIGHT = 26
LABEL_WIDTH = 210
BAR_WIDTH = 300


def mistakes_svg(counts, total):
    """An SVG bar chart of ``counts`` (diagnosis code -> answers), out of ``total`` answers."""
    top = max(counts.values(), default=0)
    bars = [{"code": code, "count": n, "y": i * BAR_HEIGHT,
             "width": max(2, round(BAR_WIDTH * n / top)) if top else 0}
            for i, (code, n) in enumerate(counts.items())]
    return render("chart.svg.j2", bars=bars, total=total, bar_height=BAR_HEIGHT, label_width=LABEL_WIDTH,
                  bar_width=BAR_WIDTH, height=max(1, len(bars)) * BAR_HEIGHT + 34)
