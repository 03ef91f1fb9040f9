"""Notifications (DESIGN §8): the names other packages use, and the admin's outbox page.

The work lives in `outbox` (addresses, rendering in the recipient's language, queueing),
`events` (which event tells whom), `reminders` (`flask deadlines tick`) and `delivery`.

Mail rows are queued in the transaction that writes the event (`queue_event_mail`, called by the
workflow's `_commit`), so a notification exists exactly when its event does. Reminders come from
`flask deadlines tick` with dedupe keys such as `overdue:{clock_id}:{due_on}`. Delivery claims a
row before sending it, so several ticks running at once never send a mail twice, and a failed
attempt leaves the row queued with a growing back-off: nothing is lost.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..models import Message, Role, User
from ..privacy import mask_pen_name
from .delivery import (  # noqa: F401 (the names other modules import from here)
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    DeliveryCounts,
    SentJournal,
    Transport,
    _claim,
    _record_sent,
    backoff,
    build,
    claim_lease,
    deliver,
    delivery_lock,
    due_mail_query,
    journal,
    recover_sent,
    transport,
)
from .events import AUTHOR_ACTIONS, queue_event_mail  # noqa: F401
from .models import MailState, OutgoingMail
from .outbox import Draft, enqueue, link, render, unit_addresses  # noqa: F401
from .reminders import (  # noqa: F401
    HANDLER_DUTIES,
    ReminderCounts,
    queue_clock_moved_mail,
    queue_reminders,
)

# ---------------------------------------------------------------------------------------------
# The admin's outbox page


def _require_admin(actor: User | None) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role != Role.ADMIN:
        raise PermissionDenied()


def outbox_query(actor: User, *, state: str = "") -> Select:
    """Mails for the admin page, the undelivered first (admins only)."""
    _require_admin(actor)
    query = select(OutgoingMail).order_by(OutgoingMail.id.desc())
    if state in set(MailState):
        query = query.where(OutgoingMail.state == state)
    else:
        query = query.where(OutgoingMail.state != MailState.SENT)
    return query


def outbox_counts(actor: User) -> dict[str, int]:
    """How many mails are in each state."""
    _require_admin(actor)
    from sqlalchemy import func

    rows = db.session.execute(
        select(OutgoingMail.state, func.count()).group_by(OutgoingMail.state)
    ).all()
    counts = {state.value: 0 for state in MailState}
    counts.update({state: n for state, n in rows})
    return counts


def retry_mail(actor: User, mail_id: int, *, now: datetime) -> OutgoingMail:
    """Put a failed (or waiting) mail back in the queue for the next tick; commits."""
    _require_admin(actor)
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None or mail.state == MailState.SENT:
        raise NotFound()
    mail.state = MailState.QUEUED
    mail.next_attempt_at = now
    if mail.attempts >= MAX_ATTEMPTS:
        mail.attempts = 0
    db.session.commit()
    return mail


def masked_author(message: Message) -> str:
    """The author's pen name as third parties see it."""
    return mask_pen_name(message.pen_name)
