"""Statistics by first-level topic: counted over the public cases of a scope, a topic below the
first level counting for its first level; on the report page and in GET /api/v1/stats."""

from __future__ import annotations

from board.extensions import db
from board.intel import taxonomy
from board.intel.models import TopicSource
from board.models import Region
from board.stats import services as stats
from board.stats.topics import by_topic

TREE = [("城乡建设", "物业管理", "物业服务"), ("城乡建设", "住房保障", "廉租房"), ("交通运输",)]


def _world(make_message):
    taxonomy.load_taxonomy(TREE)
    topics = {path: taxonomy.topic_by_path(path) for path in (
        "城乡建设/物业管理/物业服务", "城乡建设/住房保障", "交通运输")}  # fmt: skip
    made = [
        (make_message("replied"), "城乡建设/物业管理/物业服务"),
        (make_message("assigned"), "城乡建设/住房保障"),
        (make_message("replied"), "交通运输"),
        (make_message("assigned"), None),
    ]
    for message, path in made:
        if path:
            taxonomy.apply_topic(message, topics[path], TopicSource.STAFF)
    db.session.commit()
    return made


def test_counts_and_reply_rates_by_first_level(app, make_message):
    _world(make_message)
    rows = by_topic(stats.Scope())
    assert [(r.topic, r.cases, r.replied) for r in rows] == [
        ("城乡建设", 2, 1),
        ("交通运输", 1, 1),
        (None, 1, 0),
    ]
    assert rows[0].reply_rate.value == 0.5
    # Another region's scope has none of them.
    assert by_topic(stats.Scope(region=db.session.get(Region, "440000"))) == []


def test_report_page_and_api_show_the_topics(app, client, make_message):
    _world(make_message)
    page = client.get("/reports?region=330000&period=2026").get_data(as_text=True)
    assert 'id="topic-table"' in page and "城乡建设" in page and "未分类" in page
    data = client.get("/api/v1/stats?region=330000").get_json()
    assert data["topics"][0]["topic"] == "城乡建设" and data["topics"][0]["cases"] == 2
    assert data["topics"][0]["reply_rate"]["value"] == 0.5
    assert data["topics"][-1]["topic"] is None
    # Grouped rankings answer without topics (one scope's topics only).
    assert "topics" not in client.get("/api/v1/stats?group_by=board").get_json()


def test_report_topic_table_is_english_on_english_pages(app, client, make_message):
    """In English the table names the standard topics in English (the API keeps the Chinese
    names, which identify them)."""
    _world(make_message)
    client.set_cookie("lang", "en")
    page = client.get("/reports?region=330000&period=2026").get_data(as_text=True)
    table = page.split('id="topic-table"', 1)[1].split("</table>", 1)[0]
    assert '<th scope="row">Urban and rural development</th>' in table
    assert '<th scope="row">Transport</th>' in table and "No topic" in table
    assert "城乡建设" not in table
    assert client.get("/api/v1/stats?region=330000").get_json()["topics"][0]["topic"] == "城乡建设"
