"""The mail outbox: a failed or waiting mail queued again."""

from __future__ import annotations

from datetime import datetime

from ...audit import record_change
from ...errors import NotFound
from ...extensions import db
from ...models import User
from ...notify import services as notify
from ...notify.models import OutgoingMail
from .common import require_admin


def retry_mail(actor: User, mail_id: int, *, now: datetime) -> OutgoingMail:
    """Queue a failed or waiting mail again, logged as an admin change; one transaction."""
    require_admin(actor)
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None or mail.state == "sent":
        raise NotFound()
    before = {"state": str(mail.state), "attempts": mail.attempts}
    record_change(
        actor,
        "mail.retry",
        str(mail.id),
        before,
        {
            "state": "queued",
            "attempts": 0 if mail.attempts >= notify.MAX_ATTEMPTS else mail.attempts,
        },
        now=now,
    )
    return notify.retry_mail(actor, mail_id, now=now)  # commits the change and its log row
