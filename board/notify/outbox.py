"""The mail outbox: who a mail goes to, rendering it in the recipient's language, queueing it.

Mail rows are queued in the transaction that writes the event or the reminder, so a mail exists
exactly when its cause does; `dedupe_key` makes each one exactly-once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Board, Cosign, Event, Message, Unit, User
from . import preferences
from .models import MailState, OutgoingMail

# ---------------------------------------------------------------------------------------------
# Addresses


def unit_addresses(unit: Unit | None, role: str) -> list[str]:
    """The active staff of a unit with the role, and the unit's own address if it has one."""
    if unit is None:
        return []
    emails = db.session.scalars(
        select(User.email)
        .where(User.unit_id == unit.id, User.role == role, User.is_active_account.is_(True))
        .order_by(User.id)
    ).all()
    if unit.email:
        emails.append(unit.email)
    return _unique(emails)


def _unique(emails: Iterable[str | None]) -> list[str]:
    seen: dict[str, str] = {}
    for email in emails:
        if email and email.strip() and email.strip().lower() not in seen:
            seen[email.strip().lower()] = email.strip()
    return list(seen.values())


def _author_address(message: Message) -> list[str]:
    author = message.author
    if author is None or not author.is_active_account:
        return []
    return [author.email]


def _cosigner_addresses(message: Message) -> list[str]:
    return _unique(
        db.session.scalars(
            select(User.email)
            .join(Cosign, Cosign.user_id == User.id)
            .where(
                Cosign.message_id == message.id,
                User.is_active_account.is_(True),
                User.id != (message.author_id or 0),
            )
            .order_by(Cosign.id)
        )
    )


def _office_of(message: Message) -> Unit | None:
    board: Board | None = message.board
    return board.office_unit if board is not None else None


# ---------------------------------------------------------------------------------------------
# Rendering


def _base_url() -> str:
    return str(current_app.config.get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/")


def link(path: str) -> str:
    """An absolute link for a mail (mails leave the request, so url_for cannot know the host)."""
    return _base_url() + path


@dataclass
class Draft:
    """A mail about to be queued."""

    recipient: str
    kind: str
    dedupe_key: str
    template: str
    context: dict
    message: Message | None = None


def event_drafts(
    event: Event,
    addresses: Iterable[str],
    audience: str,
    *,
    kind: str,
    template: str,
    context: dict,
) -> list[Draft]:
    """The mails about `event` to each address of one audience (author, handlers, follower…):
    of kind `kind:audience`, queued at most once per event, audience and address."""
    return [
        Draft(
            recipient=address,
            kind=f"{kind}:{audience}",
            dedupe_key=f"event:{event.id}:{audience}:{address.lower()}",
            template=template,
            context=context,
            message=event.message,
        )
        for address in addresses
    ]


def recipient_locale(address: str) -> str:
    """The language mail to `address` is written in: its account's choice; Chinese for addresses
    without an account (units' mailboxes) and for unknown languages."""
    default = str(current_app.config.get("BABEL_DEFAULT_LOCALE") or "zh_CN")
    locale = db.session.scalar(
        select(User.locale).where(func.lower(User.email) == address.strip().lower())
    )
    return locale if locale in current_app.config.get("LANGUAGES", ()) else default


def unsubscribe_link(address: str, kind: str) -> str:
    """The one-click link that turns off this kind of mail for the address (every optional
    kind, for a notice that is always sent)."""
    token = preferences.unsubscribe_token(address, preferences.category_for(kind))
    return link(f"/unsubscribe/{token}")


def render(template: str, *, locale: str | None = None, **context) -> tuple[str, str]:
    """(subject, body) from `mail/<template>.txt` in `locale`: the first line is the subject."""
    locale = locale or str(current_app.config.get("BABEL_DEFAULT_LOCALE") or "zh_CN")
    with force_locale(locale):
        text = render_template(f"mail/{template}.txt", base_url=_base_url(), **context)
    subject, _, body = text.lstrip("\n").partition("\n")
    return subject.strip()[:200], body.strip("\n") + "\n"


def _domain() -> str:
    sender = str(current_app.config.get("MAIL_SENDER") or "")
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rpartition("@")[2] or "minsheng.local"


def enqueue(draft: Draft, *, now: datetime) -> OutgoingMail | None:
    """Add a mail to the outbox unless one with its dedupe key exists; in the caller's transaction.

    A concurrent insert of the same key (another tick) loses on the unique constraint inside a
    savepoint, so the caller's transaction carries on.
    """
    exists = db.session.scalar(
        select(OutgoingMail.id).where(OutgoingMail.dedupe_key == draft.dedupe_key)
    )
    if exists is not None or any(
        isinstance(o, OutgoingMail) and o.dedupe_key == draft.dedupe_key for o in db.session.new
    ):
        return None
    category = preferences.category_for(draft.kind)
    if category is not None and category in preferences.opted_out(draft.recipient):
        return None  # the person turned this kind of mail off
    subject, body = render(
        draft.template,
        locale=recipient_locale(draft.recipient),
        unsubscribe_url=unsubscribe_link(draft.recipient, draft.kind),
        **draft.context,
    )
    mail = OutgoingMail(
        recipient=draft.recipient,
        subject=subject,
        body=body,
        mail_id=make_msgid(idstring=secrets.token_hex(6), domain=_domain()),
        kind=draft.kind,
        dedupe_key=draft.dedupe_key[:200],
        about_message=draft.message,
        state=MailState.QUEUED,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(mail)
    except IntegrityError:
        return None
    return mail
