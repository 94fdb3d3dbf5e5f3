"""Charts drawn on the server as inline SVG: no script, no CDN, readable at any width.

Each function takes plain numbers and returns safe SVG markup that scales to its container
(``viewBox`` with ``width="100%"``). Every data point is a ``<circle>`` or ``<rect>`` carrying
``data-value`` and a ``<title>``, so a browser shows it on hover and a test can count it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 14, 46

# Colour-blind-safe palette (Okabe–Ito), in the order series are drawn.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str = ""


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1.0
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _frame(title: str, body: list[str], *, kind: str, legend: Sequence[Series] = ()) -> SafeString:
    parts = [f'<svg class="chart" data-chart="{escape(kind)}" role="img" aria-label="{escape(title)}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    parts += body
    x = LEFT
    for series in legend:
        parts.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{series.color}"/>'
                     f'<text x="{x + 14}" y="{HEIGHT - 5}" class="chart-legend">{escape(series.name)}</text>')
        x += 24 + 7 * len(series.name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above went through escape()


def _axes(y_max: float, x_labels: Sequence[str], *, percent: bool = False) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = []
    for step in range(5):
        value = y_max * step / 4
        y = TOP + plot_h - plot_h * step / 4
        label = f"{value * 100:.0f}%" if percent else _fmt(value)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="chart-tick">{label}</text>')
    n = len(x_labels)
    every = max(1, n // 8)
    for index, label in enumerate(x_labels):
        if index % every and index != n - 1:
            continue
        x = LEFT + (plot_w * (index + 0.5) / n if n else 0)
        out.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" class="chart-tick">'
                   f'{escape(label)}</text>')
    return out


def _colored(series: Sequence[Series]) -> list[Series]:
    return [Series(s.name, s.values, s.color or PALETTE[i % len(PALETTE)]) for i, s in enumerate(series)]


def line_chart(title: str, x_labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """One line per series over the x labels (``None`` values leave a gap)."""
    series = _colored(series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    y_max = _nice_max(max((v for s in series for v in s.values if v is not None), default=0))
    body = _axes(y_max, x_labels)
    n = len(x_labels)
    for s in series:
        points = []
        for index, value in enumerate(s.values):
            if value is None:
                continue
            x = LEFT + plot_w * (index + 0.5) / n
            y = TOP + plot_h - plot_h * value / y_max
            points.append((x, y, value, x_labels[index]))
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2"/>')
        for x, y, value, label in points:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{s.color}" class="chart-point" '
                        f'data-value="{value:g}"><title>{escape(s.name)} · {escape(label)}: {value:g}</title></circle>')
    return _frame(title, body, kind="line", legend=series)


def bar_chart(title: str, x_labels: Sequence[str], series: Sequence[Series], *, percent: bool = False,
              y_max: float | None = None) -> SafeString:
    """Stacked bars: one bar per x label, one segment per series."""
    series = _colored(series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(x_labels)
    totals = [sum((s.values[i] or 0) for s in series) for i in range(n)]
    y_max = y_max or _nice_max(max(totals, default=0))
    body = _axes(y_max, x_labels, percent=percent)
    slot = plot_w / n if n else plot_w
    width = max(2.0, slot * 0.7)
    for index in range(n):
        base = 0.0
        for s in series:
            value = s.values[index] or 0
            if value <= 0:
                continue
            height = plot_h * value / y_max
            x = LEFT + slot * index + (slot - width) / 2
            y = TOP + plot_h - plot_h * base / y_max - height
            shown = f"{value * 100:.1f}%" if percent else f"{value:g}"
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{s.color}" '
                        f'class="chart-bar" data-value="{value:g}"><title>{escape(s.name)} · '
                        f'{escape(x_labels[index])}: {shown}</title></rect>')
            base += value
    return _frame(title, body, kind="bar", legend=series if len(series) > 1 else ())


def reliability_chart(title: str, bins: Sequence[dict], n_bins: int) -> SafeString:
    """Accuracy per confidence bin as bars, against the diagonal of perfect calibration."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    labels = [f"{b / n_bins:.2f}" for b in range(n_bins)]
    body = _axes(1.0, labels, percent=True)
    body.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP}" class="chart-diagonal"/>')
    slot = plot_w / n_bins
    for row in bins:
        height = plot_h * row["accuracy"]
        x = LEFT + slot * row["bin"] + slot * 0.1
        body.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{slot * 0.8:.1f}" '
                    f'height="{height:.1f}" fill="{PALETTE[0]}" class="chart-bar" data-value="{row["accuracy"]:g}">'
                    f'<title>confidence {row["lower"]:.2f}–{row["upper"]:.2f}: {row["correct"]} of {row["items"]} '
                    f'right ({row["accuracy"] * 100:.1f}%), mean confidence {row["confidence"] * 100:.1f}%</title></rect>')
        cy = TOP + plot_h - plot_h * row["confidence"]
        body.append(f'<circle cx="{x + slot * 0.4:.1f}" cy="{cy:.1f}" r="3" fill="{PALETTE[1]}" class="chart-point" '
                    f'data-value="{row["confidence"]:g}"><title>mean confidence {row["confidence"] * 100:.1f}%'
                    f'</title></circle>')
    return _frame(title, body, kind="reliability",
                  legend=[Series("accuracy", [], PALETTE[0]), Series("mean confidence", [], PALETTE[1])])
