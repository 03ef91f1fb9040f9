"""`GET /healthz`: database and search index status for load balancers and monitoring."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from .extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 when the database answers; reports the index's document count and outbox lag."""
    status: dict = {"database": {"ok": False}}
    try:
        db.session.execute(text("SELECT 1"))
        status["database"] = {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as error:  # report, don't raise: this page must answer when things fail
        db.session.rollback()
        status["database"] = {"ok": False, "error": type(error).__name__}
    try:
        from .search.indexer import index_status

        status["index"] = index_status()
    except Exception as error:
        status["index"] = {"ok": False, "error": type(error).__name__}
    status["ok"] = bool(status["database"]["ok"])
    return jsonify(status), 200 if status["ok"] else 503
