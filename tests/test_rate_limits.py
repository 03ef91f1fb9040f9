"""Rate limits (DESIGN §7): posting, co-signing, login, registration, search and API writes."""

from __future__ import annotations

import os
import re
import uuid

import pytest
import redis
from conftest import PASSWORD, login, make_test_app
from webform import compose_fields

from board.auth.services import issue_token
from board.clock import utcnow
from board.extensions import db
from board.models import Message

REDIS_URL = "redis://127.0.0.1:6379/0"
BODY = "小区门口的三盏路灯坏了三个月，晚上很黑，老人出行不便，希望有关部门尽快修复。"
FORM = compose_fields(body=BODY)
API_SUBMISSION = {
    "board": "330100-secretary",
    "region": "330106",
    "track": "board",
    "kind": "complaint",
    "domain": "urban",
    "body": BODY,
    "private_note": "",
    "wants_public": True,
}


@pytest.fixture
def limited(app, database, tmp_path):
    """A second app on the test's database with rate limits on (memory storage, fresh counters)."""
    return make_test_app(database, tmp_path, RATELIMIT_ENABLED=True)


def _post_message(client, n: int):
    """Submit one message through the web form (a distinct title each time)."""
    return client.post(
        "/write?board=330100-secretary", data={**FORM, "title": f"路灯坏了第{n}次反映"}
    )


def _seconds_in(text: str) -> int:
    """The "请在 N 秒后" figure of a rate-limit message."""
    found = re.search(r"请在 (\d+) 秒后", text)
    assert found, text
    return int(found.group(1))


def _assert_retry_after(response) -> int:
    """The 429 carries Retry-After in whole seconds, and returns it."""
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert seconds >= 1
    return seconds


def test_web_posting_is_limited_to_ten_an_hour_per_account(limited, citizen):
    """The 11th message in an hour from one account gets the 429 page with Retry-After."""
    client = limited.test_client()
    login(client, citizen)
    for n in range(10):
        assert _post_message(client, n).status_code == 302, n
    refused = _post_message(client, 10)
    seconds = _assert_retry_after(refused)
    page = refused.get_data(as_text=True)
    assert refused.mimetype == "text/html"
    assert "操作过于频繁" in page and "北京时间" in page
    assert abs(_seconds_in(page) - seconds) <= 1
    assert db.session.query(Message).count() == 10


def test_previews_do_not_count_toward_the_posting_limit(limited, citizen):
    """Only submissions that create a message are counted; previews and failed forms are free."""
    client = limited.test_client()
    login(client, citizen)
    for n in range(12):
        response = client.post(
            "/write?board=330100-secretary",
            data={**FORM, "title": f"预览{n}", "submit": "", "preview": "预览"},
        )
        assert response.status_code == 200, n
    assert _post_message(client, 0).status_code == 302


def test_posting_limit_is_shared_between_web_and_api(limited, citizen):
    """Ten messages on the web leave none for the same account over the API: 429 JSON."""
    client = limited.test_client()
    login(client, citizen)
    for n in range(10):
        assert _post_message(client, n).status_code == 302
    api = limited.test_client()
    response = api.post(
        "/api/v1/messages",
        json={**API_SUBMISSION, "title": "再反映一次路灯"},
        headers={"Authorization": f"Bearer {issue_token(citizen, name='t', now=utcnow())}"},
    )
    _assert_retry_after(response)
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited"
    assert abs(_seconds_in(error["message"]) - int(response.headers["Retry-After"])) <= 1


def test_posting_limit_per_ip_covers_many_accounts(limited, make_user, directory):
    """Thirty messages an hour per address, however many accounts post them."""
    client = limited.test_client()
    posted = 0
    for _account in range(4):
        client.post("/logout")
        login(client, make_user())
        for _n in range(10):
            response = _post_message(client, posted)
            if response.status_code == 429:
                break
            assert response.status_code == 302
            posted += 1
    assert posted == 30


def test_cosigning_is_limited_per_account(limited, make_message, troll):
    """Co-signing past 60 an hour is refused, also through the API's cosign action."""
    client = limited.test_client()
    login(client, troll)
    message = make_message("approved")
    for _n in range(60):
        assert client.post(f"/m/{message.code}/cosign").status_code in (302, 303, 409)
    assert client.post(f"/m/{message.code}/cosign").status_code == 429
    token = issue_token(troll, name="t", now=utcnow())
    api = limited.test_client().post(
        f"/api/v1/messages/{message.code}/actions/cosign",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 429
    assert api.get_json()["error"]["code"] == "rate_limited"


def test_login_is_limited_to_ten_a_minute_per_ip(limited, citizen):
    """The 11th sign-in attempt in a minute from one address is refused before any check."""
    client = limited.test_client()
    for _n in range(10):
        response = client.post("/login", data={"email": f"x{_n}@example.org", "password": "nope"})
        assert response.status_code == 422
    response = client.post("/login", data={"email": citizen.email, "password": PASSWORD})
    _assert_retry_after(response)
    other_address = limited.test_client().post(
        "/login",
        data={"email": citizen.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert other_address.status_code == 302


def test_registration_is_limited_to_five_an_hour_per_ip(limited, directory):
    """A sixth account from one address within the hour is refused."""
    client = limited.test_client()
    for n in range(5):
        client.post("/logout")
        response = client.post(
            "/register",
            data={
                "email": f"new{n}@example.org",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "pen_name": f"新用户{n}",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    client.post("/logout")
    response = client.post(
        "/register",
        data={
            "email": "new9@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "pen_name": "九",
        },
    )
    _assert_retry_after(response)


@pytest.mark.parametrize("path", ["/search?q=路灯", "/api/v1/search?q=路灯"])
def test_search_is_limited_to_sixty_a_minute_per_ip(limited, directory, path):
    """The web and API searches each refuse the 61st query in a minute from one address — the
    search page too when the page cache answers it (the cache must not skip the limit)."""
    client = limited.test_client()
    answered_by = []
    for _n in range(60):
        page = client.get(path)
        assert page.status_code == 200
        answered_by.append(page.headers.get("X-Page-Cache"))
    if not path.startswith("/api/"):
        assert "hit" in answered_by  # the cached page is what is being limited
    response = client.get(path)
    _assert_retry_after(response)
    if path.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "rate_limited"


def test_api_writes_are_limited_per_token_account(limited, make_message, moderator):
    """Every API write of one account draws on one counter (120 an hour), refused or not."""
    message = make_message("submitted")
    headers = {"Authorization": f"Bearer {issue_token(moderator, name='t', now=utcnow())}"}
    client = limited.test_client()
    for _n in range(120):
        response = client.post(
            f"/api/v1/messages/{message.code}/actions/approve", json={}, headers=headers
        )
        assert response.status_code != 429
    response = client.post(
        f"/api/v1/messages/{message.code}/actions/approve", json={}, headers=headers
    )
    _assert_retry_after(response)


def test_limits_are_off_when_disabled(client, citizen):
    """The default test app has limits off: many sign-in failures from one address pass through."""
    for n in range(12):
        assert (
            client.post("/login", data={"email": f"x{n}@example.org", "password": "x"}).status_code
            == 422
        )


def _redis_or_skip() -> None:
    """Skip without a Redis server (but fail in CI, where one must run)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable at 127.0.0.1:6379 in CI")
        pytest.skip("no Redis server reachable")


def test_two_app_instances_share_counters_through_redis(app, database, tmp_path, citizen):
    """Sign-in tries on one node count on another: the counters live in Redis, not in a worker."""
    _redis_or_skip()
    # A client address of its own keeps this run's counters apart from any other run's.
    address = f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    config = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL}
    server = redis.Redis.from_url(REDIS_URL)
    pattern = f"*ip:{address}*"
    try:
        node_a = make_test_app(database, tmp_path, **config)
        client_a = node_a.test_client()
        client_a.environ_base["REMOTE_ADDR"] = address
        for n in range(10):
            response = client_a.post("/login", data={"email": f"x{n}@e.org", "password": "x"})
            assert response.status_code == 422
        assert list(server.scan_iter(pattern)), "the counters were not written to Redis"
        # A second node: a fresh app and a fresh storage connection, as in another process.
        node_b = make_test_app(database, tmp_path, **config)
        client_b = node_b.test_client()
        client_b.environ_base["REMOTE_ADDR"] = address
        response = client_b.post("/login", data={"email": citizen.email, "password": PASSWORD})
        assert response.status_code == 429
    finally:
        for key in server.scan_iter(pattern):
            server.delete(key)
        server.close()
