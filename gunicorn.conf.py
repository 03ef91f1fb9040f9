"""gunicorn settings for `make run` and production (override with GUNICORN_CMD_ARGS)."""

import os
from pathlib import Path

_instance = Path(os.environ.get("BOARD_INSTANCE_PATH") or Path(__file__).parent / "instance")
_port = os.environ.get("PORT", "8000")

bind = f"127.0.0.1:{_port}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 2
# Load the app (and jieba's dictionary) once before forking so workers share the memory.
# No database connection crosses the fork: the master closes its own after `when_ready`, and
# every forked child (first start or respawn) starts with empty pools (board/extensions.py).
preload_app = True
timeout = 60
graceful_timeout = 10
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# One control socket per instance folder and port, not one per user: two sites on one host
# (or two nodes on one machine) would otherwise take each other's socket.
_instance.mkdir(parents=True, exist_ok=True)
control_socket = str(_instance / f"gunicorn-{_port}.ctl")


def when_ready(server):
    """With the app preloaded, load jieba and the directory's words before workers fork."""
    from board.extensions import db
    from board.search import analysis, indexer

    analysis.load()
    app = server.app.wsgi()
    with app.app_context():
        try:
            indexer.ensure_dictionary()
        except Exception:  # an empty or unmigrated database: workers load it on first search
            app.logger.exception("search: could not preload the user dictionary")
        finally:
            db.engine.dispose()  # the master serves no request: it keeps no connection
