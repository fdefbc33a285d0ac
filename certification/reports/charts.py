"""Charts drawn as SVG on the server: no script, no CDN, nothing a strict CSP would block.

Pure functions: labels and numbers in, markup out. Every label is escaped (award titles
and country names are typed by people). Colours are presentation attributes (``fill``),
which a Content-Security-Policy does not treat as inline styles, plus a class per series
that ``static/css/reports.css`` may restyle. Each chart is ``role="img"`` with a title and
a description; the page shows the same figures in a table for screen readers.

Nothing is cut short: a long label or legend entry wraps onto more lines and the chart
grows to hold them. Count axes are ticked at whole numbers only. Each chart is drawn at a
modest width (its ``viewBox``) that the stylesheet lets shrink to a phone's width but not
grow beyond, so that its text stays about the size of the page's.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from markupsafe import Markup

PALETTE = ("#1f4e79", "#0f766e", "#b45309", "#7c3aed", "#be123c", "#4d7c0f", "#0369a1")
WIDTH = 560
FONT = 13
LINE = 16  # the height of one line of text
# DejaVu Sans averages a little under 0.6 em per character; wrapping assumes the wider
# 0.62 em, so that a line measured to fit does fit.
CHAR = FONT * 0.62


def esc(text: object) -> str:
    """Text made safe for SVG content and attribute values (quotes included)."""
    return html.escape(str(text), quote=True)


def wrap(text: str, width: float) -> list[str]:
    """``text`` in lines of at most ``width`` pixels, broken at spaces (a word longer than
    a line gets a line of its own, whole). Every character of ``text`` is kept."""
    limit = max(int(width / CHAR), 1)
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and len(candidate) > limit:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def _open(chart_id: str, title: str, description: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{esc(chart_id)}"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-label="{esc(title)}"'
        f' aria-describedby="{esc(chart_id)}-desc"'
        f' font-family="DejaVu Sans, Arial, sans-serif" font-size="{FONT}">',
        f'<title id="{esc(chart_id)}-title">{esc(title)}</title>',
        f'<desc id="{esc(chart_id)}-desc">{esc(description)}</desc>',
        f'<rect class="chart-bg" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _close(parts: list[str]) -> Markup:
    parts.append("</svg>")
    return Markup("\n".join(parts))  # noqa: S704 - all text went through esc()  # nosec B704


def _rect(x: float, y: float, w: float, h: float, colour: int, tip: str) -> str:
    return (
        f'<rect class="series-{colour % len(PALETTE)}" x="{x:.1f}" y="{y:.1f}"'
        f' width="{max(w, 0):.1f}" height="{max(h, 0):.1f}"'
        f' fill="{PALETTE[colour % len(PALETTE)]}"><title>{esc(tip)}</title></rect>'
    )


def _text(
    x: float, y: float, text: str | Sequence[str], anchor: str = "start", css: str = "label"
) -> str:
    """One text element; several lines (a sequence) stack downwards from ``y``."""
    lines = [text] if isinstance(text, str) else list(text)
    content = (
        esc(lines[0])
        if len(lines) == 1
        else "".join(
            f'<tspan x="{x:.1f}" dy="{0 if i == 0 else LINE}">{esc(line)}</tspan>'
            for i, line in enumerate(lines)
        )
    )
    return (
        f'<text class="chart-{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"'
        f' fill="#1b2430">{content}</text>'
    )


def count_ticks(value: int, most: int = 5) -> list[int]:
    """Whole-number ticks from 0 to a round top at or above ``value``: a step of 1, 2 or 5
    times a power of ten, at most ``most`` steps. Counts have no halves."""
    value = max(value, 1)
    step = 1
    while True:
        for factor in (1, 2, 5):
            if -(-value // (step * factor)) <= most:
                size = step * factor
                return list(range(0, size * -(-value // size) + 1, size))
        step *= 10


def _legend(
    names: Sequence[str], width: int
) -> tuple[list[tuple[float, float, int, list[str]]], int]:
    """Where each legend entry goes: (x, y of its first line, colour, its lines), entries
    side by side while they fit, long names wrapped; and the height they take."""
    placed: list[tuple[float, float, int, list[str]]] = []
    x, y, row_lines, margin = 10.0, 0.0, 1, 10
    for index, name in enumerate(names):
        lines = wrap(name, width - 2 * margin - 16)
        used = 16 + CHAR * max(len(line) for line in lines)
        if x > margin and x + used > width - margin:
            x, y, row_lines = float(margin), y + row_lines * LINE + 6, 1
        placed.append((x, y, index, lines))
        row_lines = max(row_lines, len(lines))
        x += used + 18
    return placed, int(y + row_lines * LINE) if names else 0


def _draw_legend(placed: list[tuple[float, float, int, list[str]]], top: float) -> list[str]:
    parts = []
    for x, y, colour, lines in placed:
        name = " ".join(lines)
        parts.append(_rect(x, top + y + 2, 12, 12, colour, name))
        parts.append(_text(x + 16, top + y + 12, lines, "start", "legend"))
    return parts


def column_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    width: int = WIDTH,
    plot_height: int = 200,
    names: Sequence[str] = (),
) -> Markup:
    """Vertical bars per category, the series stacked in each (one series: plain bars).
    A category's label may hold a line break ("Jan\\n2026") or be empty (too narrow to
    name them all); ``names``, if given, name the categories in the bars' tooltips."""
    top, left, right = 22, 40, 10
    plot_w = width - left - right
    slot = plot_w / max(len(categories), 1)
    labels = [wrap(category, slot - 2) for category in categories]
    label_h = LINE * max((len(lines) for lines in labels), default=1) + 6
    placed, legend_h = _legend([name for name, _ in series], width) if len(series) > 1 else ([], 0)
    height = top + plot_height + label_h + (legend_h + 12 if placed else 4)
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    ticks = count_ticks(max(totals, default=0))
    peak = ticks[-1]
    parts = _open(chart_id, title, description, width, height)
    parts.extend(_count_axis(ticks, top, plot_height, left, width - right))
    bar_w = slot * 0.7
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        y: float = top + plot_height
        for s, (name, values) in enumerate(series):
            h = plot_height * values[i] / peak
            if values[i]:
                named = names[i] if i < len(names) else category.replace("\n", " ")
                tip = f"{named}, {name}: {values[i]}"
                parts.append(_rect(x, y - h, bar_w, h, s, tip))
            y -= h
        if totals[i]:
            parts.append(_text(x + bar_w / 2, y - 4, str(totals[i]), "middle", "value"))
        parts.append(_text(x + bar_w / 2, top + plot_height + 16, labels[i], "middle", "axis"))
    parts.append(
        f'<line class="chart-axis" x1="{left}" x2="{width - right}" y1="{top + plot_height}"'
        f' y2="{top + plot_height}" stroke="#5b6675" stroke-width="1"/>'
    )
    parts += _draw_legend(placed, top + plot_height + label_h + 4)
    return _close(parts)


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, Sequence[int]]],
    segments: Sequence[str] = (),
    *,
    width: int = WIDTH,
) -> Markup:
    """Horizontal bars, one per row, each under its label (in full, wrapped if long); with
    ``segments`` named, each bar is stacked from them (a row's values in their order)."""
    bar_h, gap, top, left, right = 20, 12, 8, 10, 56
    plot_w = width - left - right
    labels = [wrap(label, width - left - right) for label, _ in rows]
    placed, legend_h = _legend(segments, width) if len(segments) > 1 else ([], 0)
    legend_top = top
    top += legend_h + 10 if placed else 0
    height = top + sum(len(lines) * LINE + bar_h + gap for lines in labels) + 4
    peak = count_ticks(max((sum(values) for _, values in rows), default=0))[-1]
    parts = _open(chart_id, title, description, width, height)
    parts += _draw_legend(placed, legend_top)
    y = float(top)
    for (label, values), lines in zip(rows, labels, strict=True):
        parts.append(_text(left, y + LINE - 4, lines))
        y += len(lines) * LINE
        x = float(left)
        for s, value in enumerate(values):
            w = plot_w * value / peak
            if value:
                name = segments[s] if s < len(segments) else label
                parts.append(_rect(x, y, w, bar_h, s, f"{label}, {name}: {value}"))
            x += w
        parts.append(_text(x + 6, y + bar_h / 2 + 5, str(sum(values)), "start", "value"))
        y += bar_h + gap
    return _close(parts)


def histogram(
    chart_id: str,
    title: str,
    description: str,
    edges: Sequence[str],
    counts: Sequence[int],
    *,
    width: int = 420,
    plot_height: int = 150,
) -> Markup:
    """A histogram: one column per bin, touching; the bins' edges (one more than the
    bins) beneath, where one bin ends and the next begins."""
    top, left, right = 22, 40, 18
    plot_w = width - left - right
    slot = plot_w / max(len(counts), 1)
    height = top + plot_height + LINE + 10
    ticks = count_ticks(max(counts, default=0), most=4)
    peak = ticks[-1]
    parts = _open(chart_id, title, description, width, height)
    parts.extend(_count_axis(ticks, top, plot_height, left, width - right))
    for i, count in enumerate(counts):
        x = left + slot * i
        h = plot_height * count / peak
        if count:
            tip = f"{edges[i]}–{edges[i + 1]}: {count}" if i + 1 < len(edges) else str(count)
            parts.append(_rect(x + 1, top + plot_height - h, slot - 2, h, 0, tip))
            parts.append(
                _text(x + slot / 2, top + plot_height - h - 4, str(count), "middle", "value")
            )
    # Every other edge when the labels would touch.
    every = 1 if max((len(e) for e in edges), default=1) * CHAR < slot - 4 else 2
    for i, edge in enumerate(edges):
        if i % every == 0 or i == len(edges) - 1:
            x = left + slot * i
            parts.append(_text(x, top + plot_height + LINE, edge, "middle", "axis"))
    parts.append(
        f'<line class="chart-axis" x1="{left}" x2="{width - right}" y1="{top + plot_height}"'
        f' y2="{top + plot_height}" stroke="#5b6675" stroke-width="1"/>'
    )
    return _close(parts)


def _count_axis(
    ticks: list[int], top: float, plot_height: float, left: float, end: float
) -> list[str]:
    """A gridline and its whole-number label for each tick, the last tick at the top."""
    parts: list[str] = []
    for tick in ticks:
        y = top + plot_height - plot_height * tick / ticks[-1]
        parts.append(
            f'<line class="chart-gridline" x1="{left}" x2="{end}" y1="{y:.1f}"'
            f' y2="{y:.1f}" stroke="#d9dee5" stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 4, str(tick), "end", "axis"))
    return parts
