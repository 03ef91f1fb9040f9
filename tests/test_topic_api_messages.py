"""The first-level topic on the message listing API and in the open-data feeds: `GET
/api/v1/messages` takes `topic` as `/api/v1/search` does (a first-level topic by id or name, the
messages filed under it or any topic below it; anything else a 422 on the field), the Atom feeds
of a topic say so in their title, and a listing page narrowed to a topic keeps it in its feed
link and its filter form. Run on SQLite and PostgreSQL (the `app` fixture's databases)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from html import unescape

import pytest
from conftest import T0, board, world_messages
from test_search_topics import ON_TOPICS, ROWS, XSS, messages_on_topics, topic_id

from board.auth.services import issue_token
from board.intel import taxonomy

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def topical(app, database, make_message, moderator, tmp_path_factory):
    """Public messages: two under 城乡建设 (set at the third and the second level), one under
    环境保护, one without a topic; and two under 城乡建设 the public may not read (the author
    did not want it published; not yet moderated). Built once per process and database, then
    restored (`world_messages`)."""
    return world_messages(
        "topic-api", database, tmp_path_factory, lambda: _topical(make_message, moderator)
    )


def _topical(make_message, moderator) -> dict:
    taxonomy.load_taxonomy(ROWS)
    made = messages_on_topics(
        make_message,
        moderator,
        "approved",
        (
            *ON_TOPICS,
            ("none", None),
        ),
    )
    topic = taxonomy.topic_by_path("城乡建设/物业管理").id
    made["private"] = make_message(
        "approved", title="停车问题 private", wants_public=False, topic_id=topic
    )
    made["pending"] = make_message(
        "submitted", title="停车问题 pending", topic_id=topic, now=T0 + timedelta(days=1)
    )
    return made


def _codes(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["code"] for item in response.get_json()["items"]}


def _want(topical, *names) -> set[str]:
    return {topical[n].code for n in names}


def test_api_lists_a_first_level_topic_by_id_or_name_with_its_subtopics(client, topical):
    """Only the topic's public messages (one filed at the second level, one at the third);
    other topics, unclassified and private messages are left out."""
    want = _want(topical, "housing", "property")
    by_id = client.get(f"/api/v1/messages?topic={topic_id('城乡建设')}")
    assert _codes(by_id) == want
    assert by_id.get_json()["total"] == 2
    assert _codes(client.get("/api/v1/messages", query_string={"topic": " 城乡建设 "})) == want
    assert _codes(client.get("/api/v1/messages", query_string={"topic": "环境保护"})) == _want(
        topical, "noise"
    )
    assert _codes(client.get("/api/v1/messages", query_string={"topic": "交通运输"})) == set()
    # Without a topic: every public message, the unclassified one too.
    assert _codes(client.get("/api/v1/messages")) == _want(
        topical, "housing", "property", "noise", "none"
    )


def test_api_topic_works_with_the_other_filters_and_paging(client, topical):
    """AND with the other filters; page by page and cursor by cursor, the same two messages."""
    topic = topic_id("城乡建设")
    url = "/api/v1/messages"
    assert _codes(client.get(url, query_string={"topic": topic, "kind": "complaint"})) == _want(
        topical, "housing", "property"
    )
    assert _codes(client.get(url, query_string={"topic": topic, "kind": "suggestion"})) == set()
    assert _codes(
        client.get(url, query_string={"topic": topic, "board": "330100-secretary"})
    ) == _want(topical, "housing", "property")
    pages = [
        client.get(url, query_string={"topic": topic, "per_page": 1, "page": p}) for p in (1, 2, 3)
    ]
    assert [len(p.get_json()["items"]) for p in pages] == [1, 1, 0]
    assert {p.get_json()["total"] for p in pages} == {2}
    assert _codes(pages[0]) | _codes(pages[1]) == _want(topical, "housing", "property")
    seen, cursor = [], None
    for _ in range(5):  # two pages and the end, at most
        args = {"topic": "城乡建设", "per_page": 1, **({"cursor": cursor} if cursor else {})}
        body = client.get(url, query_string=args).get_json()
        seen += [item["code"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(_want(topical, "housing", "property"))


def test_api_topic_never_returns_private_messages(client, topical, troll, citizen):
    """Anonymous and another citizen's token: never the private or unmoderated ones. Their
    author's token shows them, as the unfiltered list does (the topic narrows, it never widens)."""
    public = _want(topical, "housing", "property")
    url = f"/api/v1/messages?topic={topic_id('城乡建设')}"
    assert _codes(client.get(url)) == public
    stranger = {"Authorization": f"Bearer {issue_token(troll, name='test', now=T0)}"}
    assert _codes(client.get(url, headers=stranger)) == public
    author = {"Authorization": f"Bearer {issue_token(citizen, name='test', now=T0)}"}
    assert _codes(client.get(url, headers=author)) == _want(
        topical, "housing", "property", "private", "pending"
    )
    assert _codes(client.get(f"/api/v1/messages?topic={topic_id('环境保护')}", headers=author)) == (
        _want(topical, "noise")
    )


@pytest.mark.parametrize(
    "value", ["999999", "0", "住房保障", "second-level-id", XSS, "城" * 300, "城乡%"]
)
def test_api_refuses_an_unknown_topic_as_search_does(client, topical, value):
    """Anything naming no first-level topic (a second-level one included) is a 422 on the
    `topic` field, with the search's words; never the whole list."""
    if value == "second-level-id":
        value = topic_id("城乡建设/住房保障")
    response = client.get("/api/v1/messages", query_string={"topic": value})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    searched = client.get("/api/v1/search", query_string={"topic": value})
    assert searched.status_code == 422
    assert fields == searched.get_json()["error"]["fields"]
    assert fields["topic"] == ["没有这个一级主题分类。"]
    assert "<script>" not in response.get_data(as_text=True)


def test_openapi_declares_the_topic_of_the_message_list(client):
    """The document names `topic` on GET /messages as it does on /search."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    listed = {p["name"]: p for p in paths["/api/v1/messages"]["get"]["parameters"]}
    searched = {p["name"]: p for p in paths["/api/v1/search"]["get"]["parameters"]}
    assert listed["topic"]["in"] == "query"
    assert listed["topic"]["schema"] == searched["topic"]["schema"] == {"type": "string"}
    assert "一级主题分类" in listed["topic"]["description"]


def _feed_title(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return ET.fromstring(response.data).find(f"{ATOM}title").text  # noqa: S314


def test_feed_titles_name_the_topic(client, topical):
    """Both feeds of a topic say which, after the board and before what they list; in English
    with the translated label and the topic's English name. Without a topic, the title is as
    before."""
    topic = topic_id("城乡建设")
    label = board("330100-secretary").label
    assert _feed_title(client, f"/feeds/messages.atom?topic={topic}") == (
        "主题：城乡建设 · 最新留言 · 民声"
    )
    assert _feed_title(client, "/feeds/replies.atom?board=330100-secretary&topic=环境保护") == (
        f"{label} · 主题：环境保护 · 最新答复 · 民声"
    )
    assert _feed_title(client, "/feeds/messages.atom") == "最新留言 · 民声"
    client.get("/lang/en?next=/")
    assert _feed_title(client, f"/feeds/messages.atom?topic={topic}") == (
        "Topic: Urban and rural development · Latest messages · Minsheng"
    )
    english = _feed_title(client, "/feeds/replies.atom?board=330100-secretary&topic=环境保护")
    board_label, *rest = english.split(" · ")  # the board's label is translated too
    assert board_label and board_label != label
    assert rest == ["Topic: Environmental protection", "Latest replies", "Minsheng"]


def test_listing_page_keeps_the_topic_in_its_feed_links_and_filter_form(client, topical):
    """A region page narrowed to a topic: its feed autodiscovery link, its feed and download
    links and its filter form (the topic selected) all carry the topic; the topic is named with
    a link dropping it."""
    topic = topic_id("城乡建设")
    page = client.get(f"/regions/330100?topic={topic}&kind=complaint").get_data(as_text=True)
    links = {
        unescape(part.split('"', 1)[0])
        for part in page.split('href="')[1:]
        if part.startswith(("/feeds/", "/export/"))
    }
    autodiscovery = f"/feeds/replies.atom?region=330100&topic={topic}"
    assert autodiscovery in links
    assert f'href="{autodiscovery.replace("&", "&amp;")}"' in page.split("</head>")[0]
    for path in ("/feeds/replies.atom", "/feeds/messages.atom", "/export/messages.csv"):
        assert f"{path}?region=330100&kind=complaint&topic={topic}" in links, (path, links)
    assert f'<option value="{topic}" selected>城乡建设</option>' in page  # the form keeps it
    assert "主题：城乡建设" in page
    assert 'href="/regions/330100?kind=complaint">不限主题</a>' in page
    # The feed it offers holds that topic's public messages only.
    feed = ET.fromstring(client.get(f"/feeds/messages.atom?region=330100&topic={topic}").data)  # noqa: S314
    titles = {e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")}
    assert titles == {"停车问题 housing", "停车问题 property"}
    # Without a topic, nothing about one.
    plain = client.get("/regions/330100").get_data(as_text=True)
    assert "selected>城乡建设</option>" not in plain and "主题：" not in plain
    assert 'href="/regions/330100?">不限主题</a>' not in plain
    assert 'href="/feeds/replies.atom?region=330100"' in plain
