"""Mail in the recipient's language: each account's `locale` picks the language of its mails,
subjects included, through the file sink and a real SMTP server; addresses without an account
(units' mailboxes) get Chinese."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timedelta
from pathlib import Path

from conftest import T0
from sqlalchemy import select
from test_notify import smtp_server  # noqa: F401 (the fixture)

from board.calendar import services as clocks
from board.calendar.cli import tick
from board.extensions import db
from board.models import Role, User
from board.notify.models import OutgoingMail

CJK = re.compile(r"[\u4e00-\u9fff]")
GOOD_REGISTRATION = {
    "email": "amy.lin@example.org",
    "password": "long-enough-secret",
    "confirm": "long-enough-secret",
    "pen_name": "Amy",
}


def _beijing(text: str) -> datetime:
    return datetime.fromisoformat(text) - timedelta(hours=8)


def _quiet(*_args) -> None:
    pass


def _to(address: str) -> list[OutgoingMail]:
    query = select(OutgoingMail).where(OutgoingMail.recipient == address)
    return list(db.session.scalars(query.order_by(OutgoingMail.id)))


def _files(app) -> list[email.message.EmailMessage]:
    """The .eml files the file sink wrote, parsed."""
    folder = Path(app.config["MAIL_DIR"])
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def _interface_text(body: str, message) -> str:
    """The body without the user's own words and codes, which stay as written."""
    for text in (message.title, message.code, message.unit.name if message.unit else ""):
        body = body.replace(text, "") if text else body
    return body


def test_english_author_gets_english_mail_and_chinese_author_chinese_in_the_file_sink(
    make_message, citizen, make_user, app
):
    """The approval mail of an English account is English from subject to footer; the same
    event for a Chinese account is Chinese; both land as .eml files."""
    citizen.locale = "en"
    db.session.commit()
    english = make_message("approved")
    chinese_author = make_user(Role.CITIZEN, pen_name="李华")
    chinese = make_message("approved", author=chinese_author)

    tick(T0 + timedelta(hours=2), echo=_quiet)

    by_to = {str(m["To"]): m for m in _files(app)}
    en_mail, zh_mail = by_to[citizen.email], by_to[chinese_author.email]
    assert en_mail["Subject"] == f"[Minsheng] Your message {english.code} has been approved"
    en_body = en_mail.get_content()
    assert "Hello," in en_body and "Details: http://127.0.0.1:8000/m/" in en_body
    assert "This mail was sent automatically" in en_body
    assert not CJK.search(_interface_text(en_body, english))
    assert zh_mail["Subject"] == f"【民声】您的留言 {chinese.code} 已通过审核"
    assert "您好：" in zh_mail.get_content() and "查看详情：" in zh_mail.get_content()


def test_handlers_get_overdue_mail_in_their_own_language_over_smtp(
    make_message,
    handler,
    make_user,
    app,
    smtp_server,  # noqa: F811
):
    """Real SMTP: one overdue case, two handlers of the unit: the English one reads the policy
    name and the sentence in English, the Chinese one in Chinese; the unit's own mailbox (no
    account) gets Chinese."""
    controller, sink = smtp_server
    app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}"
    clocks.load_calendar_year(2026, now=T0)
    english = make_user(Role.HANDLER, unit_code="330100-zj", locale="en")
    message = make_message("assigned")

    tick(_beijing("2026-03-31T08:00"), echo=_quiet)

    received = [
        email.message_from_bytes(e.original_content, policy=email.policy.default)
        for e in sink.envelopes
    ]
    overdue = {str(m["To"]): m for m in received if message.code in str(m["Subject"])}
    en, zh = overdue[english.email], overdue[handler.email]
    assert str(en["Subject"]).startswith(f"[Minsheng] Overdue: {message.code} (due ")
    en_body = en.get_content()
    assert "day(s) overdue" in en_body and "Reply (complaints, requests for help)" in en_body
    assert not CJK.search(_interface_text(en_body, message))
    assert str(zh["Subject"]).startswith(f"【民声】已超期：{message.code}")
    assert "请尽快办理" in zh.get_content()
    digests = [m for m in received if "unit_digest" in str(m["X-Minsheng-Kind"])]
    assert {str(m["To"]) for m in digests} >= {english.email, handler.email}
    english_digest = next(m for m in digests if str(m["To"]) == english.email)
    assert str(english_digest["Subject"]).startswith("[Minsheng] Open messages of ")


def test_registration_in_english_makes_an_english_account(client, directory):
    """The interface language at registration becomes the account's mail language."""
    client.get("/lang/en?next=/")
    response = client.post("/register", data=GOOD_REGISTRATION)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == GOOD_REGISTRATION["email"]))
    assert user.locale == "en"


def test_registration_in_chinese_makes_a_chinese_account(client, directory):
    """Without a language choice the account (and its mail) is Chinese."""
    assert client.post("/register", data=GOOD_REGISTRATION).status_code == 302
    user = db.session.scalar(select(User).where(User.email == GOOD_REGISTRATION["email"]))
    assert user.locale == "zh_CN"


def test_follow_digest_and_invitation_mails_speak_the_recipients_language(app):
    """The mails of following, saved searches and staff invitations are translated too: in
    English nothing but the user's own words (title, search name) and codes stays Chinese."""
    from types import SimpleNamespace

    from board.models import ROLE_LABELS, STATE_LABELS, State
    from board.notify.outbox import render

    message = SimpleNamespace(code="MS-2026-ABCDEF")
    today = datetime(2026, 3, 2).date()
    contexts = {
        "follower_event": dict(
            message=message,
            title="路灯不亮",
            what="answered",
            state_label=STATE_LABELS[State.REPLIED],
            url="u",
            follows_url="f",
        ),
        "saved_search_digest": dict(
            saved=SimpleNamespace(name="路灯"),
            today=today,
            more=True,
            search_url="s",
            manage_url="m",
            items=[
                dict(
                    code="MS-2026-ABCDEF",
                    title="路灯不亮",
                    state=STATE_LABELS[State.REPLIED],
                    published_on=today,
                    url="u",
                )
            ],
        ),
        "invitation": dict(
            role_label=ROLE_LABELS[Role.HANDLER],
            unit=None,
            url="u",
            expires_at=datetime(2026, 3, 9, 1, 0),
        ),
    }
    with app.test_request_context():
        for template, context in contexts.items():
            subject, body = render(template, locale="en", unsubscribe_url="x", **context)
            english = (subject + body).replace("路灯不亮", "").replace("路灯", "")
            assert not CJK.search(english), (template, CJK.findall(english))
            subject, body = render(template, locale="zh_CN", unsubscribe_url="x", **context)
            assert CJK.search(subject), template
