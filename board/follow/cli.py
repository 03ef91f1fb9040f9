"""`flask alerts digest [--now ISO8601]`: the saved searches' daily digest (also run by the tick)."""

from __future__ import annotations

import click
from flask import Blueprint

from ..clock import local_text


def init_blueprint(bp: Blueprint) -> None:
    """Attach the `alerts` commands to the follow blueprint's CLI group."""

    @bp.cli.command("digest")
    @click.option("--now", "now_text", help="pretend it is this time (ISO 8601; default: now)")
    def digest_command(now_text: str | None) -> None:
        """Queue today's digest mail of every saved search with new public messages (once a day)."""
        from ..calendar.cli import parse_now
        from .services import queue_digests

        now = parse_now(now_text)
        counts = queue_digests(now=now)
        click.echo(
            f"{local_text(now)} Beijing: {counts.checked} saved search(es) checked · "
            f"{counts.mailed} digest mail(s) queued (sent by `flask deadlines tick`)"
        )
