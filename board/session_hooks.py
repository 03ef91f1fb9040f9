"""Session event hooks that gather work during a transaction and apply it just before the commit.

Three writers keep derived data exact in the transaction of every change: the statistics tables
(`board/stats/daily.py`, `board/stats/facts.py`) and the content version
(`board/cache/versions.py`). Each notes what a flush touched in `session.info[key]` and, just
before the commit, flushes what is left and applies the noted work on the session's connection;
a rollback forgets it (the event mail of `board/notify/events.py` keeps its own commit and
rollback hooks, registered through `listen` too). `commit_hooks` builds that pair of hooks
once; `listen` registers a set of hooks on a session class without registering any twice
(`create_app` may run more than once in a process, as the tests do).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session


def listen(session_class: type[Session], hooks: dict[str, Callable]) -> None:
    """Register each hook on its session event (name → hook), once (idempotent)."""
    for name, hook in hooks.items():
        if not event.contains(session_class, name, hook):
            event.listen(session_class, name, hook)


def commit_hooks(
    key: str, apply: Callable[[Connection, Any], None]
) -> dict[str, Callable[[Session], None]]:
    """The `before_commit` and `after_rollback` hooks for work noted in `session.info[key]`.

    Before the commit: flush what is still pending (its flush hooks note their work too), then
    `apply(connection, noted)` when anything was noted. After a rollback: forget the noted work.
    """

    def before_commit(session: Session) -> None:
        if session.new or session.dirty or session.deleted:
            session.flush()
        noted = session.info.pop(key, None)
        if noted:
            apply(session.connection(), noted)

    def after_rollback(session: Session) -> None:
        session.info.pop(key, None)

    return {"before_commit": before_commit, "after_rollback": after_rollback}
