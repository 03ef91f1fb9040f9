"""The masking module every public surface uses (DESIGN §7): what is masked, and what is not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from board.privacy import mask_pen_name, mask_text, truncate_ip


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证 11010519491231002X 号", "身份证 110105********002X 号"),
        ("电话 13812345678", "电话 138****5678"),
        ("座机 0571-87654321", "座机 0571-****4321"),
        ("卡号 6222021234567890128", "卡号 6222***********0128"),
        ("邮箱 zhang.san@example.com", "邮箱 z***@example.com"),
        ("车牌 浙A12345", "车牌 浙A***5"),
        # A typo'd check digit is still someone's ID number (issue 14).
        ("身份证 110105194912310021 号", "身份证 110105********0021 号"),
    ],
)
def test_personal_numbers_are_masked_in_display_form(text, masked):
    """ID numbers (checksum-valid), phones, Luhn-valid cards, e-mails and plates are masked."""
    assert mask_text(text, []) == masked


@pytest.mark.parametrize(
    "text",
    [
        "编号 110105194913310021 号",  # 13th month: no birth date, not an ID number
        "卡 6222021234567890123",  # fails Luhn: not a card number
        "订单号 2026030212345678901234",
        "金额 123456789012 元",
    ],
)
def test_ordinary_long_numbers_are_left_alone(text):
    """Checksums keep ordinary long numbers from being mangled."""
    assert mask_text(text, []) == text


def test_private_values_are_masked_wherever_they_appear():
    """Anything the author gave in private is masked in the public text."""
    assert "陈明亮" not in mask_text("我是陈明亮，住文三路 1 号", ["陈明亮", "文三路 1 号"])
    assert "文三路 1 号" not in mask_text("我是陈明亮，住文三路 1 号", ["陈明亮", "文三路 1 号"])


def test_pen_names_and_ip_addresses_are_reduced():
    """Lists show `陈**`; only the network part of an address is stored."""
    assert mask_pen_name("陈明") == "陈**"
    assert truncate_ip("192.168.1.77") == "192.168.1.0"
    assert truncate_ip("2001:db8:1:2:3::1") == "2001:db8:1::"
    assert truncate_ip("not an ip") is None


_CHINESE_DIGITS = {
    "0": "〇零",
    "1": "一幺壹",
    "2": "二贰貳",
    "3": "三叁參叄",
    "4": "四肆",
    "5": "五伍",
    "6": "六陆陸",
    "7": "七柒",
    "8": "八捌",
    "9": "九玖",
}


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(["", "电话", "手机：", "QQ号 ", "身份证号", "联系我", "卡号 ", "微信"]),
    digits=st.text(alphabet="0123456789", min_size=5, max_size=20),
    separators=st.lists(st.sampled_from(["", "", "", " ", "-"]), min_size=20, max_size=20),
    choice=st.randoms(use_true_random=False),
)
def test_numbers_in_chinese_numerals_are_masked_where_the_same_digits_are(
    prefix, digits, separators, choice
):
    """A number written in Chinese numerals (any of the forms for each digit) is masked exactly
    where the same number in Arabic digits is, and nothing else changes."""
    written = "".join(d + s for d, s in zip(digits, separators, strict=False)).strip(" -")
    as_numerals = "".join(choice.choice(_CHINESE_DIGITS[c]) if c.isdigit() else c for c in written)
    arabic = mask_text(prefix + written + "，谢谢")
    chinese = mask_text(prefix + as_numerals + "，谢谢")
    assert len(arabic) == len(chinese)
    for a, c, original in zip(arabic, chinese, prefix + as_numerals + "，谢谢", strict=True):
        assert (a == "*") == (c == "*")
        if c != "*":
            assert c == original
