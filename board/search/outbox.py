"""The search outbox: services enqueue in their transaction, the indexer applies after commit."""

from __future__ import annotations

from flask import current_app

from ..clock import utcnow
from ..extensions import db
from ..models import Message, SearchOutbox


def enqueue(message: Message) -> None:
    """Record, in the caller's transaction, that this message's searchable data changed."""
    if message.id is None:
        db.session.flush()
    db.session.add(SearchOutbox(message_id=message.id, created_at=utcnow()))


def apply_after_commit() -> None:
    """Apply pending outbox rows now, unless a separate indexer process owns the index."""
    config = current_app.config
    if not config.get("SEARCH_APPLY_INLINE", True) or config.get("SEARCH_APPLY_ON_READ"):
        return
    from .indexer import apply_pending

    try:
        apply_pending(timeout=2.0)
    except Exception:  # the outbox keeps the rows; `flask search sync` or the worker retries
        current_app.logger.exception("search: applying the outbox after commit failed")


def apply_before_read() -> None:
    """With SEARCH_APPLY_ON_READ: apply what earlier commits left in the outbox before a search.

    In an app context of its own, so a session of its own: the caller's transaction may hold
    flushed rows it has not committed, and the index must only ever receive committed ones
    (an outbox id of a rolled-back row can be handed out again on SQLite)."""
    config = current_app.config
    if not (config.get("SEARCH_APPLY_INLINE", True) and config.get("SEARCH_APPLY_ON_READ")):
        return
    from .indexer import sync

    with current_app.app_context():
        try:
            sync(timeout=2.0)
        except Exception:  # the rows stay for the next search, the worker or `flask search sync`
            current_app.logger.exception("search: applying the outbox before a search failed")
        finally:
            db.session.remove()
