"""What one follows is mail one may turn off: the saved-search digest and follower mail are the
optional kind "following", so the one-click link at the foot of a digest stops the next digest
(and follower mail), and /account/notifications shows it off and turns it on again. The digest
always links to its search on the site."""

from __future__ import annotations

import re
from datetime import timedelta

from conftest import T0, login
from sqlalchemy import select

from board.extensions import db
from board.follow import services as follow
from board.notify import preferences
from board.notify.models import OutgoingMail

UNSUBSCRIBE = re.compile(r"http://127\.0\.0\.1:8000(/unsubscribe/[\w.-]+)")


def _digests(address: str) -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.kind == "saved_search_digest", OutgoingMail.recipient == address)
            .order_by(OutgoingMail.id)
        )
    )


def test_digest_and_follower_mail_belong_to_the_following_category():
    assert preferences.category_for("saved_search_digest") == preferences.FOLLOWING
    assert preferences.category_for("sign_off:follower") == preferences.FOLLOWING
    assert preferences.category_for("close:follower") == preferences.FOLLOWING
    assert preferences.category_for("sign_off:cosigner") == preferences.COSIGNED
    assert preferences.category_for("reject:author") is None  # statutory: always sent
    assert preferences.FOLLOWING in preferences.CATEGORIES


def test_the_digests_unsubscribe_link_stops_the_next_digest(
    app, client, runner, make_message, troll
):
    saved = follow.save_search(troll, {"q": "停车"}, now=T0 + timedelta(days=1))
    make_message("approved", title="小区物业乱收停车费", now=T0 + timedelta(days=2))
    runner.invoke(args=["alerts", "digest", "--now", "2026-03-05T09:00"])
    (mail,) = _digests(troll.email)
    # The digest links to the search itself, and to its own one-click unsubscribe.
    assert f"http://127.0.0.1:8000/search?{saved.query}" in mail.body
    link = UNSUBSCRIBE.search(mail.body).group(1)
    token = link.rsplit("/", 1)[1]
    assert preferences.read_unsubscribe_token(token) == (troll.email, preferences.FOLLOWING)

    assert client.post(link).status_code == 200
    assert preferences.opted_out(troll.email) == {preferences.FOLLOWING}  # nothing else
    login(client, troll)
    page = client.get("/account/notifications").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="following"[^>]*>', page).group(0)
    assert "checked" not in box

    make_message("approved", title="停车难问题", now=T0 + timedelta(days=3))
    runner.invoke(args=["alerts", "digest", "--now", "2026-03-06T09:00"])
    assert len(_digests(troll.email)) == 1  # turned off: no second digest

    # Turned on again on the settings page: the next day's digest is queued.
    client.post("/account/notifications", data={"following": "y", "progress": "y"})
    assert preferences.FOLLOWING not in preferences.opted_out(troll.email)
    make_message("approved", title="停车位被占用", now=T0 + timedelta(days=4))
    runner.invoke(args=["alerts", "digest", "--now", "2026-03-07T09:00"])
    assert len(_digests(troll.email)) == 2
