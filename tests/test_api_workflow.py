"""The complete workflow through the JSON API: every new action, its body and its answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0
from jsonschema import Draft202012Validator

from board.auth.services import issue_token
from board.clock import utcnow
from board.extensions import db
from board.models import Role, State

PETITION = {
    "track": "petition",
    "kind": "claim",
    "real_name": "陈明亮",
    "phone": "13912345678",
    "address": "杭州市西湖区文三路 1 号",
}
BODY = "经核查，相关问题已经责成有关部门处理完毕，请知悉。"
# A valid body for every action but cosign (which any other signed-in user may do).
VALID = {
    "approve": {},
    "reject": {"reason": "unclear"},
    "hide": {"reason": "privacy_leak"},
    "assign": {"unit": "330100-zj"},
    "accept": {},
    "not_accept": {"reason": "court_or_arbitration"},
    "return": {"reason": "not_our_duty"},
    "approve_request": {"request": 1},
    "decline_request": {"request": 1, "note": "属于本单位职责"},
    "transfer": {"unit": "330106-zj"},
    "extend": {"reason": "需要多个部门协调核查"},
    "interim": {"body": BODY},
    "reply": {"body": BODY},
    "sign_off": {},
    "decline_sign_off": {"note": "请补充"},
    "urge": {"note": "请尽快办理"},
    "rate": {"resolution": 5, "attitude": 5, "speed": 5},
    "follow_up": {"body": "请问退费什么时候到账？"},
    "reopen": {"note": "重新办理"},
    "request_review": {"body": "答复没有回应我的诉求，请求复查。"},
    "decide_review": {"body": BODY, "outcome": "explained"},
    "request_rereview": {"body": "复查意见仍未回应诉求，请求复核。"},
    "hearing": {"days": 5},
    "decide_rereview": {"body": BODY, "outcome": "explained"},
    "refuse_repeat": {"earlier": "MS-2026-ZZZZZZ"},
    "withdraw": {},
}


@pytest.fixture
def api(app, client, make_user, citizen, troll, handler, coordinator, admin):
    """`call(user, message, action, body)` → (status, JSON), checked against the document."""
    document = client.get("/api/v1/openapi.json").get_json()
    message_schema = Draft202012Validator(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": "#/components/schemas/Message",
            "components": document["components"],
        }
    )
    tokens: dict[int, str] = {}

    def headers(user) -> dict:
        if user is None:
            return {}
        if user.id not in tokens:
            tokens[user.id] = issue_token(user, name="test", now=T0)
        return {"Authorization": f"Bearer {tokens[user.id]}"}

    def call(user, message, action: str, body: dict | None = None):
        response = client.post(
            f"/api/v1/messages/{message.code}/actions/{action}",
            json=body or {},
            headers=headers(user),
        )
        data = response.get_json()
        if response.status_code == 200:
            errors = [e.message for e in message_schema.iter_errors(data)]
            assert not errors, errors
        db.session.expire_all()
        return response.status_code, data

    def get(user, message) -> dict:
        data = client.get(f"/api/v1/messages/{message.code}", headers=headers(user)).get_json()
        assert not [e.message for e in message_schema.iter_errors(data)]
        return data

    call.get = get
    call.reviewer = make_user(Role.COORDINATOR, unit_code="330000-secretary-office")
    return call


def test_reply_sign_off_follow_up_and_reopen(api, make_message, citizen, handler, coordinator):
    """Board track: reply waits for sign-off, the author follows up, rates, the board reopens."""
    m = make_message("in_progress")
    status, data = api(handler, m, "reply", {"body": BODY})
    assert status == 200 and data["state"] == State.IN_PROGRESS
    assert [r["state"] for r in data["replies"]] == ["awaiting_signoff"]
    assert api.get(None, m)["replies"] == []
    assert api(handler, m, "sign_off")[0] == 403
    assert api(coordinator, m, "decline_sign_off", {})[0] == 422
    status, data = api(coordinator, m, "decline_sign_off", {"note": "请写明退费时间"})
    assert status == 200 and data["replies"][0]["state"] == "draft"
    assert api(coordinator, m, "sign_off")[0] == 409  # nothing awaits sign-off
    api(handler, m, "reply", {"body": BODY + "本月底前退还。"})
    status, data = api(coordinator, m, "sign_off")
    assert (status, data["state"]) == (200, State.REPLIED)
    public = api.get(None, m)
    assert [r["body"] for r in public["replies"]] == [BODY + "本月底前退还。"]
    assert "reply" not in [e["action"] for e in public["events"]]
    assert "pending_request" not in public

    assert api(citizen, m, "follow_up", {"body": "短"})[0] == 422
    assert api(citizen, m, "follow_up", {"body": "问" * 501})[0] == 422
    status, data = api(citizen, m, "follow_up", {"body": "请问退费什么时候到账？"})
    assert (status, data["state"], data["handling_round"]) == (200, State.IN_PROGRESS, 2)
    api(handler, m, "reply", {"body": BODY})
    api(coordinator, m, "sign_off")
    status, data = api(citizen, m, "rate", {"resolution": 1, "attitude": 2, "speed": 1})
    assert (status, data["state"]) == (200, State.CLOSED)
    assert [r["round"] for r in data["ratings"]] == [2] and data["rating"]["round"] == 2
    assert api(coordinator, m, "reopen", {})[0] == 422
    status, data = api(coordinator, m, "reopen", {"note": "留言人不满意，重新办理"})
    assert (status, data["state"], data["handling_round"]) == (200, State.REOPENED, 3)
    assert api(coordinator, m, "reopen", {"note": "再来一次"})[0] == 409


def test_return_and_extension_requests_are_decided_by_id(api, make_message, handler, coordinator):
    """Staff see the pending request's id in the message JSON and decide it with that id."""
    recently = utcnow() - timedelta(hours=4)  # the API acts now: the return window is open
    m = make_message("assigned", now=recently)
    status, data = api(handler, m, "return", {"reason": "not_our_duty", "note": "属交通部门"})
    assert status == 200
    pending = data["pending_request"]
    assert (pending["kind"], pending["reason_code"]) == ("return", "return:not_our_duty")
    assert "pending_request" not in api.get(m.author, m)  # staff only
    assert api(handler, m, "approve_request", {"request": pending["id"]})[0] == 403
    assert api(coordinator, m, "approve_request", {"request": pending["id"] + 99})[0] == 422
    assert api(coordinator, m, "approve_request", {"request": 2**40})[0] == 422
    status, data = api(coordinator, m, "approve_request", {"request": pending["id"]})
    assert (status, data["state"], data["unit"], data["pending_request"]) == (
        200,
        State.RECEIVED,
        None,
        None,
    )

    m = make_message("in_progress", now=recently)
    before = next(d for d in api.get(handler, m)["deadlines"] if d["policy"] == "board_reply_long")
    assert api(handler, m, "extend", {"reason": "忙"})[0] == 422
    status, data = api(handler, m, "extend", {"reason": "需要多个部门协调核查"})
    request_id = data["pending_request"]["id"]
    status, data = api(coordinator, m, "decline_request", {"request": request_id, "note": "不同意"})
    assert status == 200 and data["pending_request"] is None
    assert data["events"][-1]["action"] == "extension_declined"
    _, data = api(handler, m, "extend", {"reason": "仍需现场勘查"})
    status, data = api(
        coordinator, m, "approve_request", {"request": data["pending_request"]["id"]}
    )
    deadline = next(d for d in data["deadlines"] if d["policy"] == "board_reply_long")
    assert status == 200 and deadline["due_on"] > before["due_on"]
    assert any(line.startswith("延期：15 个工作日") for line in deadline["explanation"])
    assert api(handler, m, "extend", {"reason": "还要再延期"})[0] == 409


def test_transfer_interim_and_urge(api, make_message, handler, coordinator):
    """转办 to a unit code, 阶段性答复 published, 督办 private."""
    m = make_message("in_progress")
    status, data = api(handler, m, "interim", {"body": BODY})
    assert status == 200 and data["replies"][0]["is_interim"] is True
    status, data = api(coordinator, m, "urge", {"note": "请本周内答复"})
    assert status == 200 and data["events"][-1]["is_public"] is False
    assert "urge" not in [e["action"] for e in api.get(None, m)["events"]]
    assert api(coordinator, m, "transfer", {"unit": "nowhere"})[0] == 422
    status, data = api(coordinator, m, "transfer", {"unit": "330106-zj", "note": "属地办理"})
    assert (status, data["state"], data["unit"]) == (200, State.ASSIGNED, "330106-zj")


def test_petition_review_path_through_the_api(api, make_message, citizen, handler, admin):
    """不予受理 → 复查 → 复查意见 → 复核 → 听证 → 复核意见, each through its action."""
    m = make_message("assigned", **PETITION)
    status, data = api(handler, m, "not_accept", {"reason": "court_or_arbitration"})
    assert (status, data["state"]) == (200, State.NOT_ACCEPTED)
    assert api(citizen, m, "request_review", {})[0] == 422
    status, data = api(citizen, m, "request_review", {"body": "不予受理没有依据，请求复查。"})
    assert (status, data["state"], data["review_unit"]) == (
        200,
        State.REVIEW_REQUESTED,
        "330000-secretary-office",
    )
    reviewer = api.reviewer
    assert api(handler, m, "decide_review", {"body": BODY, "outcome": "supported"})[0] == 403
    assert api(reviewer, m, "decide_review", {"body": BODY})[0] == 422
    status, data = api(reviewer, m, "decide_review", {"body": BODY, "outcome": "supported"})
    assert (status, data["state"], data["replies"][-1]["outcome"]) == (
        200,
        State.REVIEWED,
        "supported",
    )
    status, data = api(citizen, m, "request_rereview", {"body": "复查意见仍未回应诉求，请求复核。"})
    assert (status, data["state"]) == (200, State.REREVIEW_REQUESTED)
    assert api(reviewer, m, "hearing", {"days": 0})[0] == 422
    assert api(reviewer, m, "hearing", {"days": "10"})[0] == 422
    status, data = api(reviewer, m, "hearing", {"days": 10, "note": "组织听证"})
    assert status == 200 and data["events"][-1]["action"] == "hearing"
    status, data = api(admin, m, "decide_rereview", {"body": BODY, "outcome": "not_supported"})
    assert (status, data["state"]) == (200, State.REREVIEWED)

    repeat = make_message("received", **PETITION)
    assert api(admin, repeat, "refuse_repeat", {"earlier": "MS-2026-ZZZZZZ"})[0] == 422
    status, data = api(admin, repeat, "refuse_repeat", {"earlier": m.code})
    assert (status, data["state"]) == (200, State.NOT_ACCEPTED)
    assert m.code in data["events"][-1]["note"]


def test_every_action_refuses_strangers_and_wrong_states(api, make_message, troll, handler):
    """A citizen who is not the author gets 403 on a public message; the right role at the wrong
    moment gets 409; nothing answers 500."""
    from board.api.actions import ACTIONS

    m = make_message("received")
    assert set(VALID) == set(ACTIONS) - {"cosign"}
    for name, body in VALID.items():
        status, data = api(troll, m, name, body)
        assert (status, data["error"]["code"]) == (403, "forbidden"), (name, data)
    assert api(handler, make_message("replied"), "interim", {"body": BODY})[0] == 409
    assert api(handler, make_message("replied"), "reply", {"body": BODY})[0] == 409
    db.session.refresh(m)
    assert (m.state, m.handling_round) == (State.RECEIVED, 1)
    assert m.created_at == T0 and m.updated_at < T0 + timedelta(days=1)
