"""Two gaps on public listing pages: the board chooser opened at a merged-away region goes to
the region that holds it now (through later merges too), and the region, board and unit pages
offer the first-level topic as a plain select in their filter form, working without JavaScript."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from conftest import T0, login
from test_search_topics import messages_on_topics
from webform import get, read_form

from board.admin.services import region_merge
from board.intel import taxonomy

ROWS = [
    ("城乡建设", "住房保障", "廉租房"),
    ("城乡建设", "物业管理"),
    ("环境保护", "环保执法", "噪声污染"),
    ("交通运输",),
    ("文化体育",),
]
LISTINGS = ("/regions/330100", "/boards/330100-secretary")
SELECT = re.compile(r'<select id="f-topic" name="topic">(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"( selected)?>([^<]*)</option>')


# ---------------------------------------------------------------------------------------------
# The board chooser at a merged region


def test_chooser_at_a_merged_region_lands_on_the_current_regions_boards(
    client, citizen, admin, directory
):
    """淳安县 merged into 西湖区, then 西湖区 into 海曙区: the chooser at 淳安县 (or 西湖区)
    goes to 海曙区 and lists its boards, keeping a search typed alongside; a current region
    stays where it is."""
    region_merge.merge_region(admin, "330127", into="330106", merged_on=date(2026, 9, 1), now=T0)
    region_merge.merge_region(admin, "330106", into="330203", merged_on=date(2026, 10, 1), now=T0)
    login(client, citizen)

    for old in ("330127", "330106"):
        response = client.get(f"/write?region={old}")
        assert response.status_code == 302, old
        assert response.headers["Location"].endswith("/write?region=330203"), old
    kept = client.get("/write?region=330127&q=海曙")
    assert kept.headers["Location"].endswith("/write?region=330203&q=%E6%B5%B7%E6%9B%99")

    page = client.get("/write?region=330127", follow_redirects=True).get_data(as_text=True)
    assert "浙江省宁波市海曙区的领导" in page
    assert 'href="/write?board=330203-secretary"' in page
    assert "330127-secretary" not in page and "330106-secretary" not in page

    current = client.get("/write?region=330203")
    assert current.status_code == 200
    assert 'href="/write?board=330203-secretary"' in current.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# The topic select of the listing filters


@pytest.fixture
def topical(app, make_message, moderator, admin):
    """Public messages on 杭州市委书记's board about 西湖区: one under 城乡建设 (at the third
    level), one under 环境保护, one without a topic; 文化体育 retired."""
    taxonomy.load_taxonomy(ROWS)
    taxonomy.set_topic_active(admin, taxonomy.topic_by_path("文化体育"), is_active=False)
    return messages_on_topics(
        make_message,
        moderator,
        "approved",
        (
            ("housing", "城乡建设/住房保障/廉租房"),
            ("noise", "环境保护/环保执法/噪声污染"),
            ("none", None),
        ),
    )


def _id(path: str) -> str:
    return str(taxonomy.topic_by_path(path).id)


def _options(html: str) -> list[tuple[str, bool, str]]:
    """(value, selected, label) of the filter form's topic select, in order."""
    found = SELECT.search(html)
    assert found, "no topic select in the filter form"
    return [(v, bool(s), unescape(label)) for v, s, label in OPTION.findall(found.group(1))]


@pytest.mark.parametrize("page", (*LISTINGS, "/units/330100-zj"))
def test_topic_select_lists_active_first_level_topics_with_the_current_one_selected(
    client, topical, page
):
    """First "不限主题" (no filter), then the active first-level topics in order; the topic in
    the URL is the one selected, none selected without one. In English too."""
    unfiltered = _options(get(client, page).get_data(as_text=True))
    assert unfiltered == [
        ("", False, "不限主题"),
        (_id("城乡建设"), False, "城乡建设"),
        (_id("环境保护"), False, "环境保护"),
        (_id("交通运输"), False, "交通运输"),
    ]
    html = get(client, f"{page}?topic={_id('环境保护')}").get_data(as_text=True)
    chosen = [(value, label) for value, selected, label in _options(html) if selected]
    assert chosen == [(_id("环境保护"), "环境保护")]
    assert '<label for="f-topic">主题分类</label>' in html

    client.set_cookie("lang", "en")
    english = get(client, page).get_data(as_text=True)
    assert _options(english)[0] == ("", False, "Any topic")
    assert '<label for="f-topic">Topics</label>' in english


@pytest.mark.parametrize("page", LISTINGS)
def test_submitting_the_filter_form_with_a_topic_filters_the_listing(client, topical, page):
    """The form as a browser without JavaScript sends it, with a topic chosen in the select:
    the other topic's message and the one without a topic leave the listing; choosing
    "不限主题" again brings them back."""
    html = get(client, page).get_data(as_text=True)
    for name in ("housing", "noise", "none"):
        assert topical[name].code in html, name
    fields = read_form(html, page)
    assert fields["topic"] == ""
    fields["topic"] = _id("城乡建设")

    filtered = get(client, page, query_string=fields).get_data(as_text=True)
    assert topical["housing"].code in filtered
    assert topical["noise"].code not in filtered
    assert topical["none"].code not in filtered
    assert "主题：城乡建设" in filtered

    again = read_form(filtered, page)
    assert again["topic"] == _id("城乡建设")  # kept when filtering again
    again["topic"] = ""
    widened = get(client, page, query_string=again).get_data(as_text=True)
    for name in ("housing", "noise", "none"):
        assert topical[name].code in widened, name


def test_a_retired_topic_in_the_url_stays_selected(client, topical):
    """A shared link naming a retired first-level topic shows it selected (it is what the list
    is filtered by), while the select offers no retired topic otherwise."""
    retired = _id("文化体育")
    html = get(client, f"/regions/330100?topic={retired}").get_data(as_text=True)
    assert (retired, True, "文化体育") in _options(html)
    assert retired not in {
        v for v, _s, _l in _options(get(client, "/regions/330100").data.decode())
    }
