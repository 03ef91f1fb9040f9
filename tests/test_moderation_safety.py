"""Moderation safety: the sensitive-word list flags (never drops) and the per-message review lock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import T0, login
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import func, select

from board.auth.services import issue_token
from board.clock import utcnow
from board.errors import PermissionDenied
from board.extensions import db
from board.messages import services as msg
from board.models import Role, State
from board.moderation import locks, words
from board.moderation.models import ModerationLock, SensitiveWord
from board.seed.reference import SENSITIVE_WORDS, seed_sensitive_words


@pytest.fixture
def word_list(admin):
    """A list with a Chinese word and an ASCII one."""
    words.add_words("办证\nVPN\n", admin, now=T0)


def test_admin_edits_the_list_through_the_page(app, client, admin):
    """Add several words (deduplicated, case-insensitive) and delete one, with CSRF-protected forms."""
    login(client, admin)
    response = client.post("/moderation/words", data={"words": "办证\n  \nvpn\nVPN\n办证"})
    assert response.status_code == 302
    listed = sorted(db.session.scalars(select(SensitiveWord.word)))
    assert listed == ["vpn", "办证"]
    page = client.get("/moderation/words").get_data(as_text=True)
    assert "办证" in page and "vpn" in page
    row = db.session.scalar(select(SensitiveWord).where(SensitiveWord.word == "vpn"))
    assert client.post(f"/moderation/words/{row.id}/delete").status_code == 302
    assert list(db.session.scalars(select(SensitiveWord.word))) == ["办证"]
    assert client.post("/moderation/words", data={"words": "x" * 41}).status_code == 422


@pytest.mark.parametrize("role", ["moderator", "citizen", "handler"])
def test_only_admins_edit_the_list(app, client, request, role):
    """Moderators use the list; only admins change it."""
    user = request.getfixturevalue(role)
    login(client, user)
    assert client.get("/moderation/words").status_code == 403
    assert client.post("/moderation/words", data={"words": "x"}).status_code == 403
    with pytest.raises(PermissionDenied):
        words.add_words("x", user, now=T0)


def test_matching_finds_words_case_insensitively_and_highlights_escaped(app, word_list):
    """Words are found anywhere (also inside longer text), highlighted, and the rest escaped."""
    text = "<script>alert(1)</script>帮忙办证，用vpn也行"
    assert words.find(text) == ["办证", "vpn"]
    html = str(words.highlight(text))
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert '<mark class="sensitive">办证</mark>' in html
    assert '<mark class="sensitive">vpn</mark>' in html
    assert words.find("没有问题的留言") == []


def test_flagged_message_is_marked_in_queue_and_highlighted_not_dropped(
    app, client, moderator, word_list, make_message
):
    """The message stays in the queue with a flag; the review page highlights the words."""
    flagged = make_message(
        title="有人在小区门口办证", body="小区门口每天有人发小广告办证，还有 VPN 广告。"
    )
    clean = make_message(title="路灯坏了", body="小区门口的路灯坏了一个多月，晚上很不安全。")
    login(client, moderator)
    queue = client.get("/moderation/").get_data(as_text=True)
    assert flagged.code in queue and clean.code in queue
    assert queue.count('class="badge flagged"') == 1
    review = client.get(f"/moderation/{flagged.code}").get_data(as_text=True)
    assert '<mark class="sensitive">办证</mark>' in review
    assert '<mark class="sensitive">VPN</mark>' in review
    assert "含敏感词" in review
    assert "含敏感词" not in client.get(f"/moderation/{clean.code}").get_data(as_text=True)
    # flagged, not dropped: it can be approved like any other
    response = client.post(f"/moderation/{flagged.code}", data={"action": "approve"})
    assert response.status_code == 302
    db.session.refresh(flagged)
    assert flagged.state == State.RECEIVED


def test_reference_seed_adds_a_default_list_once(app):
    """The reference seed brings the short default list; a second run adds nothing."""
    assert seed_sensitive_words() == len(SENSITIVE_WORDS)
    assert seed_sensitive_words() == 0
    assert db.session.scalar(select(func.count(SensitiveWord.id))) == len(SENSITIVE_WORDS)


def test_second_moderator_sees_the_lock_and_cannot_decide(app, moderator, make_user, make_message):
    """A opens the message; B is told A holds it, gets no decision forms, and a POST is refused."""
    other = make_user(Role.MODERATOR, pen_name="审核员乙")
    m = make_message()
    first, second = app.test_client(), app.test_client()
    login(first, moderator)
    login(second, other)
    assert "已锁定给您审核" in first.get(f"/moderation/{m.code}").get_data(as_text=True)
    page = second.get(f"/moderation/{m.code}").get_data(as_text=True)
    assert f"{moderator.pen_name} 正在审核这条留言" in page
    assert 'value="approve"' not in page
    queue = second.get("/moderation/").get_data(as_text=True)
    assert f"{moderator.pen_name} 审核中" in queue
    refused = second.post(f"/moderation/{m.code}", data={"action": "approve"})
    assert refused.status_code == 409
    assert "正在审核这条留言" in refused.get_data(as_text=True)
    db.session.refresh(m)
    assert m.state == State.SUBMITTED
    # the API is no way around the lock
    token = issue_token(other, name="t", now=T0)
    api = second.post(
        f"/api/v1/messages/{m.code}/actions/approve",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 409 and api.get_json()["error"]["code"] == "locked"
    # the holder decides; the lock is released with the decision
    assert first.post(f"/moderation/{m.code}", data={"action": "approve"}).status_code == 302
    db.session.refresh(m)
    assert m.state == State.RECEIVED
    assert db.session.get(ModerationLock, m.id) is None


def test_lock_expires_after_fifteen_minutes(app, moderator, make_user, make_message):
    """An abandoned lock does not block the others for ever."""
    other = make_user(Role.MODERATOR)
    m = make_message()
    now = utcnow()
    assert locks.take_lock(m, moderator, now=now).moderator_id == moderator.id
    assert locks.take_lock(m, other, now=now + timedelta(minutes=14)).moderator_id == moderator.id
    with pytest.raises(locks.LockHeld):
        msg.reject_message(m, other, reason="unclear", now=now + timedelta(minutes=14))
    later = now + timedelta(minutes=15, seconds=1)
    assert locks.take_lock(m, other, now=later).moderator_id == other.id
    msg.reject_message(m, other, reason="unclear", now=later)
    assert m.state == State.REJECTED
    assert db.session.get(ModerationLock, m.id) is None


def test_words_are_found_in_traditional_and_full_width_forms(app, admin):
    """Writing a listed word in traditional characters or full-width letters does not slip past
    the list; the highlight marks the word as written."""
    words.add_words("法轮功\nvpn\n", admin, now=T0)
    text = "有人在群里發法輪功傳單，還賣ＶＰＮ。"
    assert words.find(text) == ["法轮功", "vpn"]
    html = str(words.highlight(text))
    assert '<mark class="sensitive">法輪功</mark>' in html
    assert '<mark class="sensitive">ＶＰＮ</mark>' in html
    words.add_words("學區房", admin, now=T0)
    assert words.find("学区房") == ["学区房"]


def test_words_are_found_with_filler_between_their_characters(app, admin):
    """Spaces, dots, stars, symbols and zero-width characters put between a word's characters do
    not slip it past the list; clause punctuation and line breaks are not skipped, and a word
    holding filler on purpose (`C++`) is matched as written, never as `c`."""
    words.add_words("办证\nvpn\n法轮功\nC++\n", admin, now=T0)
    for text, found in [
        ("门口有人办 证", ["办证"]),
        ("翻墙用V.P.N", ["vpn"]),
        ("发法*轮*功传单", ["法轮功"]),
        ("发法\u200b轮\u2060功传单", ["法轮功"]),
        ("办🌸证，加微信", ["办证"]),
        ("法 輪 功", ["法轮功"]),
        ("我去办，证件在家", []),
        ("先办\n证件", []),
        ("学C语言", []),
        ("学C++语言", ["c++"]),
    ]:
        assert words.find(text) == found, text
    html = str(words.highlight("门口有人办 证"))
    assert '<mark class="sensitive">办 证</mark>' in html
    html = str(words.highlight("发法*轮*功传单"))
    assert '<mark class="sensitive">法*轮*功</mark>' in html


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(st.sampled_from(list("办證证法輪轮功vVpPnN*. \u200b\n，。🌸ＶＰＮx")), max_size=40)
)
def test_highlighting_keeps_every_character_and_marks_whole_words(app, admin, text):
    """Whatever the filler, script or width, the highlighted text is the text, escaped, with
    marks around listed words only: nothing dropped, doubled or moved."""
    if not words.find("办证"):
        words.add_words("办证\nvpn\n法轮功\n", admin, now=T0)
    html = str(words.highlight(text))
    marked = re.findall(r'<mark class="sensitive">(.*?)</mark>', html, flags=re.S)
    plain = html.replace('<mark class="sensitive">', "").replace("</mark>", "")
    assert plain == str(escape(text))
    for piece in marked:
        assert len(words.find(piece)) == 1, piece  # each mark holds one listed word
    assert set(words.find(*marked)) == set(words.find(text))  # and every word found is marked
