"""Command-line interface: `flask users`, `flask seed`, `flask search` (DESIGN §10)."""

from __future__ import annotations

import secrets
from datetime import UTC

import click
from flask import Flask
from flask.cli import AppGroup

from .audit import cli_actor, record_change
from .auth import services as auth_services
from .clock import utcnow
from .errors import BoardError
from .extensions import db

users_cli = AppGroup("users", help="Create accounts and API tokens.")


def fail(error: BoardError) -> None:
    """Print a service error the way a person reads it and exit non-zero."""
    details = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.fields.items())
    raise click.ClickException(f"{error.message} {details}".strip())


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, help="citizen, handler, coordinator, moderator or admin")
@click.option("--unit", "unit_code", help="unit code (handlers and coordinators)")
@click.option("--password", help="password (a random one is printed if omitted)")
@click.option("--pen-name", help="public pen name")
def create_user_command(email, role, unit_code, password, pen_name):
    """Create a user with a role; prints the password if one was generated."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    now = utcnow()
    try:
        record_change(
            cli_actor(), "user.create", email.strip().lower(), None,
            {"role": role, "unit": unit_code or None}, now=now,
        )  # fmt: skip
        user = auth_services.create_user(  # commits the account with its log entry
            email, role, password=password, pen_name=pen_name, unit_code=unit_code, now=now
        )
    except BoardError as error:
        db.session.rollback()
        fail(error)
    click.echo(f"created {user.email} ({user.role})")
    if generated:
        click.echo(f"password: {password}")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="a label for the token")
def token_command(email, name):
    """Issue a new API token; the token is printed alone on the last line."""
    user = auth_services.find_user(email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    token = auth_services.issue_token(user, name=name, now=utcnow())
    click.echo(f"API token for {user.email} (shown once, stored hashed):")
    click.echo(token)


@users_cli.command("prune-logins")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1))
@click.option("--now", "now_text", help="the current time, ISO 8601 (default: now)")
def prune_logins_command(days, now_text):
    """Forget sign-in attempts older than DAYS (they hold e-mails and network addresses)."""
    from datetime import datetime, timedelta

    try:
        now = datetime.fromisoformat(now_text) if now_text else utcnow()
    except ValueError:
        raise click.BadParameter("expected an ISO 8601 time", param_hint="--now") from None
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    removed = auth_services.prune_login_attempts(now=now, keep=timedelta(days=days))
    click.echo(f"login attempts removed: {removed}")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    from .attachments.cli import attachments_cli
    from .backup.cli import backup_cli
    from .calendar.cli import calendar_cli, deadlines_cli
    from .intel.cli import suggest_cli
    from .search.cli import search_cli
    from .seed.cli import import_cli, seed_cli
    from .stats.cli import stats_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(attachments_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(deadlines_cli)
    app.cli.add_command(stats_cli)
    app.cli.add_command(suggest_cli)
