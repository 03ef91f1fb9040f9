"""English names of regions, boards and units (board/directory/names.py) and English pages."""

from __future__ import annotations

import re

import pytest
from conftest import login
from flask_babel import refresh

from board.directory.names import board_title_en, region_name_en, romanise
from board.seed.regions import region_rows


@pytest.mark.parametrize(
    ("code", "name", "english"),
    [
        ("330100", "杭州市", "Hangzhou"),
        ("330000", "浙江省", "Zhejiang"),
        ("330106", "西湖区", "Xihu District"),
        ("330127", "淳安县", "Chun'an County"),
        ("610100", "西安市", "Xi'an"),
        ("500000", "重庆市", "Chongqing"),
        ("610000", "陕西省", "Shaanxi"),
        ("140000", "山西省", "Shanxi"),
        ("422800", "恩施土家族苗族自治州", "Enshi Autonomous Prefecture"),
        ("332500", "景宁畲族自治县", "Jingning Autonomous County"),
        ("152900", "阿拉善盟", "Alashan League"),
        ("810000", "香港特别行政区", "Hong Kong SAR"),
    ],
)
def test_region_names_are_romanised_from_the_chinese_name(code, name, english):
    """Pinyin of the name's stem (apostrophe before a/o/e syllables) plus its level in English."""
    assert region_name_en(code, name) == english


def test_every_real_region_has_a_pinyin_english_name_and_provinces_do_not_collide():
    """All of GB/T 2260 romanises to pinyin letters (ü as in Lüliang); no two provinces share an English name."""
    rows = region_rows()
    names = {code: region_name_en(code, name) for code, name, _level, _parent in rows}
    assert all(re.fullmatch(r"[A-Za-zü' -]+", english) for english in names.values())
    provinces = [names[code] for code, _n, level, _p in rows if level == "province"]
    assert len(provinces) == len(set(provinces)) == 34
    assert romanise("杭州") == "Hangzhou"


def test_board_titles_name_the_post_of_the_region():
    """杭州市委书记 → Party Secretary of Hangzhou; governors, mayors and chairmen by level."""
    assert board_title_en("secretary", "330100", "杭州市", "city") == "Party Secretary of Hangzhou"
    assert board_title_en("governor", "330100", "杭州市", "city") == "Mayor of Hangzhou"
    assert board_title_en("governor", "330000", "浙江省", "province") == "Governor of Zhejiang"
    assert board_title_en("governor", "450000", "广西壮族自治区", "province") == (
        "Chairman of Guangxi"
    )


def test_english_pages_name_boards_regions_and_units_in_english(client, handler, make_message):
    """In English the board page, the desk and the message page show the romanised names, and
    the citizen's words carry lang="zh-CN"."""
    message = make_message("in_progress")
    refresh()  # the fixtures' app context cached the Chinese locale while building the message
    client.get("/lang/en?next=/")
    page = client.get("/boards/330100-secretary").get_data(as_text=True)
    assert "Party Secretary of Hangzhou" in page and "杭州市委书记" not in page
    shown = client.get(f"/m/{message.code}").get_data(as_text=True)
    assert f'<h1 id="message-title"><span lang="zh-CN">{message.title}</span></h1>' in shown
    login(client, handler)
    desk = client.get("/desk/handler").get_data(as_text=True)
    assert "Hangzhou Housing and Urban-Rural Development Bureau" in desk
    assert f'<span lang="zh-CN">{message.title}</span>' in desk


def test_chinese_pages_are_unchanged_by_the_english_names(client, make_message):
    """In Chinese nothing is romanised and no lang span wraps the text."""
    message = make_message("in_progress")
    page = client.get(f"/m/{message.code}").get_data(as_text=True)
    assert f'<h1 id="message-title">{message.title}</h1>' in page
    assert "杭州市委书记" in page and "Hangzhou" not in page


def test_only_chinese_text_is_marked_chinese_in_english_pages(app):
    """The `zh` filter marks text holding Chinese (lang="zh-CN") in English pages only."""
    from board.templating import user_text

    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        assert str(user_text("路灯不亮")) == '<span lang="zh-CN">路灯不亮</span>'
        assert user_text("Street light out") == "Street light out"
        assert str(user_text("<b>路</b>")) == '<span lang="zh-CN">&lt;b&gt;路&lt;/b&gt;</span>'
        assert user_text("<b>") == "<b>"  # a plain str: the template's autoescape handles it
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        refresh()
        assert user_text("路灯不亮") == "路灯不亮"
