"""Hostile input: random and malicious values to every form and API endpoint never give a 500,
and invalid input stores nothing."""

from __future__ import annotations

import io
import json

import pytest
from conftest import T0, login
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from board.attachments.models import Attachment
from board.auth.services import issue_token
from board.extensions import db
from board.models import Message, User
from board.search.query import search_messages

# Crafted values every run tries, besides the random ones.
NASTY = [
    "",
    " ",
    "\t\r\n",
    "\x00",
    "a\x00b",
    "\x1b[31m\x07\x08",
    "\u202e\u200b\ufeff",
    "x" * 6000,
    "长" * 20000,
    "<script>alert(document.cookie)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1' --",
    "'; DROP TABLE message; --",
    "%' AND 1=1 AND '%'='",
    "\\",
    "title:(物业 OR 停车) AND NOT body:费* ~2 ^3 [a TO z] {x TO y}",
    '"unbalanced (quote',
    "*",
    "?",
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "%00%2e%2e%2f",
    "{{7*7}}{% raw %}",
    "${jndi:ldap://x}",
    "😀" * 500,
    "-1",
    "99999999999999999999999999",
    "NaN",
    "MS-2026-AAAAAA",
]
# Text a browser can send (no lone surrogates: those arrive as bytes, see `raw_bytes`).
TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
)
# Bytes that are not UTF-8 at all, or encode lone surrogates.
RAW = st.one_of(
    st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"%ff%fe"]),
    st.binary(max_size=64),
)
JSON_VALUE = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT,
        st.text(max_size=20),  # may hold lone surrogates, as JSON "\ud800" escapes can
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip

HYPOTHESIS = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
# The tests that send dozens of requests per example draw fewer examples.
HEAVY = settings(HYPOTHESIS, max_examples=5)
COMPOSE_FIELDS = ("track", "kind", "domain", "region", "title", "body", "private_note",
                  "real_name", "phone", "address")  # fmt: skip


def message_count() -> int:
    return db.session.scalar(select(func.count(Message.id)))


def not_5xx(response) -> None:
    """The one property of every answer to hostile input."""
    assert response.status_code < 500, response.get_data(as_text=True)[:1000]


@pytest.fixture
def signed_in(app, citizen):
    """A client with the citizen signed in."""
    client = app.test_client()
    login(client, citizen)
    return client


@HYPOTHESIS
@given(values=st.fixed_dictionaries({name: TEXT for name in COMPOSE_FIELDS}), preview=st.booleans())
def test_compose_form_never_500_and_invalid_input_stores_nothing(signed_in, values, preview):
    """Hostile compose forms give a redisplayed form with field errors and no new row."""
    before = message_count()
    data = {**values, ("preview" if preview else "submit"): "x"}
    response = signed_in.post("/write?board=330100-secretary", data=data)
    not_5xx(response)
    if response.status_code != 302:
        assert response.status_code in (200, 400, 422)
        assert message_count() == before
    if response.status_code == 422:
        assert 'class="error"' in response.get_data(as_text=True)


@HYPOTHESIS
@given(raw=RAW, field=st.sampled_from(COMPOSE_FIELDS))
def test_compose_form_with_invalid_utf8_bytes(signed_in, raw, field):
    """Bytes that are not UTF-8 (or encode lone surrogates) in a form body are a 4xx, not a 500."""
    before = message_count()
    body = b"track=board&kind=complaint&domain=urban&region=330106&submit=x&" + (
        field.encode() + b"=" + raw + b"&title=" + raw
    )
    response = signed_in.post(
        "/write?board=330100-secretary",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    not_5xx(response)
    assert response.status_code != 302 or message_count() == before + 1
    if response.status_code != 302:
        assert message_count() == before


@HYPOTHESIS
@given(email=TEXT, password=TEXT, pen_name=TEXT, phone=TEXT)
def test_login_and_register_never_500(app, email, password, pen_name, phone):
    """Login and registration answer hostile values with the form again; no junk account."""
    client = app.test_client()
    not_5xx(client.post("/login", data={"email": email, "password": password}))
    users = db.session.scalar(select(func.count(User.id)))
    response = client.post(
        "/register",
        data={"email": email, "password": password, "confirm": password,
              "pen_name": pen_name, "phone": phone},
    )  # fmt: skip
    not_5xx(response)
    if response.status_code != 302:
        assert db.session.scalar(select(func.count(User.id))) == users


@HEAVY
@given(q=TEXT, page=TEXT, sort=TEXT, region=TEXT)
def test_search_and_lists_never_500(app, q, page, sort, region):
    """Search (Whoosh query syntax included), filters and paths with hostile values."""
    client = app.test_client()
    for url, params in [
        ("/search", {"q": q, "page": page, "sort": sort, "region": region}),
        ("/api/v1/search", {"q": q, "page": page, "sort": sort, "region": region}),
        ("/api/v1/messages", {"region": region, "page": page, "state": sort, "board": q}),
        ("/api/v1/regions", {"region": region, "page": page}),
        ("/api/v1/deadlines/calc", {"start": q, "policy": sort}),
        ("/", {"page": page}),
    ]:
        not_5xx(client.get(url, query_string=params))
    for path in ("/m/", "/regions/", "/boards/", "/api/v1/messages/"):
        not_5xx(client.get(path + q.replace("/", "%2F").replace("?", "%3F").replace("#", "%23")))


@pytest.fixture
def staff_clients(app, moderator, coordinator, handler, admin):
    """Signed-in clients of every staff role."""
    clients = {}
    for name, user in (("moderator", moderator), ("coordinator", coordinator),
                       ("handler", handler), ("admin", admin)):  # fmt: skip
        clients[name] = app.test_client()
        login(clients[name], user)
    return clients


def _post_rules(app, prefix: str) -> list[str]:
    """The rules of every POST route under `prefix` that take a message code."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.rule.startswith(prefix) and "<code>" in rule.rule
    )


FORM_FIELDS = ("action", "reason", "note", "unit", "body", "outcome", "days", "comment",
               "resolution", "attitude", "speed", "decision", "title", "words", "name")  # fmt: skip


@HEAVY
@given(values=st.fixed_dictionaries({name: TEXT for name in FORM_FIELDS}), data=st.data())
def test_every_message_form_of_staff_and_citizens_never_500(
    app, make_message, staff_clients, signed_in, values, data
):
    """Moderation, desk and citizen action forms with hostile fields: 4xx or redisplay, never 500.

    Each example posts to every such route once, as a drawn staff role on a drawn message.
    """
    if not hasattr(test_every_message_form_of_staff_and_citizens_never_500, "targets"):
        test_every_message_form_of_staff_and_citizens_never_500.targets = [
            make_message("submitted"),
            make_message("assigned"),
            make_message("replied"),
        ]
    messages = test_every_message_form_of_staff_and_citizens_never_500.targets
    rules = _post_rules(app, "/desk/") + _post_rules(app, "/moderation/") + _post_rules(app, "/m/")
    assert rules
    for rule in rules:
        m = data.draw(st.sampled_from(messages))
        if rule.startswith("/m/"):
            client = signed_in
        else:
            client = staff_clients[data.draw(st.sampled_from(sorted(staff_clients)))]
        not_5xx(client.post(rule.replace("<code>", m.code), data=values))
    not_5xx(staff_clients["admin"].post("/moderation/words", data={"words": values["words"]}))
    not_5xx(staff_clients["admin"].get("/admin/access-log", query_string=values))
    not_5xx(signed_in.post("/account/tokens", data={"name": values["name"]}))


@pytest.fixture(autouse=True)
def _forget_targets():
    """Messages built for one test's examples belong to that test's database only."""
    yield
    for test in (
        test_every_message_form_of_staff_and_citizens_never_500,
        test_api_actions_and_raw_bodies_never_500,
    ):
        for name in ("targets", "target"):
            if hasattr(test, name):
                delattr(test, name)


@pytest.fixture
def tokens(citizen, moderator, coordinator, handler):
    """Bearer headers for a citizen and the staff."""
    return {
        user.role + str(user.id): {"Authorization": f"Bearer {issue_token(user, name='t', now=T0)}"}
        for user in (citizen, moderator, coordinator, handler)
    }


@HYPOTHESIS
@given(
    body=st.dictionaries(st.sampled_from(COMPOSE_FIELDS + ("board", "wants_public")), JSON_VALUE)
)
def test_api_create_never_500_and_invalid_stores_nothing(app, citizen, body):
    """POST /api/v1/messages with hostile JSON: a 4xx with field errors and no row, or a 201."""
    headers = {"Authorization": f"Bearer {issue_token(citizen, name='t', now=T0)}"}
    before = message_count()
    response = app.test_client().post("/api/v1/messages", json=body, headers=headers)
    not_5xx(response)
    if response.status_code != 201:
        assert 400 <= response.status_code < 500
        assert set(response.get_json()["error"]) == {"code", "message", "fields"}
        assert message_count() == before


@HEAVY
@given(raw=RAW, body=JSON_VALUE, data=st.data())
def test_api_actions_and_raw_bodies_never_500(app, make_message, tokens, raw, body, data):
    """Every workflow action with hostile JSON, non-JSON and non-UTF-8 bodies, by a drawn role."""
    from board.api.actions import ACTIONS

    if not hasattr(test_api_actions_and_raw_bodies_never_500, "target"):
        test_api_actions_and_raw_bodies_never_500.target = make_message("assigned")
    m = test_api_actions_and_raw_bodies_never_500.target
    client = app.test_client()
    for headers in [tokens[data.draw(st.sampled_from(sorted(tokens)))]]:
        for action in ACTIONS:
            url = f"/api/v1/messages/{m.code}/actions/{action}"
            not_5xx(client.post(url, json=body, headers=headers))
            not_5xx(client.post(url, data=raw, headers=headers, content_type="application/json"))
        not_5xx(client.post("/api/v1/messages", data=raw, headers=headers,
                            content_type="application/json"))  # fmt: skip
    not_5xx(client.post("/api/v1/messages", data=raw, headers={"Authorization": raw.hex() or "x"}))


@HEAVY
@given(name=TEXT, data=st.one_of(RAW, st.sampled_from([b"<html><script>x</script>", b"%PDF-"])))
@example(name="\\", data=b"\xff\xfe")  # a bare backslash ends the quoted filename: a text part
def test_uploads_with_hostile_names_and_bytes_store_nothing(
    app, citizen, signed_in, make_message, name, data
):
    """Garbage files with traversal or script names: refused, nothing stored, never a 500."""
    # CR/LF in a part's filename breaks the multipart encoding of the test client itself (the
    # part never arrives); browsers percent-encode them.
    name = name.replace("\r", "").replace("\n", "") or "x"
    m = db.session.scalar(select(Message)) or make_message("submitted")
    headers = {"Authorization": f"Bearer {issue_token(citizen, name='t', now=T0)}"}
    response = app.test_client().post(
        f"/api/v1/messages/{m.code}/attachments",
        data={"file": (io.BytesIO(data), name or "x"), "public": name},
        headers=headers,
        content_type="multipart/form-data",
    )
    not_5xx(response)
    assert 400 <= response.status_code < 500
    before = message_count()
    form = {
        "track": "board", "kind": "complaint", "domain": "urban", "region": "330106",
        "title": "标题", "body": "这是一条足够长的正文，用来测试附件。", "submit": "x",
        "attachments": (io.BytesIO(data), name or "x"),
    }  # fmt: skip
    response = signed_in.post(
        "/write?board=330100-secretary", data=form, content_type="multipart/form-data"
    )
    not_5xx(response)
    assert 400 <= response.status_code < 500, (name, data)
    assert message_count() == before
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_json_with_lone_surrogates_is_refused_not_stored(app, citizen):
    """A JSON string escape of a lone surrogate cannot reach the database."""
    headers = {"Authorization": f"Bearer {issue_token(citizen, name='t', now=T0)}",
               "Content-Type": "application/json"}  # fmt: skip
    body = json.dumps({"board": "330100-secretary", "region": "330106", "track": "board",
                       "kind": "complaint", "domain": "urban", "title": "标题\ud800",
                       "body": "正文正文正文正文正文正文\udfff"})  # fmt: skip
    response = app.test_client().post("/api/v1/messages", data=body, headers=headers)
    assert response.status_code == 422
    assert message_count() == 0


@pytest.mark.parametrize("where", ["form", "query", "path"])
def test_nul_characters_are_refused_before_any_view(signed_in, where):
    """NUL (which PostgreSQL text cannot hold) in a form, query or path is a clear 400."""
    before = message_count()
    if where == "form":
        response = signed_in.post(
            "/write?board=330100-secretary",
            data={"track": "board", "kind": "complaint", "domain": "urban", "region": "330106",
                  "title": "标题\x00", "body": "正文正文正文正文正文正文", "submit": "x"},
        )  # fmt: skip
    elif where == "query":
        response = signed_in.get("/search", query_string={"q": "物业\x00"})
    else:
        response = signed_in.get("/m/MS-2026-%00AAAA")
    assert response.status_code == 400
    assert "控制字符" in response.get_data(as_text=True)
    assert message_count() == before


def test_invisible_characters_are_dropped_from_what_citizens_write(signed_in, make_message):
    """A direction override cannot show a number reversed past the masking, and zero-width
    characters cannot hide words from search: both are dropped when a message is filed (form and
    service alike); joiners inside emoji stay."""
    response = signed_in.post(
        "/write?board=330100-secretary",
        data={"track": "board", "kind": "complaint", "domain": "urban", "region": "330106",
              "title": "物\u200b业\u2060乱\ufeff收\u00adfee",
              "body": "请联系他：\u202e8765 4321 831\u202c，家里👨\u200d👩\u200d👧三口人。",
              "submit": "x"},
    )  # fmt: skip
    assert response.status_code == 302
    filed = db.session.scalar(select(Message).order_by(Message.id.desc()))
    assert filed.title == "物业乱收fee"
    assert filed.body == "请联系他：8765 4321 831，家里👨\u200d👩\u200d👧三口人。"
    m = make_message(
        "approved", title="物\u200b业费", body="小区物\u200b业乱收停车费，每月两百元。"
    )
    assert "\u200b" not in m.title + m.body
    assert m.code in {hit.message.code for hit in search_messages("物业 停车费").hits}
