"""`flask attachments`: move files uploaded before attachments lived in the database."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from . import services

attachments_cli = AppGroup("attachments", help="Where attachment bytes are stored.")


@attachments_cli.command("migrate")
@click.option("--batch", default=50, show_default=True, type=click.IntRange(min=1),
              help="attachments per transaction")  # fmt: skip
@click.option("--keep-files", is_flag=True, help="leave the files on disk after moving them")
def migrate_command(batch: int, keep_files: bool) -> None:
    """Copy every attachment still on disk into the database (digests checked), then delete
    the files; safe while the site runs and safe to run again."""
    total = services.on_disk_count()
    with click.progressbar(length=total, label="moving attachments into the database") as bar:
        report = services.move_to_database(batch=batch, keep_files=keep_files, progress=bar.update)
    click.echo(f"moved {report.moved} attachments ({report.bytes} bytes) into the database")
    for label, names in (("missing on disk", report.missing), ("digest differs", report.damaged)):
        if names:
            click.echo(f"left on disk, {label}: {len(names)}: {' '.join(names[:20])}")
    if report.missing or report.damaged:
        raise SystemExit(1)
