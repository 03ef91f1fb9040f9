"""`flask calendar import YEAR [--file CSV]` (DESIGN §10) and `flask calendar recompute`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..admin import services as admin
from ..audit import cli_actor
from ..clock import utcnow
from . import services

calendar_cli = AppGroup("calendar", help="Load holiday schedules into the calendar table.")


@calendar_cli.command("import")
@click.argument("year", type=click.IntRange(1949, 2200))
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV of date,is_workday,note (default: the chinese-calendar package)",
)
def import_command(year: int, path: str | None) -> None:
    """Replace a year's holidays and make-up working days, then recompute open clocks."""
    try:
        rows = services.read_calendar_csv(path, year) if path else services.package_rows(year)
    except (ValueError, OSError) as error:
        raise click.ClickException(str(error)) from error
    provisional = services.provisional_open_count(year)
    rows = list(rows)
    admin.record_calendar_import(
        cli_actor(), year, rows, source="file" if path else "package", now=utcnow()
    )
    stored, changed = services.load_calendar_year(
        year, rows, source="file" if path else "package", now=utcnow()
    )
    click.echo(
        f"calendar {year}: {stored} days stored · open clocks with a new due date: {changed}"
        f" · no longer provisional: {provisional - services.provisional_open_count(year)}"
    )


@calendar_cli.command("recompute")
def recompute_command() -> None:
    """Recompute every open clock against the calendar table (run after an upgrade)."""
    changed = services.recompute_all(now=utcnow())
    click.echo(f"open clocks with a new due date: {changed}")


def seed_calendar() -> tuple[int, list[int]]:
    """Default policies, and every package year not loaded yet (admin edits are kept)."""
    from ..extensions import db
    from ..models import CalendarYear

    policies = services.seed_policies()
    loaded = []
    for year in services.package_years():
        if db.session.get(CalendarYear, year) is None:
            services.load_calendar_year(year, now=utcnow())
            loaded.append(year)
    return policies, loaded
