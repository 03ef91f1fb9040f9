"""Extension objects, created once and bound to the app in create_app."""

import os
import sqlite3
import weakref

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

# Named constraints so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
from . import ratelimit  # noqa: E402, F401 (registers the sqlite:// counter storage)


def select_locale() -> str:
    """Pick the language: the `lang` cookie, then the browser's preference, Chinese by default."""
    from flask import current_app, has_request_context

    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = list(current_app.config["LANGUAGES"])
    chosen = request.cookies.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages, default="zh_CN") or "zh_CN"


babel = Babel()


# Every engine an app made, so a forked child can drop the connections it inherited.
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def forget_connections_after_fork(engines) -> None:
    """Remember `engines`: after any fork (gunicorn workers, respawned ones, rebuild writers)
    the child starts with empty pools instead of sharing its parent's sockets."""
    _engines.update(engines)


def _after_fork_in_child() -> None:
    """Drop the parent's pooled connections without closing them (they are the parent's)."""
    for engine in list(_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


# SQLSTATEs of a connection the server ended: connection exceptions (class 08) and
# admin_shutdown, crash_shutdown, cannot_connect_now. psycopg reports the server's "terminating
# connection due to administrator command" before it marks the connection broken.
_DISCONNECT_STATES = ("08", "57P01", "57P02", "57P03")
# …and what the client library says when the socket went away without a SQLSTATE.
_DISCONNECT_WORDS = ("server closed the connection", "consuming input failed", "connection is lost")


@event.listens_for(Engine, "handle_error")
def _server_ended_connection(context) -> None:
    """Treat a connection the server terminated as a disconnect: the pool drops it, and the
    request may run again (board/retry.py)."""
    original = context.original_exception
    sqlstate = getattr(original, "sqlstate", None) or ""
    if sqlstate.startswith(_DISCONNECT_STATES) or any(
        words in str(original) for words in _DISCONNECT_WORDS
    ):
        context.is_disconnect = True


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Turn on WAL, foreign keys and a busy timeout for every SQLite connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
