"""`GET /healthz`: database and search index status for load balancers and monitoring."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from .extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 when the database answers and the search index is whole; 503 with the reason
    otherwise. Also reports the index's document count and outbox lag (a lagging indexer
    leaves the node serving: its search is only late)."""
    status: dict = {"database": {"ok": False}}
    try:
        db.session.execute(text("SELECT 1"))
        status["database"] = {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as error:  # report, don't raise: this page must answer when things fail
        db.session.rollback()
        status["database"] = {"ok": False, "error": type(error).__name__}
    complete = False
    try:
        from .search.indexer import cached_completeness, index_status

        status["index"] = index_status()
        if status["database"]["ok"]:
            found = cached_completeness(current_app.config["HEALTH_INDEX_CHECK_SECONDS"])
            complete = found.ok
            status["index"]["complete"] = found.ok
            if not found.ok:
                status["index"]["reason"] = found.reason
                status["index"]["public_messages"] = found.public
    except Exception as error:
        db.session.rollback()
        status.setdefault("index", {})
        status["index"].update(ok=False, complete=False, error=type(error).__name__)
    status["ok"] = bool(status["database"]["ok"]) and complete
    return jsonify(status), 200 if status["ok"] else 503
