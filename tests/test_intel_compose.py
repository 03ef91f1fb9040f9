"""The citizen chooses a topic on the compose form: a plain select grouped by first level that
works without JavaScript, pre-selected from the suggestion on the preview, kept as chosen by the
citizen; unknown, retired and hostile values are refused."""

from __future__ import annotations

import pytest
from conftest import login
from sqlalchemy import func, select
from test_intel_suggest import _install_tiny_model

from board.extensions import db
from board.intel import taxonomy
from board.intel.models import TopicSource
from board.models import Message

TREE = [
    ("城乡建设", "物业管理", "物业服务"),
    ("城乡建设", "住房保障", "廉租房"),
    ("交通运输", "公共交通", "公交线路"),
    ("卫生计生",),
]
WRITE = "/write?board=330100-secretary"


def _form(**extra) -> dict:
    return {
        "track": "board",
        "kind": "complaint",
        "domain": "urban",
        "region": "330106",
        "title": "小区物业乱收停车费",
        "body": "我们小区物业今年起每月多收停车费两百元，业主多次反映无果。",
        "wants_public": "y",
        **extra,
    }


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def test_the_topic_select_is_grouped_by_first_level_and_optional(app, client, citizen):
    taxonomy.load_taxonomy(TREE)
    retired = taxonomy.topic_by_path("城乡建设/住房保障")
    retired.is_active = False
    taxonomy.topic_by_path("城乡建设/住房保障/廉租房").is_active = False
    db.session.commit()
    login(client, citizen)
    page = client.get(WRITE).get_data(as_text=True)
    assert 'name="topic"' in page and "不确定，由工作人员分类" in page
    assert '<optgroup label="城乡建设">' in page and '<optgroup label="交通运输">' in page
    assert 'data-path="城乡建设/物业管理/物业服务"' in page and "物业管理 / 物业服务" in page
    assert "卫生计生（综合）" in page
    assert "住房保障" not in page  # retired topics are not offered
    # The script only pre-selects; the page names it as an external file (CSP: script-src 'self').
    assert "js/compose-topic.js" in page and "data-suggest-url=" in page
    assert client.get("/static/js/compose-topic.js").status_code == 200


def test_submitted_topic_is_kept_as_chosen_by_the_citizen(app, client, citizen):
    taxonomy.load_taxonomy(TREE)
    leaf = taxonomy.topic_by_path("交通运输/公共交通/公交线路")
    login(client, citizen)
    response = client.post(WRITE, data=_form(topic=str(leaf.id), submit="x"))
    assert response.status_code == 302
    message = db.session.scalar(select(Message).order_by(Message.id.desc()))
    assert message.topic_id == leaf.id and message.topic_source == TopicSource.CITIZEN


def test_no_topic_leaves_it_to_staff(app, client, citizen):
    taxonomy.load_taxonomy(TREE)
    login(client, citizen)
    assert client.post(WRITE, data=_form(topic="", submit="x")).status_code == 302
    message = db.session.scalar(select(Message).order_by(Message.id.desc()))
    assert message.topic_id is None and message.topic_source is None


@pytest.mark.parametrize(
    "value", ["999999", "99999999999999999999", "-1", "abc", "<script>alert(1)</script>", "1.5"]
)
def test_unknown_or_hostile_topics_are_refused_without_filing(app, client, citizen, value):
    taxonomy.load_taxonomy(TREE)
    login(client, citizen)
    before = _count()
    response = client.post(WRITE, data=_form(topic=value, submit="x"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请从列表中选择主题分类。" in page and "<script>alert(1)</script>" not in page
    assert _count() == before


def test_a_retired_topic_is_refused(app, client, citizen):
    taxonomy.load_taxonomy(TREE)
    leaf = taxonomy.topic_by_path("城乡建设/住房保障/廉租房")
    leaf.is_active = False
    db.session.commit()
    login(client, citizen)
    response = client.post(WRITE, data=_form(topic=str(leaf.id), submit="x"))
    assert response.status_code == 422 and _count() == 0


def test_preview_preselects_the_suggested_topic_and_keeps_a_choice(app, client, citizen):
    """Without JavaScript: the preview selects what the model suggests (narrowed to the node the
    text names) when nothing was chosen, and never overrides the citizen's own choice."""
    taxonomy.load_taxonomy(TREE)
    _install_tiny_model(app)
    login(client, citizen)
    page = client.post(WRITE, data=_form(preview="x")).get_data(as_text=True)
    root = taxonomy.topic_by_path("城乡建设")
    assert f'<option data-path="城乡建设" selected value="{root.id}">' in page
    assert "已在下方“主题分类”中预选了系统判断的分类" in page
    body = "小区物业服务很差，物业今年起每月多收停车费两百元，业主多次反映无果。"
    page = client.post(WRITE, data=_form(preview="x", body=body)).get_data(as_text=True)
    suggested = taxonomy.topic_by_path("城乡建设/物业管理/物业服务")
    assert f'<option data-path="{suggested.path}" selected value="{suggested.id}">' in page
    assert "已在下方“主题分类”中预选了系统判断的分类" in page
    bus = taxonomy.topic_by_path("交通运输/公共交通/公交线路")
    page = client.post(WRITE, data=_form(preview="x", topic=str(bus.id))).get_data(as_text=True)
    assert f'selected value="{bus.id}"' in page and "预选了系统判断的分类" not in page


def test_the_api_takes_a_topic_path_as_chosen_by_the_citizen(app, client, citizen):
    """POST /api/v1/messages: `topic` is a path from the first level; unknown or retired paths
    and hostile strings are a 422 on the field, and nothing is filed."""
    from test_api import SUBMISSION, bearer

    taxonomy.load_taxonomy(TREE)
    auth = bearer(citizen)
    created = client.post(
        "/api/v1/messages", json={**SUBMISSION, "topic": "交通运输/公共交通"}, headers=auth
    )
    assert created.status_code == 201, created.get_json()
    message = db.session.scalar(select(Message).where(Message.code == created.get_json()["code"]))
    assert message.topic_id == taxonomy.topic_by_path("交通运输/公共交通").id
    assert message.topic_source == TopicSource.CITIZEN
    leaf = taxonomy.topic_by_path("城乡建设/住房保障/廉租房")
    leaf.is_active = False
    db.session.commit()
    before = _count()
    bads = ("城乡建设/住房保障/廉租房", "不存在", "<script>alert(1)</script>", "交" * 161, 7)
    for n, bad in enumerate(bads):
        # The test keeps one app context (and `g`): each try names its own idempotency key.
        headers = {**auth, "Idempotency-Key": f"topic-{n}"}
        refused = client.post(
            "/api/v1/messages", json={**SUBMISSION, "topic": bad}, headers=headers
        )
        assert refused.status_code == 422, (bad, refused.get_json())
        assert "topic" in refused.get_json()["error"]["fields"]
    assert _count() == before
