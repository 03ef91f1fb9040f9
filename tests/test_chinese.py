"""Traditional characters read as simplified (board/chinese.py): one character for one, never a
character of ordinary simplified text."""

from __future__ import annotations

import pytest

from board import chinese
from board.search import analysis


def test_traditional_characters_become_simplified_one_for_one():
    """The forms citizens write, converted character by character, the length kept."""
    for traditional, simple in [
        ("噪音擾民", "噪音扰民"),
        ("開發區醫療保險報銷難", "开发区医疗保险报销难"),
        ("頭髮、麵條、裡面、臺灣", "头发、面条、里面、台湾"),
        ("後來於是怎麽辦", "后来于是怎么办"),
        ("法輪功", "法轮功"),
    ]:
        assert chinese.simplified(traditional) == simple
        assert len(chinese.simplified(traditional)) == len(traditional)


def test_simplified_text_is_never_changed():
    """No character of GB 2312 (the simplified set) is touched, but the seven that simplified
    text all but never uses alone; characters both systems use stay as written."""
    table = chinese.traditional_to_simplified()
    touched = set()
    for first in range(0xB0, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                char = bytes([first, second]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if ord(char) in table:
                touched.add(char)
    assert touched == set(chinese.RARE_IN_SIMPLIFIED)
    for kept in ["乾隆", "著名", "看着", "干净", "一伙人", "拚命", "皇后", "征收", "A市3号线"]:
        assert chinese.simplified(kept) == kept


@pytest.mark.parametrize(
    ("written", "simple"),
    [("噪音擾民", "噪音扰民"), ("ＰＭ２．５超標", "pm2.5超标"), ("學區房", "学区房")],
)
def test_search_normalization_reads_traditional_and_full_width_alike(written, simple):
    """The analyzer sees the same words, at the same offsets, for either way of writing."""
    assert analysis.normalize(written) == simple
    assert [(w.text, w.start, w.end) for w in analysis.words(written)] == [
        (w.text, w.start, w.end) for w in analysis.words(simple)
    ]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("地铁三号线太挤", "地铁3号线太挤"),
        ("五栋二单元六楼", "5栋2单元6楼"),
        ("小区一期工程", "小区1期工程"),
        ("第三期", "第3期"),
        ("三號線", "3号线"),  # traditional first, then the number
        # Left as written: longer numbers, words ending in a numeral, other words.
        ("二十三号线", "二十三号线"),
        ("两栋楼", "两栋楼"),
        ("同一期间统一楼盘", "同一期间统一楼盘"),
        ("一路平安", "一路平安"),
        ("三五成群", "三五成群"),
    ],
)
def test_counted_one_digit_numbers_are_read_as_digits(written, read):
    """三号线 and 3号线 are the same words to search; the length is kept."""
    assert analysis.normalize(written) == read
    assert len(analysis.normalize(written)) == len(written)
