"""The topic taxonomy: loaded from the label table, edited by admins, set on messages by staff."""

from __future__ import annotations

from conftest import T0, login
from sqlalchemy import select

from board.extensions import db
from board.intel import taxonomy
from board.intel.models import Topic, TopicSource
from board.models import Event

ROWS = [
    ("城乡建设", "住房保障", "经济适用住房"),
    ("城乡建设", "住房保障", "廉租房"),
    ("城乡建设", "物业管理", "物业服务"),
    ("环境保护", "环保执法", "噪声污染"),
    ("交通运输",),
]


def _load() -> None:
    """The small tree above, through the loader."""
    taxonomy.load_taxonomy(ROWS)


def test_loader_builds_three_levels_once(app, tmp_path, runner):
    """Rows become a tree with paths from the first level down; loading again adds nothing."""
    table = tmp_path / "labels.csv"
    table.write_text(
        "一级分类,二级分类,三级分类\n" + "\n".join(",".join(r) for r in ROWS), encoding="utf-8"
    )
    result = runner.invoke(args=["suggest", "taxonomy", str(table)])
    assert result.exit_code == 0, result.output
    assert "topics: 10 added from 5 rows" in result.output
    assert runner.invoke(args=["suggest", "taxonomy", str(table)]).output.startswith(
        "topics: 0 added"
    )
    leaf = taxonomy.topic_by_path("城乡建设/住房保障/廉租房")
    assert leaf.level == 3 and leaf.parent.name == "住房保障" and leaf.root_name == "城乡建设"
    assert [t.name for t in taxonomy.topic_tree()] == ["城乡建设", "环境保护", "交通运输"]
    assert [c.name for c in taxonomy.topic_tree()[0].children] == ["住房保障", "物业管理"]


def test_admin_adds_renames_and_retires_topics(app, admin, client):
    """An admin edits the tree; a rename carries the paths below it, retiring hides it below."""
    _load()
    login(client, admin)
    assert "住房保障" in client.get("/admin/topics").get_data(as_text=True)
    parent = taxonomy.topic_by_path("城乡建设/住房保障")
    response = client.post("/admin/topics", data={"name": "公租房", "parent_id": parent.id})
    assert response.status_code == 302
    assert taxonomy.topic_by_path("城乡建设/住房保障/公租房").level == 3
    response = client.post(f"/admin/topics/{parent.id}", data={"name": "住房"})
    assert response.status_code == 302
    assert taxonomy.topic_by_path("城乡建设/住房/廉租房") is not None
    assert taxonomy.topic_by_path("城乡建设/住房保障/廉租房") is None
    response = client.post(f"/admin/topics/{parent.id}/active", data={"is_active": "0"})
    assert response.status_code == 302
    assert not taxonomy.topic_by_path("城乡建设/住房/廉租房").is_active
    assert "城乡建设/住房/廉租房" not in {c.label for c in taxonomy.active_topic_choices()}


def test_topic_names_are_checked(app, admin, client):
    """A fourth level, a duplicate, a slash or an overlong name is a 422 with the reason."""
    _load()
    login(client, admin)
    leaf = taxonomy.topic_by_path("城乡建设/住房保障/廉租房")
    for data in (
        {"name": "第四级", "parent_id": leaf.id},
        {"name": "城乡建设"},
        {"name": "a/b"},
        {"name": "长" * 41},
    ):
        response = client.post("/admin/topics", data=data)
        assert response.status_code == 422, data
        assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Topic).where(Topic.name == "第四级")) is None


def test_staff_correction_is_recorded_as_such(app, make_message, coordinator, client):
    """The coordinator corrects a topic: the message says staff set it, an internal event says so."""
    _load()
    m = make_message("assigned")
    topic = taxonomy.topic_by_path("城乡建设/物业管理/物业服务")
    login(client, coordinator)
    response = client.post(f"/m/{m.code}/topic", data={"topic": topic.id})
    assert response.status_code == 302
    db.session.refresh(m)
    assert m.topic_id == topic.id and m.topic_source == TopicSource.STAFF
    event = db.session.scalars(select(Event).where(Event.action == "topic")).one()
    assert event.note == "城乡建设/物业管理/物业服务" and not event.is_public


def test_citizen_cannot_correct_a_topic(app, make_message, citizen, client):
    """Readers who are not on the case are refused; a retired topic cannot be chosen."""
    _load()
    m = make_message("assigned")
    topic = taxonomy.topic_by_path("环境保护/环保执法/噪声污染")
    login(client, citizen)
    assert client.post(f"/m/{m.code}/topic", data={"topic": topic.id}).status_code == 403
    db.session.refresh(m)
    assert m.topic_id is None


def test_retired_topic_is_refused(app, make_message, moderator):
    """Staff cannot give a message a topic that was retired."""
    _load()
    m = make_message("received")
    topic = taxonomy.topic_by_path("交通运输")
    topic.is_active = False
    db.session.commit()
    try:
        taxonomy.correct_topic(m, topic, moderator, now=T0)
    except taxonomy.ValidationFailed as error:
        assert "topic" in error.fields
    else:
        raise AssertionError("a retired topic was accepted")


def test_staff_see_the_topic_panel_with_likely_duplicates(
    app, make_message, coordinator, citizen, client
):
    """The coordinator's message page has the topic form, the author's other messages on the
    board and similar public messages; the citizen's page has none of it."""
    _load()
    earlier = make_message(
        "replied", title="小区物业乱收停车费", body="物业多收停车费两百元，业主多次反映。"
    )
    m = make_message(
        "received", title="物业又乱收停车费", body="物业还在多收停车费，业主多次反映无果。"
    )
    login(client, coordinator)
    page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "更正主题分类" in page and "城乡建设/物业管理/物业服务" in page
    assert "同一留言人的其他留言" in page and earlier.code in page
    assert "相似的公开留言" in page
    other = app.test_client()
    login(other, citizen)
    assert "更正主题分类" not in other.get(f"/m/{m.code}").get_data(as_text=True)
