"""The 12-week chart of incidents by category, as a PNG (matplotlib's Agg canvas, no screen needed).

Drawn on a bare Figure (not pyplot, whose global state is not thread-safe) so that callers can
render it in a worker thread and keep the event loop, and the alerts behind it, moving."""

from __future__ import annotations

import io
from collections import Counter


def weekly_chart(weekly: dict[str, Counter[str]], labels: dict[str, str], title: str) -> bytes:
    """Stacked bars: one per week, one colour per category."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    weeks = list(weekly)
    categories = sorted({c for counts in weekly.values() for c in counts}) or ["other"]
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bottom = [0] * len(weeks)
    for category in categories:
        values = [weekly[w].get(category, 0) for w in weeks]
        ax.bar([w[5:] for w in weeks], values, bottom=bottom, label=labels.get(category, category))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=45)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
