"""The map of high-risk areas, as a PNG: places as marks sized by their incidents (90 days) and coloured by
level, labelled, with a scale bar in km. No map tiles: the server may have no internet, and a tile server
would learn which places the organisation looks at. Drawn on a bare Figure, like bot/chart.py.

The plane is equirectangular around the places' middle latitude: over a city or a region (what an outreach
programme covers) distances are true to a few per cent, which is what a scale bar on a phone needs."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = {"low": "#2e7d32", "medium": "#f9a825", "high": "#c62828"}
KM_PER_DEGREE = 111.32
MAX_LABELS = 30  # the highest places are named; a thousand names would be unreadable on a phone
LABEL_SIZE = 12
TITLE_SIZE = 15


@dataclass(frozen=True)
class Mark:
    name: str
    lat: float
    lon: float
    incidents: int  # in the last 90 days
    level: str  # the higher of the computed and the admin-set level


@dataclass(frozen=True)
class MapTexts:
    title: str
    levels: dict[str, str]  # "low" -> the reader's word
    km: str = "{n} km"


def size(incidents: int) -> float:
    """A mark's area in points²: grows with the square root, so a busy place does not cover the map."""
    return 60.0 + 45.0 * math.sqrt(max(incidents, 0))


def _plane(marks: list[Mark]) -> tuple[list[float], list[float]]:
    """Kilometres east and north of the places' middle."""
    mid_lat = (min(m.lat for m in marks) + max(m.lat for m in marks)) / 2
    mid_lon = (min(m.lon for m in marks) + max(m.lon for m in marks)) / 2
    shrink = math.cos(math.radians(mid_lat))
    xs = [(m.lon - mid_lon) * KM_PER_DEGREE * shrink for m in marks]
    ys = [(m.lat - mid_lat) * KM_PER_DEGREE for m in marks]
    return xs, ys


def scale_length(span_km: float) -> float:
    """A round length (1, 2 or 5 times a power of ten) of about a quarter of the map's width."""
    target = max(span_km / 4, 0.05)
    power = 10 ** math.floor(math.log10(target))
    return max((m * power for m in (1, 2, 5) if m * power <= target), default=power)


def map_figure(marks: list[Mark], texts: MapTexts) -> Figure:
    """One scatter of every mark (its offsets, sizes and colours say what is drawn), the highest labelled."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(8, 8.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs, ys = _plane(marks) if marks else ([], [])
    order = sorted(range(len(marks)), key=lambda i: marks[i].incidents)  # the busiest drawn last, on top
    ax.scatter(
        [xs[i] for i in order],
        [ys[i] for i in order],
        s=[size(marks[i].incidents) for i in order],
        c=[COLOURS[marks[i].level] for i in order],
        edgecolors="black",
        linewidths=0.6,
        alpha=0.85,
    )
    rank = sorted(range(len(marks)), key=lambda i: (-list(COLOURS).index(marks[i].level), -marks[i].incidents))
    middle = (min(xs) + max(xs)) / 2 if marks else 0.0
    for i in rank[:MAX_LABELS]:
        right = xs[i] <= middle  # a label reads into the map, never off its edge
        ax.annotate(
            marks[i].name,
            (xs[i], ys[i]),
            xytext=(7 if right else -7, 7),
            textcoords="offset points",
            ha="left" if right else "right",
            fontsize=LABEL_SIZE,
        )
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(texts.title, fontsize=TITLE_SIZE)
    span = (max(xs) - min(xs)) if marks else 1.0
    pad = max(span, (max(ys) - min(ys)) if marks else 1.0, 1.0) * 0.15
    if marks:
        ax.set_xlim(min(xs) - pad, max(xs) + pad)
        ax.set_ylim(min(ys) - pad, max(ys) + pad)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = scale_length(x1 - x0)
    left, base = x0 + (x1 - x0) * 0.05, y0 + (y1 - y0) * 0.05
    ax.plot([left, left + bar], [base, base], color="black", linewidth=4, solid_capstyle="butt")
    ax.text(left + bar / 2, base + (y1 - y0) * 0.015, texts.km.format(n=f"{bar:g}"), ha="center", fontsize=LABEL_SIZE)
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=11, markerfacecolor=colour, markeredgecolor="black")
        for colour in COLOURS.values()
    ]
    fig.legend(handles, [texts.levels[k] for k in COLOURS], loc="lower center", ncols=3, fontsize=13, frameon=False)
    fig.subplots_adjust(left=0.03, right=0.97, top=0.93, bottom=0.08)
    return fig


def map_png(marks: list[Mark], texts: MapTexts) -> bytes:
    """The map as PNG bytes."""
    buffer = io.BytesIO()
    map_figure(marks, texts).savefig(buffer, format="png")
    return buffer.getvalue()
