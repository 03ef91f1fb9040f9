"""The deadline commands: `flask calendar import YEAR [--file CSV]`, `flask calendar recompute`
(DESIGN §10) and `flask deadlines tick [--now ISO8601] [--every N]` (DESIGN §8), run by cron."""

from __future__ import annotations

import time
from datetime import datetime

import click
from flask.cli import AppGroup

from ..admin import services as admin
from ..audit import cli_actor
from ..clock import from_local, local_text, utcnow
from ..extensions import db
from ..follow import services as follow_services
from ..notify import services as notify
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
    from ..models import CalendarYear

    policies = services.seed_policies()
    loaded = []
    for year in services.package_years():
        if db.session.get(CalendarYear, year) is None:
            services.load_calendar_year(year, now=utcnow())
            loaded.append(year)
    return policies, loaded


deadlines_cli = AppGroup("deadlines", help="Close lapsed messages, send reminders and mail.")


def parse_now(value: str | None) -> datetime:
    """--now as naive UTC: an ISO 8601 time with an offset, or Beijing wall-clock time without."""
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise click.BadParameter(
            "expected ISO 8601, e.g. 2026-03-02T09:00 or 2026-03-02T01:00:00Z", param_hint="--now"
        ) from error
    return from_local(moment)


def close_lapsed(now: datetime) -> int | None:
    """The workflow's `close_lapsed_messages(now)`; None when the workflow has none."""
    from ..messages import services as workflow

    closer = getattr(workflow, "close_lapsed_messages", None)
    if closer is None:
        return None
    result = closer(now=now)
    return len(result) if isinstance(result, list | tuple | set) else int(result or 0)


def tick(now: datetime, echo=click.echo) -> dict[str, int]:
    """One run: close lapsed messages, queue reminders (each once), deliver the queue."""
    closed = close_lapsed(now)
    if closed is None:
        echo("close: skipped (the workflow has no close_lapsed_messages yet)")
    else:
        echo(f"close: {closed} message(s) closed after their window lapsed")
    counts = notify.queue_reminders(now=now)
    echo(
        f"reminders queued: {counts.due_soon} due soon · {counts.overdue} overdue · "
        f"{counts.rate} rate · {counts.window} window closing · {counts.digests} digest(s)"
    )
    digests = follow_services.tick_digests(now=now)  # saved searches, once a day (board/follow)
    if digests is not None:
        echo(f"saved searches: {digests.checked} checked · {digests.mailed} digest(s) queued")
    sender = notify.transport()
    delivery = notify.deliver(now=now)
    if delivery.busy:
        echo("mail: another tick of this node is delivering; skipped")
    else:
        echo(
            f"mail via {sender.describe()}: {delivery.sent} sent · {delivery.deferred} deferred"
            f" · {delivery.failed} failed"
            + (f" · {delivery.recovered} recorded from the journal" if delivery.recovered else "")
        )
    return {
        "closed": closed or 0,
        "queued": counts.total,
        "sent": delivery.sent,
        "deferred": delivery.deferred,
        "failed": delivery.failed,
    }


@deadlines_cli.command("tick")
@click.option("--now", "now_text", help="pretend it is this time (ISO 8601; default: now)")
@click.option(
    "--every",
    type=click.IntRange(min=1),
    help="keep running: one tick every N seconds (what `make run` does instead of cron)",
)
def tick_command(now_text: str | None, every: int | None) -> None:
    """Close lapsed messages, queue due-soon/overdue/rating reminders and digests, send mail."""
    if every and now_text:
        raise click.UsageError("--every runs on the real clock: leave out --now")
    while True:
        now = parse_now(now_text)
        click.echo(
            f"tick at {now.isoformat(timespec='seconds')} UTC"
            f" (北京时间 {local_text(now, '%Y-%m-%d %H:%M:%S')})"
        )
        summary = tick(now)
        click.echo("done: " + " · ".join(f"{k} {v}" for k, v in summary.items()), nl=True)
        if not every:
            return
        db.session.remove()  # the next tick reads fresh rows
        time.sleep(every)
