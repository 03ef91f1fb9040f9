"""Retired directory entries where citizens and API users meet them: after a GB/T 2260 merge the
region list says which codes were retired (and can leave them out), and a board of the merged
region sends its writers to the board that succeeded it, keeping whatever they typed."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import T0, board, login
from sqlalchemy import func, select
from webform import compose_fields

from board.admin.services import region_merge
from board.extensions import db
from board.models import Message, Post

DRAFT_BODY = "千岛湖镇的公交站牌被风刮倒已经一个月，雨天候车的老人只能站在路边，希望尽快修复。"
DRAFT = compose_fields(region="330127", title="公交站牌倒了一个月", body=DRAFT_BODY)


@pytest.fixture
def merged(directory, admin):
    """淳安县 (330127) merged into 西湖区 (330106) with the admin service, as an admin would:
    its secretary board stays behind as history, 西湖区委书记 takes its messages."""
    region_merge.merge_region(admin, "330127", into="330106", merged_on=date(2026, 9, 1), now=T0)
    assert board("330127-secretary").region.merged_into_code == "330106"
    return board("330127-secretary")


@pytest.fixture
def orphaned(merged):
    """A board of the merged region with no successor: the survivor has no board for its post
    (here the survivor's secretary board is re-filed as a department board)."""
    board("330106-secretary").post = Post.DEPARTMENT
    db.session.commit()
    return merged


def _count() -> int:
    return db.session.scalar(select(func.count(Message.id)))


def _regions(client, query: str = "") -> dict[str, dict]:
    response = client.get(f"/api/v1/regions?per_page=200{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["total"] == len(body["items"])
    return {item["code"]: item for item in body["items"]}


# ---------------------------------------------------------------------------------------------
# The API's region list


def test_region_json_names_the_merge_and_current_true_leaves_retired_codes_out(client, merged):
    """Every region carries `merged_into` and `merged_on` (null when current); by default the
    list is unchanged (retired codes included), `current=true` keeps only current regions."""
    every = _regions(client)
    assert every["330127"]["merged_into"] == "330106"
    assert every["330127"]["merged_on"] == "2026-09-01"
    assert every["330127"]["parent"] is None
    assert (every["330106"]["merged_into"], every["330106"]["merged_on"]) == (None, None)

    current = _regions(client, "&current=true")
    assert "330127" not in current and "330106" in current
    assert set(current) == {code for code, item in every.items() if item["merged_into"] is None}
    assert _regions(client, "&current=false") == every
    counties = _regions(client, "&current=true&level=county")
    assert "330127" not in counties and {"330106", "330203"} <= set(counties)

    bad = client.get("/api/v1/regions?current=maybe")
    assert bad.status_code == 422
    assert "current" in bad.get_json()["error"]["fields"]


def test_openapi_declares_current_and_the_merge_fields(client, directory):
    """The OpenAPI document lists `current` on /regions as a boolean, and the Region schema
    has the two merge fields."""
    document = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in document["paths"]["/api/v1/regions"]["get"]["parameters"]}
    assert params["current"]["schema"]["type"] == "boolean"
    assert params["current"]["in"] == "query"
    region = document["components"]["schemas"]["Region"]["properties"]
    assert {"merged_into", "merged_on"} <= set(region)


# ---------------------------------------------------------------------------------------------
# Writing to a board of a merged region


def test_compose_for_a_merged_boards_goes_to_its_successor_and_says_why(client, citizen, merged):
    """GET /write for the old board redirects to the board that succeeded it, with a flash
    naming both (in Chinese, and in English for an English reader); no form for the old one."""
    login(client, citizen)

    response = client.get("/write?board=330127-secretary&region=330127")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "board=330106-secretary" in location and "region=330106" in location
    page = client.get(location).get_data(as_text=True)
    assert "淳安县已并入浙江省杭州市西湖区" in page and "不再接收留言" in page
    assert 'action="/write?board=330106-secretary"' in page

    client.set_cookie("lang", "en")
    english = client.get("/write?board=330127-secretary", follow_redirects=True)
    text = english.get_data(as_text=True)
    assert english.status_code == 200
    assert "no longer takes messages" in text and "Please write to" in text


def test_compose_for_a_board_with_no_successor_explains_and_offers_the_chooser(
    client, citizen, orphaned
):
    """With no board to go to, the writer is sent to the board chooser where the region lives
    now, with the explanation in Chinese or English."""
    login(client, citizen)

    response = client.get("/write?board=330127-secretary")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/write?region=330106")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已并入其他区划" in page and "请另选留言对象" in page

    client.set_cookie("lang", "en")
    english = client.get("/write?board=330127-secretary", follow_redirects=True)
    assert "has been merged into another region" in english.get_data(as_text=True)


def test_a_draft_posted_to_a_merged_board_is_shown_again_for_the_successor(client, citizen, merged):
    """A draft written before the merge and posted after it is not filed to the old board nor
    lost: the form comes back, addressed to the successor, with the text and the explanation;
    submitting it again files it there."""
    login(client, citizen)

    response = client.post("/write?board=330127-secretary", data=DRAFT)
    page = response.get_data(as_text=True)

    assert response.status_code == 409
    assert _count() == 0
    assert DRAFT_BODY in page and "公交站牌倒了一个月" in page
    assert "不再接收留言" in page and "您填写的内容保留在下方" in page
    assert 'action="/write?board=330106-secretary"' in page
    assert '<option selected value="330106">' in page

    filed = client.post("/write?board=330106-secretary", data={**DRAFT, "region": "330106"})
    assert filed.status_code == 302
    message = db.session.scalar(select(Message))
    assert message.board.code == "330106-secretary" and message.body == DRAFT_BODY


def test_a_draft_posted_to_a_board_with_no_successor_keeps_its_text(client, citizen, orphaned):
    """No successor: the draft is shown again with the explanation and a way to the chooser;
    nothing is filed."""
    login(client, citizen)

    response = client.post("/write?board=330127-secretary", data=DRAFT)
    page = response.get_data(as_text=True)

    assert response.status_code == 409
    assert _count() == 0
    assert DRAFT_BODY in page and "请另选留言对象" in page
    assert 'href="/write?region=330106"' in page


def test_the_board_chooser_search_leaves_out_a_merged_regions_boards(client, citizen, merged):
    """Searching the chooser for the old county finds no board of it to write to."""
    login(client, citizen)

    page = client.get("/write?q=淳安").get_data(as_text=True)

    assert "330127-secretary" not in page
    assert "330106-secretary" in client.get("/write?q=西湖").get_data(as_text=True)
