"""`flask deadlines tick [--now ISO8601]` (DESIGN §8, §10): run by cron every few minutes."""

from __future__ import annotations

import time
from datetime import datetime

import click
from flask.cli import AppGroup

from ..clock import from_local, local_text, utcnow
from ..extensions import db
from ..follow import services as follow_services
from . import services

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
    counts = services.queue_reminders(now=now)
    echo(
        f"reminders queued: {counts.due_soon} due soon · {counts.overdue} overdue · "
        f"{counts.rate} rate · {counts.window} window closing · {counts.digests} digest(s)"
    )
    digests = follow_services.tick_digests(now=now)  # saved searches, once a day (board/follow)
    if digests is not None:
        echo(f"saved searches: {digests.checked} checked · {digests.mailed} digest(s) queued")
    sender = services.transport()
    delivery = services.deliver(now=now)
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
