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
    fig = Figure(figsize=(8, 7), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(len(weeks)))
    bottom = [0] * len(weeks)
    for category in categories:
        values = [weekly[w].get(category, 0) for w in weeks]
        ax.bar(positions, values, bottom=bottom, label=labels.get(category, category))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(positions, [week_label(w, texts.locale) for w in weeks])
    ax.set_title(texts.title, fontsize=TITLE_SIZE)
    ax.set_xlabel(texts.x_axis, fontsize=LABEL_SIZE)
    ax.set_ylabel(texts.y_axis, fontsize=LABEL_SIZE)
    ax.tick_params(axis="x", labelrotation=45, labelsize=TICK_SIZE)
    ax.tick_params(axis="y", labelsize=TICK_SIZE)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.legend(loc="outside lower center", ncols=2, fontsize=LEGEND_SIZE, frameon=False)
    return fig


def weekly_chart(weekly: dict[str, Counter[str]], labels: dict[str, str], texts: ChartTexts) -> bytes:
    """The chart as PNG bytes."""
    buffer = io.BytesIO()
    weekly_figure(weekly, labels, texts).savefig(buffer, format="png")
    return buffer.getvalue()
