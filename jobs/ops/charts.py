"""Small charts drawn on the server as inline SVG: no JavaScript, no library.

A chart is an image to assistive technology (role="img" with its <title> and <desc>);
the page that shows one also gives its numbers as a table.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 12, 28
BAR_GAP = 0.2  # of each bar's slot


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above `value`, for the axis top."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def hourly_bar_chart(
    buckets: list[tuple[datetime, int]], *, title: str, chart_id: str = "hourly"
) -> SafeString:
    """A bar per hour, labelled every third hour, with the count of each bar as its tooltip."""
    total = sum(count for _, count in buckets)
    peak_start, peak = max(buckets, key=lambda bucket: bucket[1]) if buckets else (None, 0)
    top = nice_ceiling(max(peak, 1))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(buckets), 1)
    description = (
        f"{total} jobs in all, from {buckets[0][0]:%H:00} to {buckets[-1][0]:%H:00} "
        f"(the current hour, so far); the busiest hour, {peak_start:%H:00}, had {peak}."
        if buckets and total
        else "No jobs were created in this time."
    )

    bars = []
    for index, (start, count) in enumerate(buckets):
        height = plot_height * count / top
        x = LEFT + index * slot + slot * BAR_GAP / 2
        y = TOP + plot_height - height
        bars.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#2456c8">'
                "<title>{}–{}: {} job{}</title></rect>",
                f"{x:.1f}",
                f"{y:.1f}",
                f"{slot * (1 - BAR_GAP):.1f}",
                f"{height:.1f}",
                f"{start:%H:00}",
                f"{start + timedelta(hours=1):%H:00}",
                count,
                "" if count == 1 else "s",
            )
        )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (f"{LEFT + (index + 0.5) * slot:.1f}", HEIGHT - 8, f"{start:%H:00}")
            for index, (start, _) in enumerate(buckets)
            if index % 3 == 0
        ),
    )
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d9dee4"/>'
        '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
        (
            (LEFT, WIDTH - RIGHT, f"{y:.1f}", f"{y:.1f}", LEFT - 6, f"{y:.1f}", value)
            for value in sorted({0, top // 2, top})
            for y in [TOP + plot_height - plot_height * value / top]
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-labelledby="{}-title {}-desc" font-size="11" fill="#5d6773">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        "{}{}{}</svg>",
        WIDTH,
        HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        grid,
        mark_safe("".join(bars)),
        labels,
    )
