"""The 12-week chart of incidents by category, as a PNG (matplotlib's Agg canvas, no screen needed).

Drawn on a bare Figure (not pyplot, whose global state is not thread-safe) so that callers can
render it in a worker thread and keep the event loop, and the alerts behind it, moving.

Read on a phone: big type, the legend below the bars (never over them), axis titles and week dates
in the reader's language (Babel). Arabic words are shaped and laid right to left by matplotlib's own
text layout (libraqm, matplotlib >= 3.11; tests/test_chart.py checks the shaping)."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TITLE_SIZE = 15
LABEL_SIZE = 13
TICK_SIZE = 12
LEGEND_SIZE = 13


@dataclass(frozen=True)
class ChartTexts:
    """What the chart says, already translated for its reader."""

    title: str
    x_axis: str = ""
    y_axis: str = ""
    locale: str = "en"


def week_label(week: str, locale: str) -> str:
    """A week's Monday as its reader writes a short date ("23 nov", "Nov 23")."""
    from babel.dates import format_skeleton

    return format_skeleton("MMMd", date.fromisoformat(week), locale=locale)


def weekly_figure(weekly: dict[str, Counter[str]], labels: dict[str, str], texts: ChartTexts) -> Figure:
    """Stacked bars: one per week, one colour per category; the legend below, outside the bars."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    weeks = list(weekly)
    categories = sorted({c for counts in weekly.values() for c in counts}) or ["other"]
    rows = -(-len(categories) // 2)  # the legend's rows, two entries a row
    height = 5.5 + 0.3 * rows
    fig = Figure(figsize=(8, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(len(weeks)))
    bottom = [0] * len(weeks)
    for category in categories:
        values = [weekly[w].get(category, 0) for w in weeks]
        ax.bar(positions, values, bottom=bottom, label=labels.get(category, category))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(positions, [week_label(w, texts.locale) for w in weeks], rotation=45, ha="right")
    ax.set_title(texts.title, fontsize=TITLE_SIZE)
    ax.set_xlabel(texts.x_axis, fontsize=LABEL_SIZE)
    ax.set_ylabel(texts.y_axis, fontsize=LABEL_SIZE)
    ax.tick_params(axis="x", labelsize=TICK_SIZE)
    for label in ax.get_xticklabels():
        label.set_rotation_mode("anchor")  # each date ends under its own bar
    ax.tick_params(axis="y", labelsize=TICK_SIZE)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    # Fixed margins rather than a layout engine: solving one costs the event loop ~100 ms of GIL per chart.
    legend_in = 0.3 * rows + 0.2
    fig.subplots_adjust(left=0.1, right=0.97, top=1 - 0.5 / height, bottom=(legend_in + 1.15) / height)
    fig.legend(loc="lower center", bbox_to_anchor=(0.5, 0.01), ncols=2, fontsize=LEGEND_SIZE, frameon=False)
    return fig


def weekly_chart(weekly: dict[str, Counter[str]], labels: dict[str, str], texts: ChartTexts) -> bytes:
    """The chart as PNG bytes."""
    buffer = io.BytesIO()
    weekly_figure(weekly, labels, texts).savefig(buffer, format="png")
    return buffer.getvalue()
