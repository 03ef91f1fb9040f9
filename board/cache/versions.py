"""Which data version public pages show: bumped in the transaction of every public change.

A session that flushed a change to anything a public page can show (messages, replies, events,
clocks, ratings, co-signs, the directory, users' pen names, the calendar…) inserts one
`content_version` row just before it commits, in the same transaction: the moment the change is
visible to other connections, so is the new version, and a page rendered from older data can
never be served under it. Bulk writers that bypass the ORM (`board/seed/bulk.py`) write search
outbox rows instead, so the version is the pair (largest content_version id, largest outbox id).
Bookkeeping that no public page shows (access log, login attempts, API tokens, the mail outbox,
moderation locks) does not count.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import Connection, TextClause, delete, func, insert, select
from sqlalchemy.orm import Session

from .. import session_hooks
from ..clock import utcnow
from ..extensions import db
from ..models import AccessLog, ApiToken, LoginAttempt, SearchOutbox
from .models import ContentVersion

_CHANGED = "content_changed"
# Keep this many rows behind the newest; older ones are deleted every PRUNE_EVERY versions.
KEEP = 100
PRUNE_EVERY = 1000


def _private_types() -> tuple[type, ...]:
    """Models whose rows no public page shows."""
    from ..admin.models import AdminChange, Invitation
    from ..follow.models import Follow, SavedSearch
    from ..models.accounts import AccountToken, UserSession
    from ..moderation.models import ModerationLock
    from ..notify.models import OutgoingMail

    return (
        AccessLog,
        ApiToken,
        LoginAttempt,
        OutgoingMail,
        ModerationLock,
        ContentVersion,
        AccountToken,
        UserSession,
        AdminChange,  # the admin change log and invitations: admin pages only
        Invitation,
        Follow,  # follows and saved searches: their owner's pages and mail only
        SavedSearch,
    )


def _after_flush(session: Session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    private = _private_types()
    if any(
        not isinstance(obj, private) for obj in chain(session.new, session.dirty, session.deleted)
    ):
        session.info[_CHANGED] = True


def _orm_execute(state) -> None:
    """Statements that write without loading objects (update(), delete(), insert(), text())."""
    if session_changed(state.session):
        return
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        private = {model.__table__.name for model in _private_types()}
        if getattr(table, "name", None) not in private:
            state.session.info[_CHANGED] = True
    elif isinstance(statement, TextClause) and str(statement).lstrip()[:6].upper() in (
        "INSERT",
        "UPDATE",
        "DELETE",
    ):
        state.session.info[_CHANGED] = True


def session_changed(session: Session) -> bool:
    """True once this transaction changed something a public page shows."""
    return bool(session.info.get(_CHANGED))


def _bump(connection: Connection, _changed: bool) -> None:
    """Insert the next content version (pruning the oldest rows every PRUNE_EVERY versions)."""
    version = connection.execute(
        insert(ContentVersion).values(created_at=utcnow()).returning(ContentVersion.id)
    ).scalar_one()
    if version % PRUNE_EVERY == 0:
        connection.execute(delete(ContentVersion).where(ContentVersion.id < version - KEEP))


# Just before the commit of a transaction that changed public data, insert the next version.
_COMMIT_HOOKS = session_hooks.commit_hooks(_CHANGED, _bump)


def install(session_class: type[Session]) -> None:
    """Bump the content version in every session of this class that changes public data."""
    session_hooks.listen(
        session_class,
        {
            "after_flush": _after_flush,
            "do_orm_execute": _orm_execute,
            **_COMMIT_HOOKS,
        },
    )


_VERSION = select(
    select(func.max(ContentVersion.id)).scalar_subquery(),
    select(func.max(SearchOutbox.id)).scalar_subquery(),
)


def current() -> str:
    """The data version now: one indexed read of two maxima (a cheap query on any size),
    through the Core connection (no ORM step: it runs before every stored page is served)."""
    row = db.session.connection().execute(_VERSION).one()
    return f"{row[0] or 0}.{row[1] or 0}"
