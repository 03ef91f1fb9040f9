"""The first-level topic as a search filter and facet: indexed, counted, named, on the page and
in the API, kept current when staff correct a topic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0, login, world_messages

from board.extensions import db
from board.intel import taxonomy
from board.search import documents, index, indexer
from board.search.query import search_messages
from board.search.topics import resolve_topic, topic_roots

ROWS = [
    ("城乡建设", "住房保障", "廉租房"),
    ("城乡建设", "物业管理", "物业服务"),
    ("环境保护", "环保执法", "噪声污染"),
    ("交通运输",),
]
XSS = '<script>alert("x")</script>'
# Messages on the topics of ROWS, as (name, topic path) for `messages_on_topics`.
ON_TOPICS = (
    ("housing", "城乡建设/住房保障/廉租房"),
    ("property", "城乡建设/物业管理"),
    ("noise", "环境保护/环保执法/噪声污染"),
)


def messages_on_topics(make_message, moderator, state: str, paths) -> dict:
    """One message about 停车 per (name, topic path) in `state`, an hour apart; the topic set
    by staff (None: no topic)."""
    made = {}
    for name, path in paths:
        m = make_message(state, title=f"停车问题 {name}", now=T0 + timedelta(hours=len(made)))
        if path is not None:
            taxonomy.correct_topic(m, taxonomy.topic_by_path(path), moderator, now=T0)
        made[name] = m
    return made


@pytest.fixture
def topical(app, database, make_message, moderator, tmp_path_factory):
    """Three public messages about 停车: two under 城乡建设 (set at the second and third
    level), one under 环境保护, and one without a topic; topics set by staff (built once per
    process and database, then restored: `world_messages`)."""
    return world_messages(
        "search-topics", database, tmp_path_factory, lambda: _topical(make_message, moderator)
    )


def _topical(make_message, moderator) -> dict:
    taxonomy.load_taxonomy(ROWS)
    return messages_on_topics(
        make_message,
        moderator,
        "received",
        (
            *ON_TOPICS,
            ("none", None),
        ),
    )


def topic_id(name: str) -> str:
    return str(taxonomy.topic_by_path(name).id)


def _codes(result) -> set[str]:
    return {hit.message.code for hit in result.hits}


def test_document_holds_the_first_level_topic_id(topical):
    """A topic at any level is indexed as its first-level ancestor's id; none, no field."""
    roots = topic_roots()
    assert documents.document_for(topical["housing"], roots)["topic"] == topic_id("城乡建设")
    assert documents.document_for(topical["property"])["topic"] == topic_id("城乡建设")
    assert documents.document_for(topical["noise"], roots)["topic"] == topic_id("环境保护")
    assert "topic" not in documents.document_for(topical["none"], roots)


def test_search_filters_and_counts_by_first_level_topic(topical):
    """The filter narrows to a first-level topic; the facet counts every match per topic and
    names it from the database."""
    everything = search_messages("停车")
    assert everything.total == 4
    assert dict(everything.facets["topic"]) == {topic_id("城乡建设"): 2, topic_id("环境保护"): 1}
    assert everything.labels["topic"] == {
        topic_id("城乡建设"): "城乡建设",
        topic_id("环境保护"): "环境保护",
    }
    housing = search_messages("停车", filters={"topic": topic_id("城乡建设")})
    assert _codes(housing) == {topical["housing"].code, topical["property"].code}
    assert dict(housing.facets["topic"]) == {topic_id("城乡建设"): 2}
    assert search_messages("", filters={"topic": topic_id("交通运输")}).total == 0


def test_correcting_a_topic_moves_the_message_between_facets(topical, moderator):
    """Staff correcting a topic re-index the message (outbox): the facet follows at once."""
    taxonomy.correct_topic(
        topical["housing"], taxonomy.topic_by_path("交通运输"), moderator, now=T0 + timedelta(1)
    )
    counts = dict(search_messages("停车").facets["topic"])
    assert counts == {topic_id("城乡建设"): 1, topic_id("环境保护"): 1, topic_id("交通运输"): 1}
    assert indexer.check().ok


def test_renaming_a_topic_renames_the_facet_without_reindexing(topical, admin):
    """Ids are indexed, names come from the database: a rename shows at once."""
    taxonomy.rename_topic(admin, taxonomy.topic_by_path("城乡建设"), "住房城乡建设")
    labels = search_messages("停车").labels["topic"]
    assert labels[topic_id("住房城乡建设")] == "住房城乡建设"


def test_resolve_topic_takes_an_id_or_a_first_level_name_only(topical):
    """Ids and names of first-level topics resolve; deeper topics, unknown names, other
    digits and overlong values do not."""
    first = topic_id("城乡建设")
    assert resolve_topic(first) == resolve_topic("城乡建设") == resolve_topic(f" {first} ")
    for value in (
        topic_id("城乡建设/住房保障"),
        "住房保障",
        "999999",
        "9" * 30,
        "²",
        "",
        None,
        XSS,
    ):
        assert resolve_topic(value) is None, value
    assert resolve_topic("城" * 41) is None


def test_search_page_has_a_topic_select_and_facet_without_javascript(client, topical):
    """A plain GET form: the select lists the first-level topics; facet links narrow and the
    chosen one is shown as an active filter with a link that removes it."""
    page = client.get("/search?q=停车").get_data(as_text=True)
    assert 'name="topic"' in page and "全部主题分类" in page
    assert f'<option value="{topic_id("交通运输")}">交通运输</option>' in page
    assert f"topic={topic_id('城乡建设')}" in page  # the facet link
    chosen = client.get(f"/search?q=停车&topic={topic_id('环境保护')}").get_data(as_text=True)
    assert topical["noise"].code in chosen and topical["housing"].code not in chosen
    assert 'aria-current="true">环境保护' in chosen
    assert "共 1 条" in chosen


def test_search_page_refuses_unknown_and_hostile_topic_values(client, topical):
    """An unknown id, another level's id, markup or an overlong value: the field says so, the
    filter is not applied, nothing is echoed unescaped."""
    for value in ("999999", topic_id("城乡建设/住房保障"), XSS, "9" * 500):
        response = client.get("/search", query_string={"q": "停车", "topic": value})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "<script>alert" not in page
        assert "共 4 条" in page, value
        assert "请从列表中选择一项。" in page


def test_search_page_keeps_a_retired_topic_chosen_from_a_facet(client, topical, admin):
    """A retired first-level topic still filters old messages when chosen from a link."""
    taxonomy.set_topic_active(admin, taxonomy.topic_by_path("环境保护"), is_active=False)
    page = client.get(f"/search?q=停车&topic={topic_id('环境保护')}").get_data(as_text=True)
    assert "共 1 条" in page and "请从列表中选择一项。" not in page


def test_api_search_filters_by_topic_id_or_name_and_labels_the_facet(client, topical):
    """`topic` takes the id or the name; the facet rows carry the name as their label."""
    by_id = client.get(f"/api/v1/search?q=停车&topic={topic_id('城乡建设')}").get_json()
    by_name = client.get("/api/v1/search", query_string={"q": "停车", "topic": "城乡建设"})
    assert by_id["total"] == by_name.get_json()["total"] == 2
    facet = client.get("/api/v1/search?q=停车").get_json()["facets"]["topic"]
    assert {"value": topic_id("环境保护"), "count": 1, "label": "环境保护"} in facet


@pytest.mark.parametrize("value", ["999999", "住房保障", XSS, "城" * 300])
def test_api_search_rejects_an_unknown_topic(client, topical, value):
    """Anything that names no first-level topic is a 422 on the `topic` field."""
    response = client.get("/api/v1/search", query_string={"q": "停车", "topic": value})
    assert response.status_code == 422
    assert "topic" in response.get_json()["error"]["fields"]
    assert "<script>" not in response.get_data(as_text=True)


def test_an_index_without_the_topic_field_still_searches(app, topical, monkeypatch, tmp_path):
    """An index built before the field existed answers, without the facet (and nothing for
    the filter), until it is rebuilt."""
    from whoosh.fields import Schema

    old = Schema(**{n: index.SCHEMA[n] for n in index.SCHEMA.names() if n != "topic"})
    monkeypatch.setattr(index, "SCHEMA", old)
    app.config["SEARCH_INDEX_DIR"] = str(tmp_path / "old-index")
    indexer.sync()  # a new, empty index with the old schema, filled from the outbox
    assert "topic" not in index.searcher().schema
    result = search_messages("停车")
    assert result.total == 4 and "topic" not in result.facets
    assert search_messages("停车", filters={"topic": topic_id("城乡建设")}).total == 0


def test_topic_facet_is_the_same_with_both_engines(app, topical):
    """The plain Whoosh engine counts the topic facet as the fast one does."""
    from board.search import engine

    fast = search_messages("停车").facets["topic"]
    app.config["SEARCH_ENGINE"] = "whoosh"
    engine.init_app(app)
    try:
        assert search_messages("停车").facets["topic"] == fast
    finally:
        app.config["SEARCH_ENGINE"] = "fast"
        engine.init_app(app)


def test_staff_correction_page_reindexes(client, topical, coordinator):
    """The coordinator's correction through the page reaches the search facet."""
    login(client, coordinator)
    m = topical["none"]
    response = client.post(f"/m/{m.code}/topic", data={"topic": topic_id("交通运输")})
    assert response.status_code == 302
    db.session.expire_all()
    assert search_messages("停车", filters={"topic": topic_id("交通运输")}).total == 1
