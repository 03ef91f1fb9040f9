"""Minsheng (民声): the Flask application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .config import DefaultConfig
from .retry import RetryingFlask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RowIdConverter(IntegerConverter):
    """`<id:name>` in a route: a row id, 1 to 2**31 − 1 (an integer column on every database).
    Any other number matches no route (404), so it never reaches the database, where PostgreSQL
    would refuse it ("integer out of range") and abort the transaction."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=2**31 - 1)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults → instance/config.py → BOARD_* environment → test_config."""
    instance_path = (
        (test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("BOARD_INSTANCE_PATH")
        or str(PROJECT_ROOT / "instance")
    )
    app = RetryingFlask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("BOARD")
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'board.sqlite'}"
        )
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'ratelimit.sqlite'}"
        )
    if not app.config.get("SEARCH_INDEX_DIR"):
        app.config["SEARCH_INDEX_DIR"] = str(PROJECT_ROOT / "search_index")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        # psycopg 3 is the driver; plain postgresql:// would ask for psycopg2.
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        engine_options = {"connect_args": {"timeout": 10}, **engine_options}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    if app.config["SECRET_KEY"] == DefaultConfig.SECRET_KEY and not app.debug and not app.testing:
        app.logger.warning("BOARD_SECRET_KEY is not set: sessions use the development key")
    logging.getLogger("jieba").setLevel(logging.WARNING)
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        # Behind that many trusted proxies, the client's address (rate limits, audit) and
        # scheme come from X-Forwarded-For and X-Forwarded-Proto.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from . import cache, cli, errors, retry, security
    from .extensions import (
        babel,
        csrf,
        db,
        forget_connections_after_fork,
        limiter,
        login_manager,
        migrate,
        select_locale,
    )

    db.init_app(app)
    with app.app_context():
        forget_connections_after_fork(db.engines.values())
    from .stats import daily, facts

    # stats_case is recomputed in the transaction of every change (board/stats/facts.py), and
    # so are the day counts of the home counters (board/stats/daily.py).
    facts.install(db.session.session_factory.class_)
    daily.install(db.session.session_factory.class_)
    from . import notify

    notify.init_app(app)  # mails queued with the events of each transaction (board/notify/)
    retry.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    cache.init_app(app)
    cli.init_app(app)
    from .search import engine

    engine.init_app(app)

    app.url_map.converters["id"] = RowIdConverter
    from .admin.views import bp as admin_bp
    from .admin.views import invite_bp
    from .api.views import bp as api_bp
    from .attachments.views import bp as attachments_bp
    from .audit import bp as audit_bp
    from .auth.views import bp as auth_bp
    from .calendar.views import bp as deadlines_bp
    from .casesearch.views import bp as casesearch_bp
    from .desk.views import bp as desk_bp
    from .directory.views import bp as directory_bp
    from .follow.views import bp as follow_bp
    from .health import bp as health_bp
    from .intel import api as _intel_api  # noqa: F401  (adds /suggest and /hot to the API)
    from .intel.views import bp as intel_bp
    from .messages.views import bp as messages_bp
    from .moderation.views import bp as moderation_bp
    from .search.views import bp as search_bp
    from .stats.views import bp as stats_bp

    app.register_blueprint(directory_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(deadlines_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(invite_bp)
    app.register_blueprint(stats_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(follow_bp)
    app.register_blueprint(casesearch_bp)
    app.register_blueprint(intel_bp)
    csrf.exempt(api_bp)

    from . import templating

    templating.init_app(app)

    @app.context_processor
    def _inject_locale() -> dict:
        return {"current_locale": str(get_locale() or "zh_CN")}

    return app
