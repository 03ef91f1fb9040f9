"""The per-message review lock: one moderator at a time decides on a message (15 minutes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..clock import local_text
from ..errors import InvalidTransition
from ..extensions import db
from ..models import Message, User
from .models import ModerationLock

LOCK_MINUTES = 15


class LockHeld(InvalidTransition):
    """Another moderator holds the review lock of this message."""

    code = "locked"


def current_lock(message: Message, *, now: datetime) -> ModerationLock | None:
    """The unexpired lock on the message, if any."""
    lock = db.session.get(ModerationLock, message.id)
    if lock is None or lock.expires_at <= now:
        return None
    return lock


def held_by_other(message: Message, user: User, *, now: datetime) -> ModerationLock | None:
    """The lock on the message if someone other than `user` holds it."""
    lock = current_lock(message, now=now)
    return lock if lock is not None and lock.moderator_id != user.id else None


def take_lock(message: Message, moderator: User, *, now: datetime) -> ModerationLock:
    """Lock the message to the moderator who opens it (or renew their lock); commits.

    Returns the lock that holds after the call: the moderator's own, or another moderator's
    unexpired one (which is left alone).
    """
    other = held_by_other(message, moderator, now=now)
    if other is not None:
        return other
    expires_at = now + timedelta(minutes=LOCK_MINUTES)
    lock = db.session.get(ModerationLock, message.id)
    if lock is None:
        lock = ModerationLock(
            message_id=message.id, moderator_id=moderator.id, locked_at=now, expires_at=expires_at
        )
        db.session.add(lock)
    else:
        lock.moderator_id, lock.locked_at, lock.expires_at = moderator.id, now, expires_at
    try:
        db.session.commit()
    except IntegrityError:  # two moderators opened it at the same instant: the first one wins
        db.session.rollback()
        return db.session.get(ModerationLock, message.id)
    return lock


def lock_message(lock: ModerationLock) -> str:
    """What another moderator is told when the message is locked."""
    return _(
        "%(name)s 正在审核这条留言（锁定至北京时间 %(time)s），请稍后再试或处理其他留言。",
        name=lock.moderator.pen_name,
        time=local_text(lock.expires_at, "%H:%M"),
    )


def claim_for_decision(message: Message, actor: User, *, now: datetime) -> None:
    """Before a moderation decision: refuse if another moderator holds the lock, else release it
    (in the caller's transaction)."""
    other = held_by_other(message, actor, now=now)
    if other is not None:
        raise LockHeld(lock_message(other))
    lock = db.session.get(ModerationLock, message.id)
    if lock is not None:
        db.session.delete(lock)
