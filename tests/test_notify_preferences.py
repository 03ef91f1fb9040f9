"""Notification preferences and one-click unsubscribe (RFC 8058): every mail carries the link
and the List-Unsubscribe headers; a POST to it, without signing in or a CSRF token, turns that
kind of mail off; notices a person must receive are sent regardless."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

from conftest import T0, login, make_test_app
from hypothesis import given
from sqlalchemy import select
from test_hostile_input import HYPOTHESIS, TEXT, not_5xx
from test_notify import smtp_server  # noqa: F401 (the fixture)

from board.extensions import db
from board.models import Role
from board.notify import preferences
from board.notify import services as notify
from board.notify.models import MailOptOut, OutgoingMail

UNSUBSCRIBE = re.compile(r"http://127\.0\.0\.1:8000(/unsubscribe/[\w.-]+)")


def _to(address: str) -> list[OutgoingMail]:
    query = select(OutgoingMail).where(OutgoingMail.recipient == address)
    return list(db.session.scalars(query.order_by(OutgoingMail.id)))


def _files(app) -> list[email.message.EmailMessage]:
    notify.deliver(now=T0 + timedelta(hours=2))
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(Path(app.config["MAIL_DIR"]).glob("*.eml"))
    ]


def test_every_mail_has_the_one_click_headers_and_the_footer_link(app, make_message, citizen):
    """File sink: each mail names its unsubscribe link in the headers and in the body."""
    make_message("assigned")
    mails = _files(app)
    assert len(mails) >= 3  # the author's and the handlers' mails
    for mail in mails:
        header = str(mail["List-Unsubscribe"])
        assert header.startswith("<http://127.0.0.1:8000/unsubscribe/") and header.endswith(">")
        assert str(mail["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
        assert UNSUBSCRIBE.search(mail.get_content())


def test_one_click_post_turns_off_progress_mail_but_not_statutory_notices(
    database, tmp_path, app, make_message, citizen
):
    """The mail client's POST (no session, no CSRF token, CSRF protection on) turns off
    progress mail for the address; a rejection, which the person must get, still comes."""
    make_message("approved")
    (approval,) = _to(citizen.email)
    path = UNSUBSCRIBE.search(approval.body).group(1)
    protected = make_test_app(database, tmp_path, WTF_CSRF_ENABLED=True).test_client()
    answer = protected.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert preferences.opted_out(citizen.email) == {preferences.PROGRESS}

    make_message("approved", title="第二条留言：路灯不亮")
    assert len(_to(citizen.email)) == 1  # no new progress mail
    make_message("rejected", title="第三条留言：被退回")
    assert [m.kind for m in _to(citizen.email)] == ["approve:author", "reject:author"]


def test_the_unsubscribe_page_asks_before_it_acts(app, client, make_message, citizen):
    """GET shows what would be turned off and changes nothing (link scanners use it)."""
    make_message("approved")
    (approval,) = _to(citizen.email)
    path = UNSUBSCRIBE.search(approval.body).group(1)
    page = client.get(path)
    assert page.status_code == 200 and citizen.email in page.get_data(as_text=True)
    assert preferences.opted_out(citizen.email) == set()


def test_a_forged_or_damaged_link_is_refused(app, client, citizen):
    """A token not signed by this site, or edited, changes nothing."""
    good = preferences.unsubscribe_token(citizen.email, preferences.PROGRESS)
    for token in (good[:-2] + "xx", "not-a-token", good.replace(".", "", 1)):
        assert client.post(f"/unsubscribe/{token}").status_code == 400
    assert db.session.scalars(select(MailOptOut)).all() == []


def test_a_statutory_notice_link_turns_off_every_optional_mail(app, client, make_message, citizen):
    """The link in a notice that is always sent turns off all optional mail instead."""
    make_message("rejected")
    (rejection,) = _to(citizen.email)
    path = UNSUBSCRIBE.search(rejection.body).group(1)
    assert client.post(path).status_code == 200
    assert preferences.opted_out(citizen.email) == set(preferences.CATEGORIES)


def test_settings_page_turns_cosigned_replies_off(app, client, make_message, make_user):
    """A co-signer who turns off co-signed replies gets none; the page shows the choice."""
    cosigner = make_user(Role.CITIZEN, pen_name="附议人")
    login(client, cosigner)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "始终发送的通知" in page and "每日待办" not in page  # digests are staff-only
    saved = client.post("/account/notifications", data={"progress": "y"})
    assert saved.status_code == 303
    assert preferences.opted_out(cosigner.email) == {
        preferences.COSIGNED,
        preferences.FOLLOWING,
        preferences.DIGESTS,
    }
    assert preferences.category_for("sign_off:cosigner") == preferences.COSIGNED


def test_smtp_mail_carries_the_headers(app, make_message, smtp_server):  # noqa: F811
    """The real SMTP server receives the same headers."""
    controller, sink = smtp_server
    app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}"
    make_message("approved")
    notify.deliver(now=T0 + timedelta(hours=2))
    received = [
        email.message_from_bytes(e.original_content, policy=email.policy.default)
        for e in sink.envelopes
    ]
    assert received and all(
        str(m["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click" for m in received
    )


@HYPOTHESIS
@given(token=TEXT)
def test_hostile_unsubscribe_tokens_never_500(app, token):
    """Any text as a token: no 500, nothing stored."""
    from urllib.parse import quote

    client = app.test_client()
    path = f"/unsubscribe/{quote(token, safe='') or 'x'}"
    not_5xx(client.get(path))
    not_5xx(client.post(path))
    assert db.session.scalars(select(MailOptOut)).all() == []
