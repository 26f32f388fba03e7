"""Charts drawn on the server as SVG: no script and no library in the page.

Each chart is a ``<figure>``-ready ``<svg role="img">`` with a title and a
description, and every bar carries its value as text, so the numbers read the
same to a screen reader and with styles off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

ROW = 28
LABEL_WIDTH = 240
BAR_WIDTH = 360
VALUE_WIDTH = 90


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    description: str,
    maximum: float | None = None,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> Markup:
    """Horizontal bars, one row per (label, value)."""
    top = maximum if maximum is not None else max((v for _, v in rows), default=0.0)
    height = ROW * max(1, len(rows)) + 8
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{_id(title)}-t {_id(title)}-d" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
        f'<desc id="{_id(title)}-d">{escape(description)}</desc>',
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * ROW
        length = 0.0 if top <= 0 else max(0.0, min(1.0, value / top)) * BAR_WIDTH
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end" class="chart-label">'
            f"{escape(short)}<title>{escape(label)}</title></text>"
        )
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length:.1f}" height="{ROW - 10}" '
            'class="chart-bar"/>'
        )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 18}" class="chart-value">'
            f"{escape(fmt(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _id(title: str) -> str:
    return "chart-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())[:40]


SERIES_CLASSES = 5
COLUMN_HEIGHT = 180


def stacked_columns(
    columns: Sequence[tuple[str, dict[str, float]]],
    series: Sequence[str],
    *,
    title: str,
    description: str,
) -> Markup:
    """Vertical columns, one per (label, {series: value}), each stacked by ``series`` in order
    (``chart-series-0`` ... classes, a legend below), with each column's total above it."""
    top = max((sum(values.values()) for _, values in columns), default=0.0)
    slot = 56
    left, bottom = 8, 44
    width = left * 2 + slot * max(1, len(columns))
    height = COLUMN_HEIGHT + bottom + 24
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{_id(title)}-t {_id(title)}-d" '
        f'viewBox="0 0 {max(width, 420)} {height}" width="{max(width, 420)}" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
        f'<desc id="{_id(title)}-d">{escape(description)}</desc>',
    ]
    for c, (label, values) in enumerate(columns):
        x = left + c * slot + 8
        y = 20.0 + COLUMN_HEIGHT
        total = sum(values.values())
        for s, name in enumerate(series):
            value = values.get(name, 0.0)
            if value <= 0 or top <= 0:
                continue
            h = value / top * COLUMN_HEIGHT
            y -= h
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{slot - 16}" height="{h:.1f}" '
                f'class="chart-series-{s % SERIES_CLASSES}"><title>{escape(label)}: '
                f"{escape(name)} {value:,.0f}</title></rect>"
            )
        if total > 0:
            parts.append(
                f'<text x="{x + (slot - 16) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                f'class="chart-value">{total:,.0f}</text>'
            )
        parts.append(
            f'<text x="{x + (slot - 16) / 2:.1f}" y="{20 + COLUMN_HEIGHT + 16}" text-anchor="middle" '
            f'class="chart-label">{escape(label)}</text>'
        )
    legend_y = 20 + COLUMN_HEIGHT + 36
    for s, name in enumerate(series):
        x = left + s * 80
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" '
            f'class="chart-series-{s % SERIES_CLASSES}"/>'
        )
        parts.append(f'<text x="{x + 16}" y="{legend_y}" class="chart-label">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
