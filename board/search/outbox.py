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
    if not current_app.config.get("SEARCH_APPLY_INLINE", True):
        return
    from .indexer import apply_pending

    try:
        apply_pending(timeout=2.0)
    except Exception:  # the outbox keeps the rows; `flask search sync` or the worker retries
        current_app.logger.exception("search: applying the outbox after commit failed")
