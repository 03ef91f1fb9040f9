"""Saved searches (as Alaveteli's tracks): saving from the search page, the daily digest mail,
the Atom feed behind an unguessable token, and the list in the account area."""

from __future__ import annotations

import email
import email.policy
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from conftest import T0, login
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from test_hostile_input import HEAVY, TEXT, not_5xx

from board.calendar.cli import tick
from board.errors import ValidationFailed
from board.extensions import db
from board.follow import services as follow
from board.follow.forms import SEARCH_ARGS
from board.follow.models import SavedSearch
from board.notify import services as notify
from board.notify.models import OutgoingMail

ATOM = "{http://www.w3.org/2005/Atom}"
PARKING = "小区物业乱收停车费"


def _digests() -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.kind == "saved_search_digest")
            .order_by(OutgoingMail.id)
        )
    )


def _quiet(*_args) -> None:
    pass


def _save(user, **args) -> SavedSearch:
    return follow.save_search(user, args, now=T0 + timedelta(days=1))


def test_search_page_saves_the_search_and_the_account_lists_and_deletes_it(client, troll):
    """Save from the search page (words and filters), see it listed, delete it."""
    login(client, troll)
    page = client.get("/search?q=停车&domain=urban").get_data(as_text=True)
    assert 'action="/account/searches"' in page
    response = client.post(
        "/account/searches", data={"q": "停车", "domain": "urban", "name": "停车收费"}
    )
    assert response.status_code == 302 and response.location.endswith("/account/searches")
    (saved,) = db.session.scalars(select(SavedSearch)).all()
    assert saved.user_id == troll.id and saved.name == "停车收费"
    assert saved.query == "domain=urban&q=%E5%81%9C%E8%BD%A6"
    listing = client.get("/account/searches")
    assert listing.headers["Cache-Control"] == "no-store"
    text = listing.get_data(as_text=True)
    assert "停车收费" in text and f"/feeds/saved/{saved.feed_token}.atom" in text
    response = client.post(f"/account/searches/{saved.id}/delete")
    assert response.status_code == 302
    assert db.session.scalars(select(SavedSearch)).all() == []


def test_empty_search_is_not_saved_and_saving_twice_keeps_one(client, troll):
    """Nothing to search for: an error and nothing stored. The same search twice: one row."""
    login(client, troll)
    response = client.post("/account/searches", data={"q": "  "}, follow_redirects=True)
    assert "请先输入关键词或选择筛选条件" in response.get_data(as_text=True)
    assert db.session.scalars(select(SavedSearch)).all() == []
    for _ in range(2):
        client.post("/account/searches", data={"q": "停车"})
    assert len(db.session.scalars(select(SavedSearch)).all()) == 1


def test_digest_mails_new_public_matches_once_a_day(
    runner, make_message, troll, tmp_path, moderator
):
    """Only messages published since the last digest, only public ones, one mail a day."""
    saved = _save(troll, q="停车")
    old = make_message("approved", title="停车场收费不透明", now=T0 - timedelta(days=5))
    new = make_message("approved", title=PARKING, now=T0 + timedelta(days=2))
    private = make_message(
        "approved", title="停车位被占用", wants_public=False, now=T0 + timedelta(days=2)
    )
    other = make_message(
        "approved",
        title="路灯不亮三个月",
        body="我们村口的路灯坏了三个月，晚上出行很不安全，希望尽快修复。",
        now=T0 + timedelta(days=2),
    )

    result = runner.invoke(args=["alerts", "digest", "--now", "2026-03-05T09:00"])
    assert result.exit_code == 0, result.output
    assert "1 digest mail(s) queued" in result.output
    (mail,) = _digests()
    assert mail.recipient == troll.email
    assert new.code in mail.body
    for absent in (old, private, other):
        assert absent.code not in mail.body
    # Again the same day: nothing more, even with a new match.
    make_message("approved", title="停车难问题", now=T0 + timedelta(days=3))
    runner.invoke(args=["alerts", "digest", "--now", "2026-03-05T20:00"])
    assert len(_digests()) == 1
    # The next day: the one published since.
    runner.invoke(args=["alerts", "digest", "--now", "2026-03-06T09:00"])
    mails = _digests()
    assert len(mails) == 2 and new.code not in mails[1].body and "停车难问题" in mails[1].body
    # A day without new matches sends nothing.
    runner.invoke(args=["alerts", "digest", "--now", "2026-03-07T09:00"])
    assert len(_digests()) == 2
    db.session.refresh(saved)
    assert str(saved.last_digest_on) == "2026-03-07"

    notify.deliver(now=T0 + timedelta(days=6))
    parsed = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        for f in sorted((tmp_path / "mail").glob("*.eml"))
    ]
    digests = [p for p in parsed if p["To"] == troll.email and "新留言" in p["Subject"]]
    assert len(digests) == 2
    assert f"http://127.0.0.1:8000/m/{new.code}" in digests[0].get_content()


def test_tick_runs_the_digest_from_the_digest_hour(make_message, troll, app):
    """`flask deadlines tick` queues the digest once the day's digest hour has come."""
    _save(troll, q="停车")
    make_message("approved", title=PARKING, now=T0 + timedelta(days=2))
    tick(T0 + timedelta(days=3) - timedelta(hours=3), echo=_quiet)  # 06:00 Beijing
    assert _digests() == []
    tick(T0 + timedelta(days=3), echo=_quiet)  # 09:00 Beijing
    assert len(_digests()) == 1
    tick(T0 + timedelta(days=3, hours=2), echo=_quiet)
    assert len(_digests()) == 1


def test_digest_skips_disabled_accounts(make_message, troll, runner):
    """A disabled account gets no digest."""
    _save(troll, q="停车")
    make_message("approved", title=PARKING, now=T0 + timedelta(days=2))
    troll.is_active_account = False
    db.session.commit()
    runner.invoke(args=["alerts", "digest", "--now", "2026-03-05T09:00"])
    assert _digests() == []


def test_feed_lists_public_matches_behind_its_token_only(client, make_message, troll):
    """The Atom feed needs the exact token; it lists public matches, never private ones."""
    saved = _save(troll, q="停车")
    public = make_message("approved", title=PARKING, now=T0 + timedelta(days=2))
    private = make_message(
        "approved", title="停车位被占用", wants_public=False, now=T0 + timedelta(days=2)
    )
    response = client.get(f"/feeds/saved/{saved.feed_token}.atom")
    assert response.status_code == 200
    assert response.content_type.startswith("application/atom+xml")
    feed = ET.fromstring(response.data)  # noqa: S314 (our own feed, in a test)
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert PARKING in titles and "停车位被占用" not in titles
    assert private.code not in response.get_data(as_text=True)
    assert public.code in response.get_data(as_text=True)
    for wrong in (saved.feed_token[:-1] + ("A" if saved.feed_token[-1] != "A" else "B"),
                  "x", saved.feed_token + "x", str(saved.id)):  # fmt: skip
        assert client.get(f"/feeds/saved/{wrong}.atom").status_code == 404
    follow.delete_saved_search(troll, saved.id)
    assert client.get(f"/feeds/saved/{saved.feed_token}.atom").status_code == 404


def test_another_users_saved_search_cannot_be_deleted(client, troll, make_user):
    """Someone else's id: 404, and the search stays."""
    owner = make_user(pen_name="主人")
    saved = _save(owner, q="停车")
    login(client, troll)
    assert client.post(f"/account/searches/{saved.id}/delete").status_code == 404
    assert client.post("/account/searches/999999/delete").status_code == 404
    assert client.post("/account/searches/99999999999999999999999999/delete").status_code == 404
    assert db.session.get(SavedSearch, saved.id) is not None
    assert f"/feeds/saved/{saved.feed_token}" not in client.get("/account/searches").get_data(
        as_text=True
    )


def test_saving_and_deleting_need_a_csrf_token(app, client, troll):
    """Without the token nothing is saved or deleted."""
    saved = _save(troll, q="路灯")
    login(client, troll)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client.post("/account/searches", data={"q": "停车"})
        assert client.post(f"/account/searches/{saved.id}/delete").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert [s.query for s in db.session.scalars(select(SavedSearch))] == [saved.query]


def test_account_pages_in_english(client, troll):
    """The saved-search page speaks English when asked."""
    _save(troll, q="停车")
    login(client, troll)
    client.get("/lang/en?next=/")
    text = client.get("/account/searches").get_data(as_text=True)
    assert "Saved searches" in text and "Delete" in text


@HEAVY
@given(values=st.fixed_dictionaries({name: TEXT for name in SEARCH_ARGS + ("name",)}), ident=TEXT)
def test_saved_search_routes_never_500_on_hostile_input(app, troll, values, ident):
    """Hostile search values, ids and tokens: a 4xx or a redirect, never a 500; whatever is
    saved reads back as a valid public search."""
    client = app.test_client()
    login(client, troll)
    not_5xx(client.post("/account/searches", data=values))
    path = ident.replace("/", "%2F").replace("?", "%3F").replace("#", "%23")
    not_5xx(client.post(f"/account/searches/{path}/delete"))
    not_5xx(client.get(f"/feeds/saved/{path}.atom"))
    not_5xx(client.get("/account/searches"))
    for saved in db.session.scalars(select(SavedSearch)):
        assert len(saved.query) <= 1000 and "\x00" not in saved.query
        not_5xx(client.get(f"/feeds/saved/{saved.feed_token}.atom"))


def test_a_search_too_long_to_store_is_refused_clearly(troll):
    """200 Chinese characters URL-encode to 1,800: refused with a message, nothing stored."""
    with pytest.raises(ValidationFailed, match="搜索条件太长"):
        _save(troll, q="长" * 200)
    assert db.session.scalars(select(SavedSearch)).all() == []
