"""Topic names on English pages: the standard tree (labels.xlsx) in English wherever a topic is
shown (listing and search filters, search facets and chips, the compose form, the feeds, the
admin's tree), a topic an admin added in Chinese marked lang="zh-CN", Chinese pages unchanged.
Found by the full English pass once its demo site carried the topic tree, as `make run`'s does."""

from __future__ import annotations

import os
import re
from html import unescape
from pathlib import Path

import pytest
from conftest import login
from flask_babel import force_locale
from test_search_topics import messages_on_topics
from webform import get

from board.intel import taxonomy
from board.intel.names_en import NAMES_EN, path_label, topic_name
from board.intel.taxonomy import read_label_rows

DATA = Path(
    os.environ.get("BOARD_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
LABELS = DATA / "tipdm2020c" / "labels.xlsx"
ROWS = [
    ("城乡建设", "住房保障与房地产", "物业服务"),
    ("环境保护", "环境污染", "噪音污染"),
    ("自定义主题",),  # an admin's own first level: no English name
]
HAN = re.compile(r"[\u3400-\u9fff]")
SELECT = re.compile(r'<select id="f-topic" name="topic">(.*?)</select>', re.S)
OPTION = re.compile(r"<option([^>]*)>([^<]*)</option>")
VALUE = re.compile(r' value="([^"]*)"')


@pytest.fixture
def topical(app, make_message, moderator):
    """The rows above, and a public message under each standard first level."""
    taxonomy.load_taxonomy(ROWS)
    return messages_on_topics(
        make_message,
        moderator,
        "approved",
        (
            ("housing", "城乡建设/住房保障与房地产/物业服务"),
            ("noise", "环境保护/环境污染/噪音污染"),
        ),
    )


def _id(path: str) -> str:
    return str(taxonomy.topic_by_path(path).id)


def _options(html: str, pattern=SELECT) -> dict[str, tuple[str, str]]:
    """value → (label, the option's other attributes) of the first select `pattern` finds."""
    found = pattern.search(html)
    assert found, "no such select"
    options = {}
    for attrs, label in OPTION.findall(found.group(1)):
        value = VALUE.search(attrs).group(1)
        options[value] = (unescape(label), VALUE.sub("", attrs).replace(" selected", ""))
    return options


@pytest.mark.skipif(not LABELS.exists(), reason="needs ../shared/data")
def test_every_name_of_the_standard_tree_has_an_english_name():
    """All 502 distinct names of labels.xlsx, and nothing else; no English name holds Chinese."""
    names = {name for row in read_label_rows(LABELS) for name in row}

    assert names - set(NAMES_EN) == set()
    assert set(NAMES_EN) - names == set()
    assert [english for english in NAMES_EN.values() if HAN.search(english)] == []


def test_listing_topic_select_is_english_and_marks_an_untranslated_topic(client, topical):
    """A region page's topic select in English: the standard names translated, the admin's
    Chinese one marked as Chinese; the Chinese page as before, with no lang on any option."""
    client.set_cookie("lang", "en")
    english = _options(get(client, "/regions/330100").get_data(as_text=True))

    assert english[_id("城乡建设")] == ("Urban and rural development", "")
    assert english[_id("环境保护")] == ("Environmental protection", "")
    assert english[_id("自定义主题")] == ("自定义主题", ' lang="zh-CN"')
    assert [label for label, attrs in english.values() if HAN.search(label) and not attrs] == []

    client.set_cookie("lang", "zh_CN")
    chinese = _options(get(client, "/regions/330100").get_data(as_text=True))
    assert chinese[_id("城乡建设")] == ("城乡建设", "")
    assert chinese[_id("自定义主题")] == ("自定义主题", "")


def test_narrowed_listing_and_its_feed_name_the_topic_in_english(client, topical):
    """A listing narrowed to a topic says which in English, and so does its feed's title."""
    client.set_cookie("lang", "en")
    html = get(client, f"/boards/330100-secretary?topic={_id('城乡建设')}").get_data(as_text=True)

    assert '<p class="muted active-topic">Topic: Urban and rural development' in html
    assert re.search(
        r'type="application/atom\+xml" title="[^"]*Topic: Urban and rural development"', html
    )
    assert topical["housing"].code in html and topical["noise"].code not in html


def test_search_filter_facets_and_chips_name_topics_in_english(client, topical):
    """The search page in English: the topic select, the facet and the chip of the chosen topic."""
    client.set_cookie("lang", "en")
    search_select = re.compile(r'<select id="topic" name="topic"[^>]*>(.*?)</select>', re.S)

    html = get(client, "/search?q=停车").get_data(as_text=True)
    options = _options(html, search_select)
    assert options[_id("城乡建设")][0] == "Urban and rural development"
    assert options[_id("自定义主题")] == ("自定义主题", ' lang="zh-CN"')
    facet = re.search(r'<section class="facet">\s*<h3>Topic[^<]*</h3>(.*?)</section>', html, re.S)
    assert facet, "no topic facet"
    assert "Environmental protection" in facet.group(1) and not HAN.search(facet.group(1))

    chosen = get(client, f"/search?q=停车&topic={_id('环境保护')}").get_data(as_text=True)
    chips = re.search(r'<ul class="active-filters[^>]*>(.*?)</ul>', chosen, re.S).group(1)
    assert "Environmental protection" in chips
    assert topical["noise"].code in chosen and topical["housing"].code not in chosen


def test_compose_form_groups_topics_under_english_names(client, citizen, topical):
    """The compose form in English: option groups and options in English, each keeping its
    Chinese path for the suggestion script; the untranslated topic marked as Chinese."""
    login(client, citizen)
    client.set_cookie("lang", "en")
    html = get(client, "/write?board=330100-secretary").get_data(as_text=True)

    assert '<optgroup label="Urban and rural development">' in html
    housing = re.search(
        r'<option data-path="城乡建设/住房保障与房地产/物业服务"[^>]*>([^<]*)</option>', html
    )
    assert housing, "no option for the housing topic"
    assert (
        unescape(housing.group(1))
        == "Housing security and real estate / Property management services"
    )
    own = re.search(r'<option data-path="自定义主题"([^>]*)>([^<]*)</option>', html)
    assert own and 'lang="zh-CN"' in own.group(1)


def test_admin_tree_is_english_with_the_untranslated_topic_marked(client, admin, topical):
    """The admin's tree and a topic's page in English; the rename field keeps the Chinese name,
    which is what an admin edits."""
    login(client, admin)
    client.set_cookie("lang", "en")

    tree = get(client, "/admin/topics").get_data(as_text=True)
    assert "<summary>Urban and rural development" in tree
    assert '<summary><span lang="zh-CN">自定义主题</span>' in tree
    assert ">Property management services</a>" in tree

    topic = taxonomy.topic_by_path("城乡建设/住房保障与房地产")
    page = get(client, f"/admin/topics/{topic.id}").get_data(as_text=True)
    assert "Housing security and real estate" in page
    assert "Urban and rural development / Housing security and real estate" in page
    assert 'value="住房保障与房地产"' in page


def test_only_chinese_left_untranslated_is_marked(app):
    """On an English request, a name of the table is English, an admin's Chinese name is marked
    as Chinese, a name without Chinese ("COVID-19") is neither; a path is English only when
    every level can be; a Chinese request changes nothing."""
    with app.test_request_context("/"), force_locale("en"):
        assert topic_name("城乡建设") == "Urban and rural development"
        assert topic_name("COVID-19") == "COVID-19" and not hasattr(topic_name("COVID-19"), "lang")
        assert topic_name("自定义主题") == "自定义主题" and topic_name("自定义主题").lang == "zh-CN"
        assert path_label(["城乡建设", "COVID-19"]) == "Urban and rural development / COVID-19"
        mixed = path_label(["城乡建设", "自定义主题"])
        assert mixed == "城乡建设/自定义主题" and mixed.lang == "zh-CN"
    with app.test_request_context("/"), force_locale("zh_CN"):
        assert topic_name("城乡建设") == "城乡建设" and not hasattr(topic_name("城乡建设"), "lang")
        assert path_label(["城乡建设", "物业服务"], " / ") == "城乡建设 / 物业服务"


def test_staff_topic_panel_is_english(client, coordinator, topical):
    """The coordinator's topic panel on a message page in English: the message's topic and the
    correction select's paths in English, the admin's Chinese topic marked as Chinese."""
    login(client, coordinator)
    client.set_cookie("lang", "en")
    page = get(client, f"/m/{topical['housing'].code}").get_data(as_text=True)

    path = "Urban and rural development / Housing security and real estate / Property management services"
    assert f"<dd>{path} " in page
    options = _options(
        page, re.compile(r'<select id="intel-topic" name="topic"[^>]*>(.*?)</select>', re.S)
    )
    assert options[_id("城乡建设/住房保障与房地产/物业服务")][0] == path
    assert options[_id("自定义主题")] == ("自定义主题", ' lang="zh-CN"')
    assert [label for label, attrs in options.values() if HAN.search(label) and not attrs] == []
