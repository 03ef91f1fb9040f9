"""Staff search (/desk/search): each staff member searches their own scope in the database —
private cases and internal notes included — never another unit's, never through the public
index, and never confirming what the searcher is only shown masked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0, login, unit, world_messages
from hypothesis import given
from test_hostile_input import HEAVY, TEXT, not_5xx

from board.casesearch import services as staff
from board.errors import PermissionDenied
from board.messages import services as msg
from board.models import Role

REPORT_BODY = "某局工作人员王检举的邻居收受好处费，请联系 13700001111 核实，本人愿意作证。"


@pytest.fixture
def other_handler(make_user, directory):
    """A handler at 杭州市交通运输局 (another unit on the same board)."""
    return make_user(Role.HANDLER, unit_code="330100-jt")


@pytest.fixture
def cases(database, make_message, coordinator, other_handler, tmp_path_factory):
    """Private and public cases: two with the same words in two units, one report (built once
    per process and database, then restored: `world_messages`)."""
    return world_messages(
        "staff-cases", database, tmp_path_factory, lambda: _cases(make_message, coordinator)
    )


def _cases(make_message, coordinator) -> dict:
    mine = make_message(
        "assigned", wants_public=False, title="施工噪音扰民", private_note="联系人 张大山",
        body="夜间施工噪音严重，影响休息，请住建局查处。",
    )  # fmt: skip
    theirs = make_message(
        "received", wants_public=False, title="公交站施工噪音",
        body="公交站改造夜间施工噪音很大，请交通局协调。",
    )  # fmt: skip
    msg.assign_message(theirs, unit("330100-jt"), coordinator, now=T0 + timedelta(hours=2))
    public = make_message("assigned", title="小区物业乱收停车费")
    report = make_message(
        "assigned", track="petition", kind="report", title="反映工作人员收受好处",
        body=REPORT_BODY, real_name="王检举", phone="13700001111",
        address="杭州市西湖区某路 8 号", private_note="举报人担心被报复",
    )  # fmt: skip
    return {"mine": mine, "theirs": theirs, "public": public, "report": report}


def codes(user, q: str) -> set[str]:
    """Codes of every case `user` finds with `q` (all pages)."""
    found: set[str] = set()
    page = 1
    while True:
        result = staff.search_cases(user, q, page=page)
        found |= {h.message.code for h in result.hits}
        if page >= result.pages:
            return found
        page += 1


def test_handler_never_sees_another_units_private_case(cases, handler, other_handler):
    """The same words in two units' private cases: each handler finds only their own."""
    assert codes(handler, "施工噪音") == {cases["mine"].code}
    assert codes(other_handler, "施工噪音") == {cases["theirs"].code}
    assert codes(handler, cases["theirs"].code) == set()
    assert codes(handler, "公交站") == set()


def test_coordinator_and_moderator_scopes(cases, coordinator, moderator, make_user):
    """The board's coordinator sees all its cases; another board's coordinator none; moderators all."""
    everything = {cases["mine"].code, cases["theirs"].code}
    assert codes(coordinator, "施工噪音") == everything
    assert codes(moderator, "施工噪音") == everything
    stranger = make_user(Role.COORDINATOR, unit_code="440100-secretary-office")
    assert codes(stranger, "施工噪音") == set()
    assert codes(stranger, "物业") == set()  # public cases outside the scope are not listed


def test_citizen_gets_403_and_visitor_the_login_page(client, cases, troll, citizen):
    """Only staff search cases: citizens (even authors) are refused, visitors asked to sign in."""
    response = client.get("/desk/search?q=施工")
    assert response.status_code == 302 and "/login" in response.location
    login(client, citizen)
    assert client.get("/desk/search?q=施工").status_code == 403
    with pytest.raises(PermissionDenied):
        staff.search_cases(troll, "施工")


def test_internal_notes_replies_and_private_note_are_searched(
    cases, handler, coordinator, other_handler
):
    """An urge note (private event), a draft reply and the private note are found by the unit."""
    mine = cases["mine"]
    msg.urge_message(mine, coordinator, note="请于周五前答复督办事项", now=T0 + timedelta(days=1))
    msg.accept_message(mine, handler, now=T0 + timedelta(days=1))
    msg.reply_message(mine, handler, body="已联系施工方调整作业时间。", now=T0 + timedelta(days=2))
    assert codes(handler, "督办事项") == {mine.code}
    assert codes(handler, "调整作业时间") == {mine.code}
    assert codes(handler, "张大山") == {mine.code}
    assert codes(other_handler, "督办事项") == set()


def test_report_identity_is_not_searchable_by_the_routing_side(
    cases, handler, coordinator, moderator
):
    """A 检举控告's reporter: the moderator finds them by name or phone; the unit and the
    office cannot even confirm them — the body they read is masked."""
    report = cases["report"]
    for secret in ("王检举", "13700001111", "举报人担心", "西湖区某路"):
        assert codes(moderator, secret) == {report.code}, secret
        assert codes(handler, secret) == set(), secret
        assert codes(coordinator, secret) == set(), secret
    # Exclusions cannot confirm them either: excluding the name keeps the report listed.
    assert report.code in codes(handler, "好处费 -王检举")
    (hit,) = staff.search_cases(handler, "好处费").hits
    assert "王检举" not in hit.snippet and "13700001111" not in hit.snippet
    assert "<mark>好处费</mark>" in hit.snippet
    (hit,) = staff.search_cases(moderator, "好处费").hits
    assert "13700001111" in hit.snippet


def test_query_language_words_phrases_or_exclusion_and_fields(cases, coordinator):
    """Segmented Chinese words, "phrases", OR, -exclusion, field:value and tracking codes."""
    mine, theirs, public = cases["mine"], cases["theirs"], cases["public"]
    # 物业停车 is not in the text as typed; its words are (小区物业乱收停车费).
    assert codes(coordinator, "物业停车") == {public.code}
    assert codes(coordinator, '"物业停车"') == set()
    assert codes(coordinator, '"乱收停车费"') == {public.code}
    assert codes(coordinator, "扰民 OR 公交站") == {mine.code, theirs.code}
    assert codes(coordinator, "施工噪音 -公交站") == {mine.code}
    assert codes(coordinator, "噪音 visibility:private") == {mine.code, theirs.code}
    assert codes(coordinator, "unit:330100-jt") == {theirs.code}
    assert codes(coordinator, "state:assigned kind:complaint 施工") == {mine.code, theirs.code}
    assert codes(coordinator, "state:nonsense 施工") == set()
    assert codes(coordinator, mine.code.lower()) == {mine.code}
    assert codes(coordinator, "100%_") == set()  # LIKE wildcards are literal


def test_results_are_paginated_newest_change_first(make_message, handler, coordinator):
    """25 matching cases: 20 on page 1, 5 on page 2, the most recently changed first."""
    made = [
        make_message("assigned", title=f"路灯不亮第{i}处", now=T0 + timedelta(minutes=i))
        for i in range(25)
    ]
    first = staff.search_cases(handler, "路灯")
    assert first.total == 25 and first.pages == 2 and len(first.hits) == 20
    assert first.hits[0].message.code == made[-1].code
    second = staff.search_cases(handler, "路灯", page=2)
    assert len(second.hits) == 5
    assert {h.message.code for h in first.hits + second.hits} == {m.code for m in made}


def test_search_page_for_staff_in_both_languages(client, cases, handler):
    """The page lists the handler's case with a desk link, marked private; English on request."""
    login(client, handler)
    response = client.get("/desk/search?q=施工噪音")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert f"/desk/m/{cases['mine'].code}" in html and cases["theirs"].code not in html
    assert "不公开" in html and "<mark>" in html
    client.get("/lang/en?next=/")
    english = client.get("/desk/search?q=施工噪音").get_data(as_text=True)
    assert "Case search" in english and "Search syntax" in english
    # The case's unit by its English name (杭州市住房和城乡建设局), not the Chinese one.
    meta = english.split('<p class="meta">', 1)[1].split("</p>", 1)[0]
    assert unit("330100-zj").name not in meta and "Hangzhou" in meta


@HEAVY
@given(q=TEXT, page=TEXT)
def test_staff_search_never_500(app, handler, q, page):
    """Hostile queries and page numbers: never a 500."""
    client = app.test_client()
    login(client, handler)
    not_5xx(client.get("/desk/search", query_string={"q": q, "page": page}))


def test_whole_words_rank_first_and_full_width_text_is_found(make_message, handler):
    """A case holding the word as typed comes before one holding only its segments; text typed
    with full-width digits is found as typed."""
    apart = make_message(
        "assigned",
        title="停车位不够",
        body="小区物业说要收费才给停车位。",
        now=T0 + timedelta(hours=1),
    )
    whole = make_message(
        "assigned", title="乱收停车费", body="物业停车收费不公示，业主很有意见。", now=T0
    )
    assert [h.message.code for h in staff.search_cases(handler, "物业停车").hits] == [
        whole.code,
        apart.code,
    ]
    wide = make_message(
        "assigned", title="１２号楼电梯坏了", body="电梯停运一周，老人上下楼很困难。"
    )
    assert codes(handler, "１２号楼") == {wide.code}
