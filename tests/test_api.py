"""The JSON API under /api/v1: the workflow end to end, roles, tokens, errors, filters, privacy."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import T0, world_messages
from sqlalchemy import select

from board.api.actions import ACTIONS
from board.auth.services import issue_token, revoke_token
from board.clock import utcnow
from board.extensions import db
from board.messages.services import record
from board.models import ApiToken, Message, Role, State, Visibility

SUBMISSION = {
    "board": "330100-secretary",
    "region": "330106",
    "track": "board",
    "kind": "complaint",
    "domain": "urban",
    "title": "小区门口路灯坏了三个月",
    "body": "文三路小区门口的三盏路灯坏了三个月，晚上很黑，老人出行不便，希望尽快修复。",
    "private_note": "我住 5 幢 301，电话 13912345678",
    "wants_public": True,
}
# Names no workflow action has (every WORKFLOW.md action is registered: tests/test_api_workflow.py).
UNKNOWN_ACTIONS = ("merge", "delete", "publish", "close")


def bearer(user) -> dict:
    """Headers carrying a fresh API token for `user`."""
    return {"Authorization": f"Bearer {issue_token(user, name='test', now=T0)}"}


def error_of(response) -> dict:
    """The `error` member of a JSON error response (and check the envelope's shape)."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


@pytest.fixture
def actors(make_user, citizen, troll, moderator, coordinator, handler, admin):
    """Everyone who might try an action, by the part they play."""
    return {
        "author": citizen,
        "troll": troll,
        "moderator": moderator,
        "coordinator": coordinator,
        "handler": handler,
        "admin": admin,
        "other_handler": make_user(Role.HANDLER, unit_code="330100-jt"),
        "other_coordinator": make_user(Role.COORDINATOR, unit_code="440100-secretary-office"),
    }


# ---------------------------------------------------------------------------------------------
# The whole journey


def test_whole_journey_through_the_api_alone(client, runner, make_user, directory):
    """Submit, approve, assign, accept, reply and rate using nothing but HTTP and tokens."""
    author = make_user(Role.CITIZEN, pen_name="陈明")
    moderator = make_user(Role.MODERATOR)
    coordinator = make_user(Role.COORDINATOR, unit_code="330100-secretary-office")
    handler = make_user(Role.HANDLER, unit_code="330100-zj")
    result = runner.invoke(args=["users", "token", author.email])
    assert result.exit_code == 0, result.output
    author_auth = {"Authorization": f"Bearer {result.output.strip().splitlines()[-1]}"}

    created = client.post("/api/v1/messages", json=SUBMISSION, headers=author_auth)
    assert created.status_code == 201, created.get_json()
    code = created.get_json()["code"]
    assert created.get_json()["state"] == State.SUBMITTED
    assert created.headers["Location"].endswith(f"/api/v1/messages/{code}")
    assert client.get(f"/api/v1/messages/{code}").status_code == 404

    def act(user, action, body=None):
        response = client.post(
            f"/api/v1/messages/{code}/actions/{action}", json=body or {}, headers=bearer(user)
        )
        assert response.status_code == 200, (action, response.get_json())
        return response.get_json()

    assert act(moderator, "approve")["state"] == State.RECEIVED
    assigned = act(coordinator, "assign", {"unit": "330100-zj"})
    assert (assigned["state"], assigned["unit"]) == (State.ASSIGNED, "330100-zj")
    assert act(handler, "accept", {"note": "已受理"})["state"] == State.IN_PROGRESS
    reply_text = "经查，路灯线路老化，已于本周更换，感谢您的反映。"
    sent = act(handler, "reply", {"body": reply_text})
    assert sent["state"] == State.IN_PROGRESS  # waits for the coordinator's sign-off
    assert client.get(f"/api/v1/messages/{code}").get_json()["replies"] == []
    assert act(coordinator, "sign_off")["state"] == State.REPLIED

    public = client.get(f"/api/v1/messages/{code}")
    assert public.status_code == 200
    data = public.get_json()
    assert data["visibility"] == Visibility.PUBLIC
    assert data["public_state_label"] == "已回复"
    assert [r["body"] for r in data["replies"]] == [reply_text]
    assert data["replies"][0]["unit"] == "330100-zj"
    assert [e["action"] for e in data["events"]] == [
        "submit",
        "approve",
        "assign",
        "accept",
        "sign_off",  # the handler's `reply` event (sent for sign-off) is private
    ]
    assert data["published_at"].endswith("+08:00")
    assert "private_note" not in data
    text = public.get_data(as_text=True)
    for user in (author, moderator, coordinator, handler):
        assert user.email not in text

    found = client.get("/api/v1/search?q=路灯").get_json()
    assert [h["code"] for h in found["hits"]] == [code]
    assert "<mark>路灯</mark>" in found["hits"][0]["snippet"]

    rated = act(author, "rate", {"resolution": 5, "attitude": 4, "speed": 4, "comment": "修好了"})
    assert rated["state"] == State.CLOSED
    assert rated["rating"]["label"] == "满意"
    assert client.get(f"/api/v1/messages/{code}").get_json()["rating"]["resolution"] == 5


# ---------------------------------------------------------------------------------------------
# Roles


ACTION_CASES = [
    # action, state the message is in, body, actor, expected status
    ("approve", "submitted", {}, "author", 403),
    ("approve", "submitted", {}, "coordinator", 403),
    ("approve", "submitted", {}, "troll", 404),
    ("approve", "submitted", {}, "handler", 404),
    ("reject", "submitted", {"reason": "unclear"}, "author", 403),
    ("reject", "submitted", {"reason": "unclear"}, "coordinator", 403),
    ("reject", "submitted", {"reason": "unclear"}, "troll", 404),
    ("hide", "received", {"reason": "privacy_leak"}, "author", 403),
    ("hide", "received", {"reason": "privacy_leak"}, "troll", 403),
    ("hide", "received", {"reason": "privacy_leak"}, "coordinator", 403),
    ("hide", "received", {"reason": "privacy_leak"}, "handler", 403),
    ("assign", "received", {"unit": "330100-zj"}, "author", 403),
    ("assign", "received", {"unit": "330100-zj"}, "troll", 403),
    ("assign", "received", {"unit": "330100-zj"}, "moderator", 403),
    ("assign", "received", {"unit": "330100-zj"}, "handler", 403),
    ("assign", "received", {"unit": "330100-zj"}, "other_coordinator", 403),
    ("accept", "assigned", {}, "author", 403),
    ("accept", "assigned", {}, "coordinator", 403),
    ("accept", "assigned", {}, "moderator", 403),
    ("accept", "assigned", {}, "other_handler", 403),
    ("reply", "in_progress", {"body": "已经处理完毕，请知悉。谢谢。"}, "author", 403),
    ("reply", "in_progress", {"body": "已经处理完毕，请知悉。谢谢。"}, "coordinator", 403),
    ("reply", "in_progress", {"body": "已经处理完毕，请知悉。谢谢。"}, "moderator", 403),
    ("reply", "in_progress", {"body": "已经处理完毕，请知悉。谢谢。"}, "other_handler", 403),
    ("rate", "replied", {"resolution": 5, "attitude": 5, "speed": 5}, "troll", 403),
    ("rate", "replied", {"resolution": 5, "attitude": 5, "speed": 5}, "handler", 403),
    ("rate", "replied", {"resolution": 5, "attitude": 5, "speed": 5}, "coordinator", 403),
    ("withdraw", "submitted", {}, "moderator", 403),
    ("withdraw", "submitted", {}, "coordinator", 403),
    ("withdraw", "submitted", {}, "troll", 404),
    ("cosign", "submitted", {}, "troll", 404),
]


@pytest.mark.parametrize(("action", "state", "body", "role", "status"), ACTION_CASES)
def test_action_refused_for_the_wrong_role(
    client, make_message, actors, action, state, body, role, status
):
    """Callers who can see the message but may not act get 403; those who cannot see it get 404."""
    message = make_message(state)
    before = (message.state, len(message.events), message.is_hidden, message.cosign_count)
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/{action}", json=body, headers=bearer(actors[role])
    )
    assert response.status_code == status, response.get_json()
    assert error_of(response)["code"] == {403: "forbidden", 404: "not_found"}[status]
    db.session.refresh(message)
    assert (message.state, len(message.events), message.is_hidden, message.cosign_count) == before


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("approve", {}),
        ("reject", {"reason": "unclear"}),
        ("hide", {"reason": "privacy_leak"}),
        ("assign", {"unit": "330100-zj"}),
        ("withdraw", {}),
        ("cosign", {}),
    ],
)
def test_actions_on_a_private_message_are_404_for_outsiders(
    client, make_message, actors, action, body
):
    """A message the caller may not see answers exactly like one that does not exist."""
    message = make_message("received", wants_public=False)
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/{action}",
        json=body,
        headers=bearer(actors["troll"]),
    )
    missing = client.post(
        f"/api/v1/messages/MS-2026-ZZZZZZ/actions/{action}",
        json=body,
        headers=bearer(actors["troll"]),
    )
    assert response.status_code == missing.status_code == 404
    assert error_of(response)["code"] == error_of(missing)["code"] == "not_found"
    assert error_of(response)["message"].replace(message.code, "X") == error_of(missing)[
        "message"
    ].replace("MS-2026-ZZZZZZ", "X")


@pytest.mark.parametrize(
    ("action", "state", "body", "role"),
    [
        ("approve", "received", {}, "moderator"),
        ("reject", "received", {"reason": "unclear"}, "moderator"),
        ("assign", "assigned", {"unit": "330100-zj"}, "coordinator"),
        ("accept", "in_progress", {}, "handler"),
        ("reply", "replied", {"body": "再次答复：已经全部处理完毕。"}, "handler"),
        ("rate", "in_progress", {"resolution": 3, "attitude": 3, "speed": 3}, "author"),
        ("withdraw", "assigned", {}, "author"),
        ("hide", "submitted", {"reason": "privacy_leak"}, "moderator"),
    ],
)
def test_action_in_the_wrong_state_is_409(client, make_message, actors, action, state, body, role):
    """The right person acting at the wrong moment gets a conflict, and nothing changes."""
    message = make_message(state)
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/{action}", json=body, headers=bearer(actors[role])
    )
    assert response.status_code == 409, response.get_json()
    assert error_of(response)["code"] == "invalid_transition"
    db.session.refresh(message)
    assert message.state == state


@pytest.mark.parametrize("action", [*UNKNOWN_ACTIONS, "frobnicate"])
def test_actions_the_workflow_lacks_are_unknown(client, make_message, actors, action):
    """Names that are no API action are a 404 `unknown_action`, never a fake success.

    `close` is the system's own action (`flask deadlines tick`), not one a caller may take.
    """
    message = make_message("replied")
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/{action}",
        json={"reason": "not_our_duty", "body": "x" * 20},
        headers=bearer(actors["admin"]),
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "unknown_action"


def test_moderator_rejects_and_only_the_author_sees_why(client, make_message, actors):
    """A rejection is private: the author reads the reason and the event, the public gets 404."""
    message = make_message("submitted")
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/reject",
        json={"reason": "unclear", "note": "请写明具体地点"},
        headers=bearer(actors["moderator"]),
    )
    assert response.status_code == 200
    assert response.get_json()["state"] == State.REJECTED
    assert client.get(f"/api/v1/messages/{message.code}").status_code == 404
    mine = client.get(f"/api/v1/messages/{message.code}", headers=bearer(actors["author"]))
    data = mine.get_json()
    assert data["rejection_reason"] == "unclear"
    assert data["events"][-1]["note"] == "请写明具体地点"
    assert data["events"][-1]["is_public"] is False


def test_admin_may_approve_and_assign(client, make_message, actors):
    """Admins act as moderator and as any board's coordinator."""
    message = make_message("submitted")
    for action, body in (("approve", {}), ("assign", {"unit": "330106-zj"})):
        response = client.post(
            f"/api/v1/messages/{message.code}/actions/{action}",
            json=body,
            headers=bearer(actors["admin"]),
        )
        assert response.status_code == 200, response.get_json()
    assert response.get_json()["unit"] == "330106-zj"


def test_hidden_message_leaves_the_public_api(client, make_message, actors):
    """After `hide` (reason given without its prefix) the public gets 404; moderators still read it."""
    message = make_message("replied")
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/hide",
        json={"reason": "privacy_leak"},
        headers=bearer(actors["moderator"]),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["hidden_reason"] == "hide:privacy_leak"
    assert client.get(f"/api/v1/messages/{message.code}").status_code == 404
    codes = [m["code"] for m in client.get("/api/v1/messages").get_json()["items"]]
    assert message.code not in codes
    staff = client.get(f"/api/v1/messages/{message.code}", headers=bearer(actors["moderator"]))
    assert staff.get_json()["is_hidden"] is True


def test_author_withdraws_before_assignment(client, make_message, actors):
    """The author may take a message back while nobody holds it."""
    message = make_message("received")
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/withdraw", headers=bearer(actors["author"])
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == State.WITHDRAWN
    assert client.get(f"/api/v1/messages/{message.code}").status_code == 404


def test_cosign_counts_once_per_citizen(client, make_message, actors):
    """A co-sign adds one; the same citizen again, or the author, is a conflict."""
    message = make_message("received")
    url = f"/api/v1/messages/{message.code}/actions/cosign"
    first = client.post(url, headers=bearer(actors["troll"]))
    assert first.status_code == 200
    assert first.get_json()["cosign_count"] == 1
    assert client.post(url, headers=bearer(actors["troll"])).status_code == 409
    assert client.post(url, headers=bearer(actors["author"])).status_code == 409
    assert client.get(f"/api/v1/messages/{message.code}").get_json()["cosign_count"] == 1


def test_rating_after_the_window_is_refused(client, make_message, actors):
    """A reply from months ago can no longer be rated (the window is 30 days)."""
    message = make_message("replied")  # replied at T0 + 3 days, long before the real now
    assert utcnow() > message.replied_at + timedelta(days=30)
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/rate",
        json={"resolution": 4, "attitude": 4, "speed": 4},
        headers=bearer(actors["author"]),
    )
    assert response.status_code == 409
    assert "30" in error_of(response)["message"]


def test_recent_reply_can_be_rated_through_the_api(client, make_message, actors):
    """Within the window the author's three scores close the message."""
    message = make_message("replied", now=utcnow() - timedelta(days=4))
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/rate",
        json={"resolution": 1, "attitude": 2, "speed": 1, "comment": "没解决"},
        headers=bearer(actors["author"]),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rating"]["label"] == "很不满意"


def test_petition_reply_needs_an_outcome(client, make_message, actors):
    """A petition answered without 处理意见 is a 422 naming `outcome`; with one it is published."""
    message = make_message(
        "in_progress",
        track="petition",
        kind="claim",
        real_name="陈明亮",
        phone="13912345678",
        address="杭州市西湖区文三路 1 号",
    )
    url = f"/api/v1/messages/{message.code}/actions/reply"
    body = {"body": "经调查，您反映的问题属实，已责成街道处理。"}
    missing = client.post(url, json=body, headers=bearer(actors["handler"]))
    assert missing.status_code == 422
    assert "outcome" in error_of(missing)["fields"]
    wrong = client.post(url, json={**body, "outcome": "maybe"}, headers=bearer(actors["handler"]))
    assert wrong.status_code == 422
    done = client.post(
        url, json={**body, "outcome": "supported"}, headers=bearer(actors["handler"])
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["replies"][0]["outcome_label"] == "予以支持"


# ---------------------------------------------------------------------------------------------
# Tokens


def test_writes_without_a_token_are_401(client, make_message, citizen):
    """Submitting and acting need a bearer token; the answer says how to authenticate."""
    message = make_message("received")
    for response in (
        client.post("/api/v1/messages", json=SUBMISSION),
        client.post(f"/api/v1/messages/{message.code}/actions/cosign"),
    ):
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer ms_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "ms_token-without-scheme"],
)
def test_garbage_token_is_401_even_for_reads(client, directory, header):
    """A token that names nobody is refused, not silently treated as anonymous."""
    for response in (
        client.get("/api/v1/messages", headers={"Authorization": header}),
        client.post("/api/v1/messages", json=SUBMISSION, headers={"Authorization": header}),
    ):
        assert response.status_code == 401
        assert error_of(response)["code"] == "invalid_token"


def test_revoked_token_is_401(client, citizen):
    """A revoked token stops working at once."""
    headers = bearer(citizen)
    assert client.post("/api/v1/messages", json=SUBMISSION, headers=headers).status_code == 201
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == citizen.id)).one()
    revoke_token(token.id, citizen, now=T0)
    response = client.post("/api/v1/messages", json=SUBMISSION, headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_disabled_account_token_is_401(client, citizen):
    """A disabled account's tokens no longer authenticate."""
    headers = bearer(citizen)
    citizen.is_active_account = False
    db.session.commit()
    assert client.get("/api/v1/messages", headers=headers).status_code == 401


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[1, 2]", b'"just a string"', b"\xff\xfe{}", b"null", b"[" * 100_000, b"{'a': 1}"],
)
def test_malformed_json_is_400(client, make_message, citizen, raw):
    """A body that is not a JSON object is `bad_json`, for submissions and actions alike."""
    message = make_message("received")
    headers = {**bearer(citizen), "Content-Type": "application/json"}
    for url in ("/api/v1/messages", f"/api/v1/messages/{message.code}/actions/withdraw"):
        response = client.post(url, data=raw, headers=headers)
        assert response.status_code == 400, (url, response.get_data(as_text=True)[:200])
        assert error_of(response)["code"] == "bad_json"


def test_missing_fields_are_422_with_every_field_named(client, citizen):
    """An empty submission names each required field."""
    response = client.post("/api/v1/messages", json={}, headers=bearer(citizen))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"board", "region", "track", "kind", "domain", "title", "body"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"wants_public": "yes"}, "wants_public"),
        ({"title": 42}, "title"),
        ({"body": ["a", "list"]}, "body"),
        ({"board": {"code": "330100-secretary"}}, "board"),
        ({"kind": "rant"}, "kind"),
        ({"track": "letter"}, "track"),
        ({"domain": None}, "domain"),
        ({"private_note": "备" * 501}, "private_note"),
        ({"title": "标" * 41}, "title"),
        ({"kind": "claim"}, "kind"),  # a petition kind on the board track
        ({"region": "440106"}, "region"),  # outside the board's region
        ({"board": "999999-secretary"}, "board"),
        ({"region": "999999"}, "region"),
        ({"body": "太短"}, "body"),
        ({"title": "路灯\x00坏了"}, "title"),
        ({"body": "\ud800" + "路灯坏了三个月没人修理"}, "body"),
        ({"board": "330100-secretary\x00"}, "board"),
    ],
)
def test_bad_submission_is_422_naming_the_field(client, citizen, changes, field):
    """Wrong types, unknown codes and broken rules come back as field errors, never a 500."""
    response = client.post(
        "/api/v1/messages", json={**SUBMISSION, **changes}, headers=bearer(citizen)
    )
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]


def test_unknown_board_and_region_are_both_named(client, citizen):
    """Both lookups are reported in one answer."""
    body = {**SUBMISSION, "board": "nope", "region": "000000"}
    response = client.post("/api/v1/messages", json=body, headers=bearer(citizen))
    assert response.status_code == 422
    assert {"board", "region"} <= set(error_of(response)["fields"])


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("rate", {"resolution": "5", "attitude": 5, "speed": 5}, "resolution"),
        ("rate", {"resolution": True, "attitude": 5, "speed": 5}, "resolution"),
        ("rate", {"resolution": 5, "attitude": 9, "speed": 5}, "attitude"),
        ("rate", {"resolution": 5, "attitude": 5, "speed": 2.5}, "speed"),
        ("rate", {"resolution": 5, "attitude": 5}, "speed"),
        ("reject", {}, "reason"),
        ("reject", {"reason": "no_such_reason"}, "reason"),
        ("hide", {"reason": 3}, "reason"),
        ("assign", {"unit": "no-such-unit"}, "unit"),
        ("assign", {"unit": "440100-zj"}, "unit"),  # outside the board's region
        ("reply", {"body": "短"}, "body"),
        ("approve", {"note": 7}, "note"),
    ],
)
def test_bad_action_body_is_422(client, make_message, actors, action, body, field):
    """Action bodies are checked for type and meaning before anything changes."""
    state = {
        "rate": "replied",
        "reject": "submitted",
        "approve": "submitted",
        "reply": "in_progress",
    }
    message = make_message(state.get(action, "received"), now=utcnow() - timedelta(days=4))
    role = {
        "rate": "author",
        "reject": "moderator",
        "hide": "moderator",
        "assign": "coordinator",
        "reply": "handler",
        "approve": "moderator",
    }[action]
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/{action}", json=body, headers=bearer(actors[role])
    )
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]


def test_unknown_routes_and_methods_answer_in_json(client, directory):
    """404 and 405 under /api/v1 use the error envelope; 405 lists the allowed methods."""
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    wrong = client.delete("/api/v1/messages")
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    assert client.put("/api/v1/messages/MS-2026-AAAAAA/actions/approve").status_code == 405
    assert client.get("/api/v1/messages/MS-2026-AAAAAA").status_code == 404


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/messages?page=0", "page"),
        ("/api/v1/messages?page=abc", "page"),
        ("/api/v1/messages?per_page=201", "per_page"),
        ("/api/v1/messages?state=lost", "state"),
        ("/api/v1/messages?kind=rant", "kind"),
        ("/api/v1/messages?board=nope", "board"),
        ("/api/v1/messages?unit=nope", "unit"),
        ("/api/v1/messages?region=999999", "region"),
        ("/api/v1/regions?level=planet", "level"),
        ("/api/v1/boards?region=12", "region"),
        ("/api/v1/units?per_page=-1", "per_page"),
        ("/api/v1/regions?page=99999999999999999999999", "page"),
        ("/api/v1/messages?board=%00", "board"),
        ("/api/v1/messages?region=33%000", "region"),
    ],
)
def test_bad_query_arguments_are_422(client, directory, url, field):
    """Malformed filters and page numbers are field errors, not empty lists or crashes."""
    response = client.get(url)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]


ODD_VALUES = [None, 0, -1, 10**30, 1.5, True, "", "x" * 20_000, [], {}, "\x00", "\ud800", "1"]


def test_odd_values_in_any_field_never_cause_a_server_error(client, make_message, actors):
    """Every field of every body, given every odd JSON value, gets a 4xx (or succeeds), not 5xx."""
    message = make_message("submitted")
    admin = bearer(actors["admin"])
    sent = 0
    for value in ODD_VALUES:
        for field in SUBMISSION:
            response = client.post(
                "/api/v1/messages", json={**SUBMISSION, field: value}, headers=admin
            )
            assert response.status_code < 500, (field, value)
            sent += 1
        for name, action in ACTIONS.items():
            for field in action.fields:
                response = client.post(
                    f"/api/v1/messages/{message.code}/actions/{name}",
                    json={field.name: value},
                    headers=admin,
                )
                assert response.status_code < 500, (name, field.name, value)
                sent += 1
    assert sent > 200


@pytest.mark.parametrize("code", ["MS-2026-%00AAAA", "%F0%9F%98%80", "x" * 300, "MS 2026"])
def test_odd_message_codes_are_404(client, directory, code):
    """A code that cannot exist is a plain 404 on any database."""
    response = client.get(f"/api/v1/messages/{code}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# ---------------------------------------------------------------------------------------------
# Directory


def test_regions_filter_includes_descendants(client, directory):
    """`?region=330100` is 杭州市 and every county under it, nothing else."""
    data = client.get("/api/v1/regions?region=330100").get_json()
    assert data["total"] == 3
    assert [r["code"] for r in data["items"]] == ["330100", "330106", "330127"]
    assert data["items"][1] == {
        "code": "330106",
        "name": "西湖区",
        "full_name": "浙江省杭州市西湖区",
        "level": "county",
        "parent": "330100",
        "merged_into": None,
        "merged_on": None,
    }
    provinces = client.get("/api/v1/regions?level=province").get_json()
    assert [r["code"] for r in provinces["items"]] == ["330000", "440000"]


def test_regions_paginate(client, directory):
    """`page` and `per_page` slice the list; `total` counts all of it."""
    data = client.get("/api/v1/regions?per_page=4&page=2").get_json()
    assert (data["total"], data["page"], data["per_page"]) == (9, 2, 4)
    assert [r["code"] for r in data["items"]] == ["330200", "330203", "440000", "440100"]
    assert client.get("/api/v1/regions?per_page=4&page=4").get_json()["items"] == []


def test_boards_filter_by_region_and_name_their_office(client, directory):
    """A city's filter lists its boards and its counties' boards, each with its office unit."""
    data = client.get("/api/v1/boards?region=330100").get_json()
    codes = {b["code"] for b in data["items"]}
    assert codes == {"330100-secretary", "330100-governor", "330106-secretary", "330127-secretary"}
    assert data["total"] == 4
    secretary = next(b for b in data["items"] if b["code"] == "330100-secretary")
    assert secretary == {
        "code": "330100-secretary",
        "title": "杭州市委书记",
        "post": "secretary",
        "region": "330100",
        "holder_name": None,
        "office_unit": "330100-secretary-office",
    }


def test_units_filter_by_region(client, directory):
    """Units of a county's subtree only; offices are flagged."""
    data = client.get("/api/v1/units?region=330106").get_json()
    by_code = {u["code"]: u for u in data["items"]}
    assert set(by_code) == {"330106-zj", "330106-secretary-office"}
    assert by_code["330106-zj"] == {
        "code": "330106-zj",
        "name": "西湖区住房和城乡建设局",
        "region": "330106",
        "parent": None,
        "is_office": False,
    }
    assert by_code["330106-secretary-office"]["is_office"] is True
    everything = client.get("/api/v1/units?per_page=200").get_json()
    assert "440100-zj" in {u["code"] for u in everything["items"]}
    assert "440100-zj" not in {
        u["code"] for u in client.get("/api/v1/units?region=330000").get_json()["items"]
    }


# ---------------------------------------------------------------------------------------------
# Message lists


@pytest.fixture
def spread(database, make_message, directory, tmp_path_factory):
    """Messages across boards, regions, kinds and states, created an hour apart (built through
    the services once per process and database, then restored for each test: `world`). Tests
    that also want `actors` ask for them after `spread`: accounts made before a world must be
    the ones it was built with."""
    return world_messages(
        "api-spread", database, tmp_path_factory, lambda: _build_spread(make_message)
    )


def _build_spread(make_message) -> dict[str, Message]:
    made = {}
    made["xihu_replied"] = make_message("replied", now=T0)
    made["chunan_received"] = make_message(
        "received",
        region_code="330127",
        kind="suggestion",
        domain="transport",
        now=T0 + timedelta(hours=1),
    )
    made["province_received"] = make_message(
        "received",
        board_code="330000-secretary",
        region_code="330203",
        domain="education",
        now=T0 + timedelta(hours=2),
    )
    made["xihu_submitted"] = make_message("submitted", now=T0 + timedelta(hours=3))
    made["petition"] = make_message(
        "received",
        track="petition",
        kind="claim",
        real_name="陈明亮",
        phone="13912345678",
        address="杭州市西湖区文三路 1 号",
        now=T0 + timedelta(hours=4),
    )
    return made


def codes(response) -> list[str]:
    """The codes of a list response's items, in order."""
    assert response.status_code == 200, response.get_json()
    return [m["code"] for m in response.get_json()["items"]]


def test_public_list_is_newest_first_and_public_only(client, spread):
    """Anonymous callers see published messages only, newest first."""
    response = client.get("/api/v1/messages")
    assert codes(response) == [
        spread["petition"].code,
        spread["province_received"].code,
        spread["chunan_received"].code,
        spread["xihu_replied"].code,
    ]
    assert response.get_json()["total"] == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region=330100", ["petition", "chunan_received", "xihu_replied"]),
        ("region=330106", ["petition", "xihu_replied"]),
        ("region=330127", ["chunan_received"]),
        ("region=330000", ["petition", "province_received", "chunan_received", "xihu_replied"]),
        ("region=440000", []),
        ("board=330000-secretary", ["province_received"]),
        ("unit=330100-zj", ["xihu_replied"]),
        ("kind=suggestion", ["chunan_received"]),
        ("domain=education", ["province_received"]),
        ("state=replied", ["xihu_replied"]),
        ("track=petition", ["petition"]),
        ("state=received&region=330100", ["petition", "chunan_received"]),
    ],
)
def test_message_filters(client, spread, query, expected):
    """Each filter narrows the list; `region` takes in the region's descendants."""
    assert codes(client.get(f"/api/v1/messages?{query}")) == [spread[k].code for k in expected]


def test_list_paginates(client, spread):
    """Pages of two over four public messages."""
    first = client.get("/api/v1/messages?per_page=2").get_json()
    second = client.get("/api/v1/messages?per_page=2&page=2").get_json()
    assert (first["total"], first["per_page"], second["page"]) == (4, 2, 2)
    assert [m["code"] for m in first["items"] + second["items"]] == [
        spread[k].code for k in ("petition", "province_received", "chunan_received", "xihu_replied")
    ]


def test_token_adds_the_callers_own_and_scoped_messages(client, spread, actors):
    """The author sees their unpublished message; others do not; moderators see everything."""
    hidden = spread["xihu_submitted"].code
    assert hidden in codes(client.get("/api/v1/messages", headers=bearer(actors["author"])))
    assert hidden not in codes(client.get("/api/v1/messages", headers=bearer(actors["troll"])))
    assert hidden not in codes(client.get("/api/v1/messages"))
    assert hidden in codes(client.get("/api/v1/messages", headers=bearer(actors["moderator"])))
    scoped = codes(
        client.get("/api/v1/messages?state=submitted", headers=bearer(actors["coordinator"]))
    )
    assert scoped == [hidden]


# ---------------------------------------------------------------------------------------------
# Privacy


def test_private_fields_hidden_from_public_but_shown_to_author(client, make_message, actors):
    """The note, the petitioner's identity and numbers in the text are for the handling side."""
    message = make_message(
        "received",
        track="petition",
        kind="claim",
        body="我家的房子被违规拆除，至今没有补偿。电话 13912345678，邻居 13800001111 可作证。",
        private_note="身份证在材料里",
        real_name="陈明亮",
        phone="13912345678",
        address="杭州市西湖区文三路 1 号",
    )
    public = client.get(f"/api/v1/messages/{message.code}")
    assert public.status_code == 200
    data = public.get_json()
    assert "138****1111" in data["body"]
    text = public.get_data(as_text=True)
    for secret in ("13912345678", "陈明亮", "文三路 1 号", "身份证在材料里"):
        assert secret not in text
    for key in ("private_note", "real_name", "phone", "address", "wants_public"):
        assert key not in data
    for role in ("author", "coordinator", "moderator"):
        mine = client.get(f"/api/v1/messages/{message.code}", headers=bearer(actors[role]))
        seen = mine.get_json()
        assert "13912345678" in seen["body"], role
        assert (seen["private_note"], seen["real_name"], seen["phone"]) == (
            "身份证在材料里",
            "陈明亮",
            "13912345678",
        )
    outsider = client.get(f"/api/v1/messages/{message.code}", headers=bearer(actors["troll"]))
    assert "private_note" not in outsider.get_json()


def test_reporter_identity_is_never_shown_to_the_accused_unit(client, make_message, actors):
    """A 检举控告 is never public; the unit handling it reads the masked text only."""
    message = make_message(
        "received",
        track="petition",
        kind="report",
        body="某局工作人员收受好处费，我可以作证，我的电话 13912345678。",
        real_name="陈明亮",
        phone="13912345678",
        address="杭州市西湖区文三路 1 号",
    )
    assert client.get(f"/api/v1/messages/{message.code}").status_code == 404
    assign = client.post(
        f"/api/v1/messages/{message.code}/actions/assign",
        json={"unit": "330100-zj"},
        headers=bearer(actors["coordinator"]),
    )
    assert assign.status_code == 200
    seen = client.get(f"/api/v1/messages/{message.code}", headers=bearer(actors["handler"]))
    assert seen.status_code == 200
    assert "13912345678" not in seen.get_data(as_text=True)
    assert "real_name" not in seen.get_json()


def test_public_sees_public_events_only_and_never_emails(client, make_message, actors):
    """Staff-only events stay with staff; no response ever carries an actor's e-mail."""
    message = make_message("in_progress")
    record(message, "note", actors["handler"], now=T0, note="内部：已电话联系物业", is_public=False)
    db.session.commit()
    public = client.get(f"/api/v1/messages/{message.code}")
    assert "note" not in [e["action"] for e in public.get_json()["events"]]
    assert "is_public" not in public.get_json()["events"][0]
    staff = client.get(f"/api/v1/messages/{message.code}", headers=bearer(actors["coordinator"]))
    assert staff.get_json()["events"][-1]["note"] == "内部：已电话联系物业"
    for response in (public, staff):
        text = response.get_data(as_text=True)
        assert all(user.email not in text for user in actors.values())


def test_message_json_carries_the_promised_keys(client, make_message):
    """DESIGN §10's message shape, with `deadlines` present (empty until the engine exists)."""
    data = client.get(f"/api/v1/messages/{make_message('closed').code}").get_json()
    promised = {
        "code", "track", "kind", "kind_label", "domain", "domain_label", "title", "body",
        "state", "public_state_label", "visibility", "board", "board_title", "region",
        "region_name", "unit", "unit_name", "created_at", "published_at", "replies",
        "deadlines", "events", "cosign_count", "rating",
    }  # fmt: skip
    assert promised <= set(data)
    assert data["deadlines"] == []
    assert data["created_at"] == "2026-03-02T09:00:00+08:00"
    assert set(data["replies"][0]) >= {"unit", "unit_name", "body", "outcome", "published_at"}
    assert set(data["rating"]) >= {"resolution", "attitude", "speed", "label"}
    assert json.dumps(data)


# ---------------------------------------------------------------------------------------------
# Search


def test_search_answers_with_hits_highlights_total_and_facets(client, spread):
    """A word search returns the promised shape: hits with `<mark>` snippets, total, facets."""
    response = client.get("/api/v1/search?q=停车费")
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert set(data) == {"total", "page", "per_page", "hits", "facets"}
    public = {
        spread[k].code for k in ("xihu_replied", "chunan_received", "province_received", "petition")
    }
    assert {h["code"] for h in data["hits"]} == public
    assert data["total"] == 4
    hit = data["hits"][0]
    assert {"code", "title", "snippet", "state", "score"} <= set(hit)
    assert isinstance(hit["score"], float)
    assert "<mark>" in hit["snippet"]
    domains = {row["value"]: row for row in data["facets"]["domain"]}
    assert domains["urban"]["count"] == 2
    assert domains["urban"]["label"] == "城建"


def test_search_never_finds_unpublished_messages(client, spread, actors):
    """Search covers public messages only, whoever asks."""
    hidden = spread["xihu_submitted"].code
    for headers in ({}, bearer(actors["author"]), bearer(actors["moderator"])):
        data = client.get(f"/api/v1/search?q={hidden}", headers=headers).get_json()
        assert data["hits"] == []
    listed = client.get("/api/v1/search").get_json()
    assert hidden not in {h["code"] for h in listed["hits"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region=330100", {"xihu_replied", "chunan_received", "petition"}),
        ("region=330127", {"chunan_received"}),
        ("board=330000-secretary", {"province_received"}),
        ("unit=330100-zj", {"xihu_replied"}),
        ("kind=suggestion", {"chunan_received"}),
        ("domain=education", {"province_received"}),
        ("state=replied", {"xihu_replied"}),
        ("replied=true", {"xihu_replied"}),
        ("replied=false&region=330100", {"chunan_received", "petition"}),
        (
            "date_from=2026-03-02&date_to=2026-03-02",
            {"xihu_replied", "chunan_received", "province_received", "petition"},
        ),
        ("date_from=2026-03-03", set()),
    ],
)
def test_search_filters_pass_through(client, spread, query, expected):
    """Each API filter reaches the search and narrows its hits."""
    data = client.get(f"/api/v1/search?q=停车费&{query}").get_json()
    assert {h["code"] for h in data["hits"]} == {spread[k].code for k in expected}
    assert data["total"] == len(expected)


def test_search_sorts_and_pages(client, spread):
    """`sort` orders the hits and `page`/`per_page` slice them."""
    newest = client.get("/api/v1/search?sort=newest&per_page=2").get_json()
    oldest = client.get("/api/v1/search?sort=oldest&per_page=2&page=2").get_json()
    assert [h["code"] for h in newest["hits"]] == [
        spread["petition"].code,
        spread["province_received"].code,
    ]
    assert [h["code"] for h in oldest["hits"]] == [
        spread["province_received"].code,
        spread["petition"].code,
    ]
    assert (newest["total"], newest["per_page"], oldest["page"]) == (4, 2, 2)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=loudest", "sort"),
        ("replied=maybe", "replied"),
        ("date_from=2026-13-01", "date_from"),
        ("date_to=yesterday", "date_to"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
        ("region=999999", "region"),
        ("board=nope", "board"),
        ("state=lost", "state"),
    ],
)
def test_bad_search_arguments_are_422(client, directory, query, field):
    """Search arguments are checked like every other list's."""
    response = client.get(f"/api/v1/search?q=路灯&{query}")
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]


def test_search_sorts_match_the_search_module():
    """The documented sorts and page cap are the ones board.search.query understands."""
    from board.api.inputs import SEARCH_MAX_PER_PAGE, SEARCH_SORTS
    from board.search import query

    assert SEARCH_SORTS == query.SORTS
    assert SEARCH_MAX_PER_PAGE == query.MAX_PER_PAGE
