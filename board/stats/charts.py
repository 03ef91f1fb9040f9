"""Month-by-month bar charts drawn as inline SVG on the server: no JavaScript, no CDN.

The SVG is decorative for assistive technology (`aria-hidden`); the page puts the same numbers
in a table next to it. All text is escaped; the markup is built from numbers and labels only.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from .services import MonthPoint

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 36


def _nice_ceiling(value: int) -> int:
    """A round axis maximum at or above `value` (1, 2, 5 × 10^k)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def month_chart(points: list[MonthPoint], *, messages_label: str, replies_label: str) -> Markup:
    """Paired bars per month (cases published, replies given) with a y axis and month labels."""
    if not points:
        return Markup("")
    top = _nice_ceiling(max(max(p.messages, p.replies) for p in points))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / len(points)
    bar = max(slot * 0.36, 1.0)
    parts = [
        f'<svg class="month-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in range(5):
        value = top * tick / 4
        y = TOP + plot_h - plot_h * tick / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{value:g}</text>"
        )
    every = max(1, len(points) // 12)
    for i, point in enumerate(points):
        x = LEFT + slot * i + (slot - 2 * bar) / 2
        for offset, value, css in (
            (0, point.messages, "bar-messages"),
            (bar, point.replies, "bar-replies"),
        ):
            h = plot_h * value / top
            parts.append(
                f'<rect class="{css}" x="{x + offset:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>{escape(point.month)}: {value}</title></rect>'
            )
        if i % every == 0:
            parts.append(
                f'<text class="axis" x="{x + bar:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                f'text-anchor="middle">{escape(point.month[2:])}</text>'
            )
    legend_y = HEIGHT - 6
    parts.append(
        f'<rect class="bar-messages" x="{LEFT}" y="{legend_y - 9}" width="10" height="10"/>'
        f'<text class="axis" x="{LEFT + 14}" y="{legend_y}">{escape(messages_label)}</text>'
        f'<rect class="bar-replies" x="{LEFT + 110}" y="{legend_y - 9}" width="10" height="10"/>'
        f'<text class="axis" x="{LEFT + 124}" y="{legend_y}">{escape(replies_label)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (numbers and escaped labels only)
