"""Month-by-month bar charts drawn as inline SVG on the server: no JavaScript, no CDN.

The SVG is decorative for assistive technology (`aria-hidden`); the page puts the same numbers
in a table next to it. All text is escaped; the markup is built from numbers and labels only.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from .services import MonthPoint

# A phone-sized canvas: drawn at 360 units wide, text stays 12 px or more wherever the chart is
# shown (a 390 px phone, the desktop sidebar); a wider screen scales it up, never down much.
WIDTH, HEIGHT = 360, 250
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 24, 58
FONT = 12


def axis_ticks(value: int, most: int = 5) -> list[int]:
    """Whole-number ticks from 0 to at least `value`, at most `most` of them, on a 1/2/5 step."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            size = step * factor
            count = -(-max(value, 1) // size)  # ceiling division
            if count + 1 <= most:
                return [size * i for i in range(count + 1)]
        step *= 10


def month_chart(
    points: list[MonthPoint],
    *,
    messages_label: str,
    replies_label: str,
    count_label: str,
    month_label: str,
) -> Markup:
    """Paired bars per month (cases published, replies given) with labelled whole-number axes."""
    if not points:
        return Markup("")
    ticks = axis_ticks(max(max(p.messages, p.replies) for p in points))
    top = ticks[-1]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    slot = plot_w / len(points)
    bar = max(slot * 0.36, 1.0)
    parts = [
        f'<svg class="month-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">',
        f'<text class="axis-title" x="4" y="{FONT + 2}">{escape(count_label)}</text>',
    ]
    for value in ticks:
        y = base - plot_h * value / top
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 4}" y="{y + FONT / 3:.1f}" text-anchor="end">'
            f"{value}</text>"
        )
    # A month label is about 4 characters wide: label every month that has room.
    every = max(1, -(-len(points) * FONT * 3 // plot_w))
    for i, point in enumerate(points):
        x = LEFT + slot * i + (slot - 2 * bar) / 2
        for offset, value, css in (
            (0, point.messages, "bar-messages"),
            (bar, point.replies, "bar-replies"),
        ):
            h = plot_h * value / top
            parts.append(
                f'<rect class="{css}" x="{x + offset:.1f}" y="{base - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>{escape(point.month)}: {value}</title></rect>'
            )
        if i % every == 0:
            parts.append(
                f'<text class="axis" x="{x + bar:.1f}" y="{base + FONT + 4}" '
                f'text-anchor="middle">{escape(point.month[2:])}</text>'
            )
    parts.append(
        f'<text class="axis-title" x="{LEFT + plot_w / 2:.1f}" y="{base + 2 * FONT + 8}" '
        f'text-anchor="middle">{escape(month_label)}</text>'
    )
    legend_y = HEIGHT - 4
    parts.append(
        f'<rect class="bar-messages" x="{LEFT}" y="{legend_y - FONT + 1}" width="{FONT}" '
        f'height="{FONT}"/>'
        f'<text class="axis" x="{LEFT + FONT + 4}" y="{legend_y}">{escape(messages_label)}</text>'
        f'<rect class="bar-replies" x="{LEFT + 140}" y="{legend_y - FONT + 1}" width="{FONT}" '
        f'height="{FONT}"/>'
        f'<text class="axis" x="{LEFT + 140 + FONT + 4}" y="{legend_y}">{escape(replies_label)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (numbers and escaped labels only)
