"""Charts drawn as SVG on the server: no script, no CDN, nothing a strict CSP would block.

Pure functions: labels and numbers in, markup out. Every label is escaped (award titles
and country names are typed by people). Colours are presentation attributes (``fill``),
which a Content-Security-Policy does not treat as inline styles, plus a class per series
that ``static/css/reports.css`` may restyle. Each chart is ``role="img"`` with a title and
a description; the page shows the same figures in a table for screen readers.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from markupsafe import Markup

PALETTE = ("#1f4e79", "#0f766e", "#b45309", "#7c3aed", "#be123c", "#4d7c0f", "#0369a1")
WIDTH = 640
FONT = 12


def esc(text: object) -> str:
    """Text made safe for SVG content and attribute values (quotes included)."""
    return html.escape(str(text), quote=True)


def _open(chart_id: str, title: str, description: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{esc(chart_id)}"'
        f' viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img"'
        f' aria-label="{esc(title)}"'
        f' aria-describedby="{esc(chart_id)}-desc"'
        f' font-family="DejaVu Sans, Arial, sans-serif" font-size="{FONT}">',
        f'<title id="{esc(chart_id)}-title">{esc(title)}</title>',
        f'<desc id="{esc(chart_id)}-desc">{esc(description)}</desc>',
        f'<rect class="chart-bg" x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]


def _rect(x: float, y: float, w: float, h: float, colour: int, tip: str) -> str:
    return (
        f'<rect class="series-{colour % len(PALETTE)}" x="{x:.1f}" y="{y:.1f}"'
        f' width="{max(w, 0):.1f}" height="{max(h, 0):.1f}"'
        f' fill="{PALETTE[colour % len(PALETTE)]}"><title>{esc(tip)}</title></rect>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start", css: str = "label") -> str:
    return (
        f'<text class="chart-{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"'
        f' fill="#1b2430">{esc(text)}</text>'
    )


def _nice_max(value: int) -> int:
    """A round top for the value axis: 1, 2, 5, 10, 20, 50, …"""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _clip(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _legend(names: Sequence[str], y: float) -> list[str]:
    parts, x = [], 10.0
    for index, name in enumerate(names):
        shown = _clip(name, 40)
        parts.append(_rect(x, y - 10, 12, 12, index, name))
        parts.append(_text(x + 16, y, shown))
        x += 16 + 7.2 * len(shown) + 18
    return parts


def column_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    height: int = 300,
) -> Markup:
    """Vertical bars per category, the series stacked in each (one series: plain bars)."""
    legend = len(series) > 1
    top, bottom, left, right = 16, 40 + (24 if legend else 0), 44, 12
    plot_h = height - top - bottom
    plot_w = WIDTH - left - right
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    peak = _nice_max(max(totals, default=0))
    parts = _open(chart_id, title, description, height)
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line class="chart-grid" x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}"'
            f' y2="{y:.1f}" stroke="#d9dee5" stroke-width="1"/>'
        )
        label = f"{value:g}" if peak >= 4 or value == int(value) else ""
        parts.append(_text(left - 6, y + 4, label, "end", "axis"))
    slot = plot_w / max(len(categories), 1)
    bar_w = slot * 0.7
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h
        for s, (name, values) in enumerate(series):
            h = plot_h * values[i] / peak
            if values[i]:
                parts.append(_rect(x, y - h, bar_w, h, s, f"{category}, {name}: {values[i]}"))
            y -= h
        if totals[i]:
            parts.append(_text(x + bar_w / 2, y - 4, str(totals[i]), "middle", "value"))
        parts.append(_text(x + bar_w / 2, top + plot_h + 16, category, "middle", "axis"))
    parts.append(
        f'<line class="chart-axis" x1="{left}" x2="{WIDTH - right}" y1="{top + plot_h}"'
        f' y2="{top + plot_h}" stroke="#5b6675" stroke-width="1"/>'
    )
    if legend:
        parts += _legend([name for name, _ in series], height - 10)
    parts.append("</svg>")
    return Markup("\n".join(parts))  # noqa: S704 - all text went through esc()  # nosec B704


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, Sequence[int]]],
    segments: Sequence[str] = (),
) -> Markup:
    """Horizontal bars, one per row; with ``segments`` named, each bar is stacked from them
    (a row's values in the order of ``segments``)."""
    legend = len(segments) > 1
    bar_h, gap, top = 22, 10, 10
    label_w = 190
    left, right = label_w + 10, 50
    plot_w = WIDTH - left - right
    height = top + len(rows) * (bar_h + gap) + (34 if legend else 10)
    peak = _nice_max(max((sum(values) for _, values in rows), default=0))
    parts = _open(chart_id, title, description, height)
    for r, (label, values) in enumerate(rows):
        y = top + r * (bar_h + gap)
        parts.append(_text(label_w, y + bar_h / 2 + 4, _clip(label, 28), "end"))
        x = float(left)
        for s, value in enumerate(values):
            w = plot_w * value / peak
            if value:
                name = segments[s] if s < len(segments) else label
                parts.append(_rect(x, y, w, bar_h, s, f"{label}, {name}: {value}"))
            x += w
        parts.append(_text(x + 6, y + bar_h / 2 + 4, str(sum(values)), "start", "value"))
    if legend:
        parts += _legend(segments, height - 10)
    parts.append("</svg>")
    return Markup("\n".join(parts))  # noqa: S704 - all text went through esc()  # nosec B704


def histogram(
    chart_id: str, title: str, description: str, labels: Sequence[str], counts: Sequence[int]
) -> Markup:
    """A histogram: one column per bin, the bins' ranges beneath."""
    return column_chart(chart_id, title, description, labels, [("Attempts", counts)], height=240)
