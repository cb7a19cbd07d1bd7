"""Charts as PNG bytes (matplotlib, no pyplot state), with Japanese labels that render.

The Japanese font is IPAexGothic, shipped by the `japanize-matplotlib` package (a dependency).
Only its font file is used — the package itself is not imported, so matplotlib's global settings
stay untouched and rendering is the same in every thread.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Colour-blind-safe palette (Okabe–Ito), one colour per series.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#999999")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


@cache
def japanese_font():
    """IPAexGothic from the japanize-matplotlib package; fails loudly if it is missing."""
    from matplotlib.font_manager import FontProperties

    spec = importlib.util.find_spec("japanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the japanize-matplotlib package (IPAexGothic font) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"
    if not path.is_file():
        raise RuntimeError(f"the Japanese font is missing: {path}")
    return FontProperties(fname=str(path))


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[int | None, ...]  # None: not shown (k未満 or 秘匿) — no point is drawn


@dataclass(frozen=True)
class TrendChart:
    title: str
    x_labels: tuple[str, ...]
    series: tuple[Series, ...]
    totals: Series | None  # drawn as grey bars behind the lines
    y_label: str
    band_label: str  # explains the shaded band below k
    k: int


def render_trend(chart: TrendChart) -> bytes:
    """A line per series over the months; suppressed values are gaps, never invented points."""
    # matplotlib is imported here, not at start-up: only the monthly post draws, and the bot
    # starts faster and smaller without it. The Agg canvas renders to bytes, no display.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    # Slack shows the image at about a third of its width in the channel: large type, few
    # month labels (handlers/linknet/views.X_LABELS), the legend below the plot.
    font = japanese_font()
    title = font.copy()
    title.set_size(20)
    label = font.copy()
    label.set_size(16)
    small = font.copy()
    small.set_size(15)
    figure = Figure(figsize=(10, 6.4), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    xs = list(range(len(chart.x_labels)))
    ax.axhspan(0, chart.k, color="#eeeeee", zorder=0)
    if chart.totals is not None:
        bars = [(x, v) for x, v in zip(xs, chart.totals.values, strict=True) if v is not None]
        if bars:
            ax.bar(
                [x for x, _ in bars],
                [v for _, v in bars],
                color="#dddddd",
                edgecolor="#bbbbbb",
                label=chart.totals.label,
                zorder=1,
            )
    for i, s in enumerate(chart.series):
        ys = [float("nan") if v is None else v for v in s.values]
        ax.plot(
            xs,
            ys,
            color=PALETTE[i % len(PALETTE)],
            marker=MARKERS[i % len(MARKERS)],
            linewidth=2,
            label=s.label,
            zorder=3,
        )
    ax.set_xticks(xs)
    ax.set_xticklabels(chart.x_labels, fontproperties=small)
    ax.tick_params(axis="x", length=0 if len(xs) == 1 else 4)
    ax.tick_params(axis="y", labelsize=15)
    if len(xs) == 1:
        ax.set_xlim(-1, 1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(chart.y_label, fontproperties=label)
    ax.set_title(chart.title, fontproperties=title)
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    # The band's meaning as a footnote, where no bar can cover it.
    band = Patch(facecolor="#eeeeee", edgecolor="#cccccc", label=chart.band_label)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        [*handles, band],
        [*labels, chart.band_label],
        prop=small,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=3,
        frameon=False,
    )
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
