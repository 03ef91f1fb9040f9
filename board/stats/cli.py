"""`flask stats rebuild`: recompute the statistics fact table from the source tables."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..extensions import db
from . import daily, facts

stats_cli = AppGroup("stats", help="Maintain the statistics fact table (stats_case).")


@stats_cli.command("rebuild")
@click.option("--batch", default=5000, show_default=True, help="message ids per transaction")
def rebuild_command(batch: int) -> None:
    """Recompute every row of stats_case, the sums per scope and the counts per day (after
    writing messages outside the application)."""
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        click.echo(f"stats_case: {done}/{total} messages", err=True)

    total = facts.rebuild(db.session, batch=max(1, batch), progress=progress)
    daily.rebuild(db.session.connection())  # the home counters' counts per day
    db.session.commit()
    click.echo(f"stats_case rebuilt: {total} messages in {time.perf_counter() - started:.1f} s")
