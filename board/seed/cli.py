"""`flask seed regions|demo` and `flask import messages` (DESIGN §10)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from ..calendar.cli import seed_calendar
from ..clioptions import setup_log_option
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


class SetupLog:
    """Short progress lines on the terminal, the same lines (and every detail) in a log file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("a", encoding="utf-8")
        self.path = path
        self.file.write(f"\n=== setup at {datetime.now().isoformat(timespec='seconds')}\n")

    def say(self, line: str) -> None:
        """A line for the terminal and the log."""
        click.echo(line)
        self.detail(line)

    def detail(self, line: str) -> None:
        """A line for the log only."""
        self.file.write(line + "\n")
        self.file.flush()

    def progress(self, label: str, total: int):
        """A progress callback printing `label` at every quarter of `total` (any terminal)."""
        state = {"done": 0, "shown": 0}

        def advance(n: int = 1) -> None:
            state["done"] += n
            quarter = 4 * state["done"] // max(total, 1)
            if quarter > state["shown"]:
                state["shown"] = quarter
                self.say(f"    {label}: {min(state['done'], total)}/{total}")

        return advance

    def close(self) -> None:
        """Close the log file."""
        self.file.close()


@seed_cli.command("site")
@setup_log_option
@click.option("--messages", "wanted", default=300, show_default=True, help="demo messages")
def seed_site_command(log_path: Path | None, wanted: int) -> None:
    """`make run`'s setup: schema, directory, demo data and search index, each only if missing."""
    import contextlib
    import io
    import time

    from flask import current_app
    from flask_migrate import upgrade

    from ..search import indexer

    log = SetupLog(log_path or Path(current_app.instance_path) / "setup.log")
    started = time.monotonic()
    try:
        log.say("setting up the demo site (details in " + str(log.path) + ")")
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            upgrade()
        log.detail(captured.getvalue())
        log.say("  database schema: up to date")
        if _count(Region) == 0:
            log.say("  region directory: loading the GB/T 2260 divisions (first start only)")
            rows = region_rows()
            load_regions(rows, progress=log.progress("regions", len(rows)))
            ensure_boards(progress=log.progress("boards", _count(Region)))
            seed_reason_codes()
            seed_sensitive_words()
            seed_calendar()
        log.say(f"  region directory: {_count(Region)} regions, {_count(Board)} boards")
        seed_reason_codes()
        if demo_data.demo_message_count() == 0:
            log.say(f"  demo data: writing {wanted} messages (first start only)")
            now = utcnow()
            demo_data.ensure_demo_units(progress=log.progress("units", _count(Region)))
            accounts = demo_data.ensure_demo_accounts(now=now)
            demo_data.add_demo_messages(
                wanted, accounts, now=now, seed=2026, progress=log.progress("messages", wanted)
            )
            lines = demo_data.account_lines(accounts)
            log.say("  demo accounts (all of them in the log):")
            for line in lines[:3]:
                log.say(f"    {line}")
            for line in lines:
                log.detail(f"    {line}")
        else:
            log.say(f"  demo data: {demo_data.demo_message_count()} messages already there")
        drift = indexer.check()
        if drift.ok:
            log.say(f"  search index: {drift.documents} documents, up to date")
        else:
            total = indexer.count_public()
            log.say(f"  search index: building ({total} public messages)")
            count = indexer.rebuild(progress=log.progress("indexed", total))
            log.say(f"  search index: {count} documents")
        log.say(f"ready in {time.monotonic() - started:.1f} s")
    finally:
        log.close()


@import_cli.command("messages")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--board", "board_code", help="board code for rows that name no known board")
@click.option("--source", help="source name stored on the messages (default: the file layout)")
@click.option("--limit", type=int, help="read at most N rows from each file")
def import_messages_command(files, board_code, source, limit):
    """Import published messages and replies from CSV, JSON Lines, XLSX or a board snapshot."""
    if board_code and db.session.scalar(select(Board.id).where(Board.code == board_code)) is None:
        raise click.ClickException(f"no board with code {board_code}")
    imported = placed = 0
    for path in files:
        try:
            rows = open_rows(path, limit=limit)
            with click.progressbar(length=max(rows.total, 1), label=Path(path).name) as bar:
                report = import_rows(
                    rows, board_code=board_code, source=source, progress=bar.update
                )
        except (ValueError, OSError) as error:
            # One unreadable file does not stop the others; it is reported like a skipped one.
            click.echo(f"{Path(path).name} — not imported: {error}")
            continue
        imported += report.imported
        placed += report.placed
        for line in report.lines():
            click.echo(line)
    if not placed:  # not one row of any file is on a board, now or from an earlier run
        hint = "" if board_code else " (rows that name no known board need --board CODE)"
        raise click.ClickException(f"nothing imported from {len(files)} file(s){hint}")
    click.echo(f"imported {imported} message(s) from {len(files)} file(s)")
    click.echo("search index: new messages are in the outbox; `flask search sync` applies them")
