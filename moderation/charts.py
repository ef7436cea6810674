"""Bar charts as plain SVG, built with format_html so every label is escaped.

The charts are pictures of tables that the pages also show; the SVG carries a title and
a description, and the page's table is what screen readers and exact readers use.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Colour-blind-safe (Okabe-Ito), readable on the light page background.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")

ROW_HEIGHT = 22
BAR_HEIGHT = 16
LABEL_WIDTH = 150
BAR_WIDTH = 360
VALUE_WIDTH = 70


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    *,
    series: Sequence[str] = (),
    chart_id: str,
    unit: str = "",
) -> SafeString:
    """Return a horizontal bar chart: one bar per row, stacked by series when there are
    several values per row. ``chart_id`` makes the title's id unique in the page."""
    totals = [sum(values) for _, values in rows]
    top = max(totals, default=0) or 1
    legend_height = ROW_HEIGHT if len(series) > 1 else 0
    height = legend_height + ROW_HEIGHT * max(len(rows), 1) + 4
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    items: list[SafeString] = []
    if len(series) > 1:
        step = width // len(series)
        for index, name in enumerate(series):
            legend_x = index * step
            items.append(
                format_html(
                    '<rect x="{}" y="4" width="12" height="12" fill="{}"/>'
                    '<text x="{}" y="15" font-size="12">{}</text>',
                    legend_x,
                    PALETTE[index % len(PALETTE)],
                    legend_x + 16,
                    name,
                )
            )
    for row, (label, values) in enumerate(rows):
        y = legend_height + row * ROW_HEIGHT
        items.append(
            format_html(
                '<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>',
                LABEL_WIDTH - 6,
                y + BAR_HEIGHT - 3,
                label,
            )
        )
        x: float = LABEL_WIDTH
        for index, value in enumerate(values):
            length: float = BAR_WIDTH * value / top
            if length > 0:
                name = series[index] if index < len(series) else label
                items.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                        "<title>{}: {}{}</title></rect>",
                        f"{x:.1f}",
                        y + 2,
                        f"{length:.1f}",
                        BAR_HEIGHT,
                        PALETTE[index % len(PALETTE)],
                        name,
                        _number(value),
                        unit,
                    )
                )
            x += length
        items.append(
            format_html(
                '<text x="{}" y="{}" font-size="12">{}{}</text>',
                f"{x + 4:.1f}",
                y + BAR_HEIGHT - 3,
                _number(totals[row]),
                unit,
            )
        )
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {0} {1}" width="{0}" height="{1}" '
        'aria-labelledby="{2}-title" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{2}-title">{3}</title>{4}</svg>',
        width,
        height,
        chart_id,
        title,
        format_html_join("", "{}", ((item,) for item in items)),
    )
