"""Requests whose database connection died under them run again instead of answering 500.

A connection can die in the middle of a request: the database restarted, an operator or a
failover terminated it, a network hop dropped it. Pre-ping (config.py) only protects a
connection taken from the pool; one lost while in use raises a disconnect error. Such a request
runs again from the start on a fresh connection, when that cannot do anything twice:

- nothing was committed yet in this request (every service commits once, at its end), or
- the request is idempotent by key (`mark_idempotent`): a message submission carries an
  Idempotency-Key, so a second run finds what a commit that did go through stored.

Otherwise (a commit was under way and its outcome is unknown) the error stands: a 500, and the
client decides, as after any lost answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, has_app_context
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

DEFAULT_RETRIES = 2


def mark_idempotent() -> None:
    """Declare this request safe to run again after a commit (it deduplicates by key)."""
    g.board_idempotent = True


@contextmanager
def repeatable_commit() -> Iterator[None]:
    """Commit bookkeeping that may happen twice (a token's "last used" time) without making
    the request unsafe to run again."""
    if not has_app_context():
        yield
        return
    g.board_repeatable_commit = True
    try:
        yield
    finally:
        g.pop("board_repeatable_commit", None)


def _before_commit(session: Session) -> None:
    if has_app_context() and not g.get("board_repeatable_commit"):
        g.board_commit_started = True


def init_app(app: Flask) -> None:
    """Note in `g` when a request starts committing, and end each request's session without
    failing the request when its connection died after the answer was made."""
    from .extensions import db

    session_class = db.session.session_factory.class_
    if not event.contains(session_class, "before_commit", _before_commit):
        event.listen(session_class, "before_commit", _before_commit)

    @app.teardown_appcontext
    def _release_session(_error: BaseException | None) -> None:
        # Runs before Flask-SQLAlchemy's own teardown. Closing a session rolls back on its
        # connection; if the server ended that connection meanwhile, the rollback raises and
        # gunicorn would answer 500 for a request that succeeded. Drop the connection instead.
        try:
            db.session.remove()
        except DBAPIError as error:
            app.logger.warning("database connection lost while ending a request: %s", error.orig)
            db.session().invalidate()
            db.session.remove()


def _may_run_again(error: Exception) -> bool:
    """A lost connection, and running again repeats nothing that may have been committed."""
    if not (isinstance(error, DBAPIError) and error.connection_invalidated):
        return False
    return not g.get("board_commit_started") or bool(g.get("board_idempotent"))


class RetryingFlask(Flask):
    """Flask, running a request again (up to DB_DISCONNECT_RETRIES times) after a lost
    database connection when that is safe (see the module's docstring)."""

    def full_dispatch_request(self):
        """Dispatch; on a lost connection roll back, forget the request's state, run again."""
        from .extensions import db

        retries = int(self.config.get("DB_DISCONNECT_RETRIES", DEFAULT_RETRIES))
        attempt = 0
        g.pop("board_commit_started", None)  # an app context may outlive a request (tests)
        g.pop("board_idempotent", None)
        while True:
            try:
                return super().full_dispatch_request()
            except DBAPIError as error:
                if attempt >= retries or not _may_run_again(error):
                    raise
                attempt += 1
                self.logger.warning(
                    "database connection lost (%s); running the request again (%d of %d)",
                    type(error.orig).__name__,
                    attempt,
                    retries,
                )
                db.session.rollback()
                g.pop("board_commit_started", None)
                g.pop("_login_user", None)  # loaded through the dead connection
