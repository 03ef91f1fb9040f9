"""`flask seed regions|demo` and `flask import messages` (DESIGN §10)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from ..calendar.cli import seed_calendar
from ..clock import from_local, utcnow
from ..extensions import db
from ..models import Board, Region, Unit
from . import bulk
from . import demo as demo_data
from .directory import ensure_boards, load_regions
from .importer import import_rows, open_rows
from .reference import seed_reason_codes, seed_sensitive_words
from .regions import region_rows

seed_cli = AppGroup("seed", help="Load the region directory and demo data.")
import_cli = AppGroup("import", help="Import messages from files.")


def _count(model) -> int:
    """Rows in a table."""
    return db.session.scalar(select(func.count()).select_from(model))


def _parse_now(value: str | None) -> datetime:
    """--now as naive UTC: ISO 8601, local China time when it carries no offset."""
    if not value:
        return utcnow()
    try:
        return from_local(datetime.fromisoformat(value))
    except ValueError as error:
        raise click.BadParameter(f"not an ISO 8601 time: {value}") from error


@seed_cli.command("regions")
def seed_regions_command():
    """Load the GB/T 2260 divisions, give each region its leader boards, add reason codes."""
    rows = region_rows()
    with click.progressbar(length=len(rows), label="regions") as bar:
        regions_added = load_regions(rows, progress=bar.update)
    with click.progressbar(length=_count(Region), label="boards ") as bar:
        boards_added = ensure_boards(progress=bar.update)
    reasons_added = seed_reason_codes()
    seed_sensitive_words()
    policies_added, years_loaded = seed_calendar()
    click.echo(
        f"deadline policies: {policies_added} new · holiday calendar years loaded: "
        f"{', '.join(map(str, years_loaded)) or 'none new'}"
    )
    click.echo(
        f"regions: {_count(Region)} ({regions_added} new) · "
        f"boards: {_count(Board)} ({boards_added} new) · reason codes: {reasons_added} new"
    )


@seed_cli.command("demo")
@click.option("--messages", "wanted", default=300, show_default=True, help="demo messages")
@click.option("--force", is_flag=True, help="add --messages more even if demo data exists")
@click.option("--seed", default=2026, show_default=True, help="random seed of the generator")
@click.option("--now", "now_text", help="the current time, ISO 8601 (default: now)")
def seed_demo_command(wanted, force, seed, now_text):
    """Demo units, accounts of every role and realistic messages in every state."""
    now = _parse_now(now_text)
    if _count(Region) == 0:
        raise click.ClickException("the directory is empty: run `flask seed regions` first")
    seed_reason_codes()
    with click.progressbar(length=_count(Region), label="units   ") as bar:
        units_added = demo_data.ensure_demo_units(progress=bar.update)
    accounts = demo_data.ensure_demo_accounts(now=now)
    existing = demo_data.demo_message_count()
    todo = demo_data.messages_to_add(wanted, force=force)
    if todo:
        # Above a few thousand, rows are inserted in bulk (same plans; minutes for a million).
        write = bulk.add_bulk_messages if bulk.use_bulk(todo) else demo_data.add_demo_messages
        with click.progressbar(length=todo, label="messages") as bar:
            try:
                added = write(todo, accounts, now=now, seed=seed, progress=bar.update)
            except LookupError as error:
                raise click.ClickException(str(error)) from error
    else:
        added = 0
        click.echo(f"{existing} demo messages exist; none added (use --force to add more)")
    click.echo(
        f"units: {_count(Unit)} ({units_added} new) · accounts: {accounts.added} new · "
        f"demo messages: {existing + added} ({added} new)"
    )
    click.echo("search index: run `flask search sync` (or rebuild) to index new messages")
    click.echo("Demo accounts:")
    for line in demo_data.account_lines(accounts):
        click.echo(f"  {line}")


@import_cli.command("messages")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--board", "board_code", help="board code for rows that name no known board")
@click.option("--source", help="source name stored on the messages (default: the file layout)")
@click.option("--limit", type=int, help="read at most N rows from each file")
def import_messages_command(files, board_code, source, limit):
    """Import published messages and replies from CSV, JSON Lines, XLSX or a board snapshot."""
    if board_code and db.session.scalar(select(Board.id).where(Board.code == board_code)) is None:
        raise click.ClickException(f"no board with code {board_code}")
    for path in files:
        try:
            rows = open_rows(path, limit=limit)
            with click.progressbar(length=max(rows.total, 1), label=Path(path).name) as bar:
                report = import_rows(
                    rows, board_code=board_code, source=source, progress=bar.update
                )
        except (ValueError, OSError) as error:
            raise click.ClickException(f"{path}: {error}") from error
        for line in report.lines():
            click.echo(line)
    click.echo("search index: new messages are in the outbox; `flask search sync` applies them")
