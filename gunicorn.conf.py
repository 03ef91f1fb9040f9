"""gunicorn settings for `make run` and production (override with GUNICORN_CMD_ARGS)."""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 2
# Load the app (and jieba's dictionary) once before forking so workers share the memory.
preload_app = True
timeout = 60
graceful_timeout = 10
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    """With the app preloaded, load jieba and the directory's words before workers fork."""
    from board.search import analysis, indexer

    analysis.load()
    app = server.app.wsgi()
    with app.app_context():
        try:
            indexer.ensure_dictionary()
        except Exception:  # an empty or unmigrated database: workers load it on first search
            app.logger.exception("search: could not preload the user dictionary")
