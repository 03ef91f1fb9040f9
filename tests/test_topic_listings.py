"""The first-level topic wherever a search is kept or exported (issue 19): saved searches keep
it (named by its label), their digest and feed hold only its messages, and the open-data
listing, feeds and CSV / JSON Lines downloads take `topic=` as the search does (a first-level
topic by id or name, its subtopics included). Hostile values are refused by the downloads and
feeds (a clear 404) and dropped by the forgiving readers."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
from conftest import T0, login, world_messages
from sqlalchemy import select
from test_search_topics import ON_TOPICS, XSS, messages_on_topics, topic_id
from test_search_topics import ROWS as TOPIC_ROWS

from board.errors import NotFound
from board.extensions import db
from board.follow import services as follow
from board.follow.forms import SEARCH_ARGS
from board.follow.models import SavedSearch
from board.intel import taxonomy
from board.models import Message
from board.notify.models import OutgoingMail
from board.stats import listing

ATOM = "{http://www.w3.org/2005/Atom}"
ROWS = [*TOPIC_ROWS, ("商贸_旅游%",)]  # LIKE wildcards in a name must not widen a match
HOSTILE = (
    "999999",  # no such topic
    "0",
    "-1",
    "9" * 500,  # over-long digits
    "城" * 41,  # over-long name
    "住房保障",  # a second-level name: the filter is by first-level topic, as search
    XSS,
    "1 OR 1=1",
    "'; DROP TABLE topic; --",
    "城乡%",
    "²",
    "城乡建设\x00",
)


@pytest.fixture
def topical(app, database, make_message, moderator, tmp_path_factory):
    """Public messages about 停车: two under 城乡建设 (set at the third and second level), one
    under 环境保护, one under 商贸_旅游%, one without a topic (built once per process and
    database, then restored: `world_messages`)."""
    return world_messages(
        "topic-listings", database, tmp_path_factory, lambda: _topical(make_message, moderator)
    )


def _topical(make_message, moderator) -> dict:
    taxonomy.load_taxonomy(ROWS)
    return messages_on_topics(
        make_message,
        moderator,
        "approved",
        (
            *ON_TOPICS,
            ("trade", "商贸_旅游%"),
            ("none", None),
        ),
    )


def _codes(filters: listing.Filters) -> set[str]:
    ids = list(listing.matching_ids(filters))
    return set(db.session.scalars(select(Message.code).where(Message.id.in_(ids or [-1]))))


def _want(topical, *names) -> set[str]:
    return {topical[n].code for n in names}


def test_listing_reads_a_first_level_topic_by_id_or_name_with_its_subtopics(topical):
    """Id or name, with or without words: the topic and everything below it, nothing else."""
    by_id = listing.read({"topic": topic_id("城乡建设")})
    assert by_id.topic is not None and by_id.topic.name == "城乡建设"
    assert by_id.args() == {"topic": topic_id("城乡建设")}
    assert by_id.search_filters() == {"topic": topic_id("城乡建设")}
    assert _codes(by_id) == _want(topical, "housing", "property")
    assert _codes(listing.read({"topic": " 环境保护 "})) == _want(topical, "noise")
    assert _codes(listing.read({"topic": "交通运输"})) == set()
    # A name with LIKE wildcards matches itself only.
    assert _codes(listing.read({"topic": "商贸_旅游%"})) == _want(topical, "trade")
    # Words go through the search index with the same topic filter.
    words = listing.read({"q": "停车", "topic": topic_id("城乡建设")})
    assert _codes(words) == _want(topical, "housing", "property")
    # Without a topic, everything public.
    assert _codes(listing.read({"q": "停车"})) == _want(
        topical, "housing", "property", "noise", "trade", "none"
    )


def test_renamed_topic_keeps_its_subtopics_in_the_listing(topical, admin):
    """Paths follow a rename, and the filter holds the id: the same messages still match."""
    saved_args = listing.read({"topic": "城乡建设"}).args()
    taxonomy.rename_topic(admin, taxonomy.topic_by_path("城乡建设"), "住房城乡建设")
    assert _codes(listing.read(saved_args)) == _want(topical, "housing", "property")
    assert _codes(listing.read({"topic": "住房城乡建设"})) == _want(topical, "housing", "property")


def test_hostile_topic_values_are_dropped_or_refused(topical):
    """The forgiving reader drops them (everything matches); the strict one says NotFound."""
    for value in HOSTILE:
        assert listing.read({"topic": value}).topic is None, value
        with pytest.raises(NotFound) as error:
            listing.read({"topic": value}, strict=True)
        assert "一级主题分类" in error.value.message
    assert listing.read({"topic": ""}, strict=True).topic is None  # empty: no filter


def test_exports_and_feeds_take_the_topic(client, topical):
    """CSV, JSON Lines and both Atom feeds of a topic hold its messages only."""
    topic = topic_id("城乡建设")
    want = {"停车问题 housing", "停车问题 property"}
    text = client.get(f"/export/messages.csv?topic={topic}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r["title"] for r in rows} == want
    lines = client.get("/export/messages.jsonl", query_string={"topic": "城乡建设", "q": "停车"})
    assert {json.loads(line)["title"] for line in lines.get_data(as_text=True).splitlines()} == want
    feed = ET.fromstring(client.get(f"/feeds/messages.atom?topic={topic}").data)  # noqa: S314
    assert {e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")} == want
    assert client.get(f"/feeds/replies.atom?topic={topic}").status_code == 200
    # The search page hands the topic to its feed and downloads.
    page = client.get(f"/search?q=停车&topic={topic}").get_data(as_text=True)
    assert f"/export/messages.csv?topic={topic}" in page or f"topic={topic}&amp;" in page


def test_exports_and_feeds_refuse_hostile_topics_clearly(client, topical):
    """Never a 5xx, never the whole archive: a 404 saying there is no such topic (a NUL byte
    is refused earlier, as in any request: 400)."""
    for value in HOSTILE:
        for url in ("/export/messages.csv", "/export/messages.jsonl", "/feeds/messages.atom"):
            response = client.get(url, query_string={"topic": value})
            body = response.get_data(as_text=True)
            assert "<script>alert" not in body
            if "\x00" in value:
                assert response.status_code == 400, (url, value)
                continue
            assert response.status_code == 404, (url, value)
            assert "没有这个一级主题分类" in body
    response = client.get(
        "/export/messages.csv", query_string={"topic": XSS}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_directory_listing_ignores_an_unknown_topic(client, topical):
    """The forgiving public listings drop a value naming no topic (as the search page does)."""
    for value in (XSS, "9" * 500, "999999"):
        response = client.get("/regions/330100", query_string={"topic": value})
        assert response.status_code < 500
        assert "<script>alert" not in response.get_data(as_text=True)


def test_save_form_carries_the_topic_and_the_saved_search_keeps_it(client, topical, troll):
    """Saved from the search page with a topic: the id is kept, the name shows the label."""
    assert "topic" in SEARCH_ARGS
    login(client, troll)
    topic = topic_id("城乡建设")
    page = client.get(f"/search?q=停车&topic={topic}").get_data(as_text=True)
    assert f'<input type="hidden" name="topic" value="{topic}">' in page
    response = client.post("/account/searches", data={"topic": topic})
    assert response.status_code == 302
    (saved,) = db.session.scalars(select(SavedSearch)).all()
    assert dict(parse_qsl(saved.query)) == {"topic": topic}
    assert saved.name == "主题：城乡建设"
    assert "主题：城乡建设" in client.get("/account/searches").get_data(as_text=True)
    # By name, it is the same search (stored by id): no second row.
    client.post("/account/searches", data={"topic": "城乡建设"})
    assert len(db.session.scalars(select(SavedSearch)).all()) == 1


def test_saved_topic_search_is_named_in_english(client, topical, troll):
    login(client, troll)
    client.get("/lang/en?next=/")
    client.post("/account/searches", data={"q": "停车", "topic": topic_id("环境保护")})
    (saved,) = db.session.scalars(select(SavedSearch)).all()
    assert saved.name == "停车 · Topic: 环境保护"
    assert "Topic: 环境保护" in client.get("/account/searches").get_data(as_text=True)


def test_saving_hostile_topics_keeps_nothing_of_them(client, topical, troll):
    """Only a hostile topic: nothing to save (the usual error). With words: saved without it."""
    login(client, troll)
    for value in HOSTILE:
        response = client.post("/account/searches", data={"topic": value}, follow_redirects=True)
        assert response.status_code == (400 if "\x00" in value else 200), value
        assert "<script>alert" not in response.get_data(as_text=True)
    assert db.session.scalars(select(SavedSearch)).all() == []
    client.post("/account/searches", data={"q": "停车", "topic": XSS})
    (saved,) = db.session.scalars(select(SavedSearch)).all()
    assert dict(parse_qsl(saved.query)) == {"q": "停车"}


def test_digest_and_feed_of_a_saved_topic_search_hold_only_its_messages(
    client, runner, make_message, moderator, topical, troll
):
    """New messages under the topic (any level below it) are in the digest and the feed; new
    ones under another topic or none are not. With words too."""
    bare = follow.save_search(troll, {"topic": "城乡建设"}, now=T0 + timedelta(days=1))
    worded = follow.save_search(
        troll, {"q": "停车", "topic": topic_id("城乡建设")}, now=T0 + timedelta(days=1)
    )
    new = {}
    for name, path in (
        ("in", "城乡建设/物业管理/物业服务"),
        ("top", "城乡建设"),
        ("out", "环境保护"),
        ("none", None),
    ):
        m = make_message("approved", title=f"停车难 新{name}", now=T0 + timedelta(days=2))
        if path is not None:
            taxonomy.correct_topic(m, taxonomy.topic_by_path(path), moderator, now=T0)
        new[name] = m
    result = runner.invoke(args=["alerts", "digest", "--now", "2026-03-05T09:00"])
    assert result.exit_code == 0, result.output
    mails = list(
        db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.kind == "saved_search_digest")
            .order_by(OutgoingMail.id)
        )
    )
    assert len(mails) == 2
    for mail in mails:
        assert new["in"].code in mail.body and new["top"].code in mail.body
        for absent in ("out", "none"):
            assert new[absent].code not in mail.body
        for old in topical.values():  # published before the search was saved
            assert old.code not in mail.body
    for saved in (bare, worded):
        feed = ET.fromstring(client.get(f"/feeds/saved/{saved.feed_token}.atom").data)  # noqa: S314
        titles = {e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")}
        assert titles == {
            "停车难 新in",
            "停车难 新top",
            "停车问题 housing",
            "停车问题 property",
        }
