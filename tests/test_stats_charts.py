"""The month chart (board/stats/charts.py): whole-number ticks, labelled axes, escaped text."""

from __future__ import annotations

import re

import pytest

from board.stats.charts import axis_ticks, month_chart
from board.stats.services import MonthPoint


@pytest.mark.parametrize("top", [0, 1, 3, 4, 5, 7, 9, 10, 11, 23, 99, 150, 1234, 98765])
def test_axis_ticks_are_whole_numbers_from_zero_past_the_top_and_few(top):
    """Ticks are integers on one step, start at 0, reach the largest bar, and number 2–5."""
    ticks = axis_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top and 2 <= len(ticks) <= 5
    steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1 and all(isinstance(t, int) for t in ticks)
    assert ticks[-2] < max(top, 1)  # no empty tick band above the tallest bar


def test_month_chart_labels_both_axes_and_shows_only_integer_ticks():
    """A year of small counts: the y axis reads 0, 1, 2… (never 1.25), both axes are named."""
    points = [MonthPoint(f"2026-{m:02d}", m % 5, m % 3) for m in range(1, 13)]
    svg = str(
        month_chart(
            points,
            messages_label="Messages",
            replies_label="Replies",
            count_label="Count <b>",
            month_label="Month",
        )
    )
    y_ticks = re.findall(r'text-anchor="end">([^<]*)</text>', svg)
    assert y_ticks == ["0", "1", "2", "3", "4"]
    assert ">Month</text>" in svg and "Count &lt;b&gt;" in svg and "<b>" not in svg
    assert 'viewBox="0 0 360 250"' in svg  # drawn at phone width: 12 px text stays readable
