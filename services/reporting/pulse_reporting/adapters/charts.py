"""Charts of the briefing (trend, topics, units) rendered as PNG with matplotlib's Agg backend.

Figures are built with the object API (`matplotlib.figure.Figure`), never pyplot, so rendering keeps
no global state and may run in a worker thread. DejaVu Sans ships with matplotlib and has every
Vietnamese glyph; labels are cleaned of control characters like every other exported text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pulse_reporting.adapters.safe import clean_text
from pulse_reporting.domain import vn

FONT = "DejaVu Sans"
BLUE = "#1f4e79"
RED = "#b22222"
DPI = 150
WIDTH_IN = 6.3
LABEL_MAX = 38


def _label(text: str) -> str:
    text = clean_text(text)
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _figure(height: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    fig.set_facecolor("white")
    return fig


_THOUSANDS = FuncFormatter(lambda value, _pos: vn.number(int(value)) if float(value).is_integer() else "")


def trend_chart(labels: Sequence[str], values: Sequence[int], *, title: str) -> bytes:
    """Reports per day (or month) of the period as columns."""
    fig = _figure(2.8)
    ax = fig.add_subplot()
    positions = list(range(len(values)))
    ax.bar(positions, list(values), color=BLUE, width=0.8)
    step = max(1, len(labels) // 10)
    ax.set_xticks(positions[::step], [_label(x) for x in labels][::step], fontsize=7, fontfamily=FONT)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(_label(title) if len(title) <= LABEL_MAX else clean_text(title), fontsize=9, fontfamily=FONT)
    ax.set_ylabel("Số phản ánh", fontsize=8, fontfamily=FONT)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def ranking_chart(
    labels: Sequence[str], values: Sequence[int], *, title: str, previous: Sequence[int] | None = None
) -> bytes:
    """Horizontal bars, largest on top; with `previous`, the previous period's bars beside them."""
    height = max(1.8, 0.32 * len(values) + 0.9)
    fig = _figure(height)
    ax = fig.add_subplot()
    names = [_label(x) for x in labels][::-1]
    current = list(values)[::-1]
    positions = list(range(len(current)))
    if previous is not None:
        ax.barh([p + 0.2 for p in positions], current, height=0.4, color=BLUE, label="Kỳ này")
        ax.barh([p - 0.2 for p in positions], list(previous)[::-1], height=0.4, color="#9dc3e6", label="Kỳ trước")
        ax.legend(fontsize=7, prop={"family": FONT, "size": 7}, loc="lower right")
    else:
        ax.barh(positions, current, height=0.6, color=BLUE)
    ax.set_yticks(positions, names, fontsize=7, fontfamily=FONT)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(clean_text(title), fontsize=9, fontfamily=FONT)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def sentiment_chart(labels: Sequence[str], values: Sequence[int], *, title: str) -> bytes:
    """Shares of sentiment as a pie with percentages in Vietnamese format."""
    fig = _figure(2.6)
    ax = fig.add_subplot()
    palette = {"Tích cực": "#2e7d32", "Trung lập": "#9e9e9e", "Tiêu cực": RED, "Đan xen": "#f9a825"}
    colors = [palette.get(label, "#5b9bd5") for label in labels]
    total = sum(values) or 1
    ax.pie(
        list(values),
        labels=[_label(x) for x in labels],
        colors=colors,
        autopct=lambda p: vn.percent(p) if p * total / 100 >= 0.5 else "",
        textprops={"fontsize": 7, "fontfamily": FONT},
        startangle=90,
        counterclock=False,
    )
    ax.set_title(clean_text(title), fontsize=9, fontfamily=FONT)
    ax.axis("equal")
    return _png(fig)
