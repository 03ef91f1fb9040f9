"""Migrations upgrade an empty database to exactly the models, and downgrade back, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import make_test_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from board.extensions import db


def _fresh(database: str, app) -> None:
    """Empty the database: SQLite files start empty; PostgreSQL gets a clean public schema."""
    if database.startswith("postgresql"):
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


def test_migrations_upgrade_from_empty_match_the_models(database, tmp_path):
    """`flask db upgrade` on an empty database yields the models' schema, with nothing left over."""
    app = make_test_app(database, tmp_path)
    with app.app_context():
        _fresh(database, app)
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
            )
        assert diff == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "message" in inspect(db.engine).get_table_names()
        db.session.remove()
        if database.startswith("postgresql"):
            # Leave the shared test database as the other tests expect it.
            _fresh(database, app)
            db.create_all()
        db.engine.dispose()
