"""`flask backup`: create, verify and restore an archive of the site's data."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup

from . import services

backup_cli = AppGroup("backup", help="Back up and restore the database and attachments.")


class Progress:
    """Progress lines on stderr: one when a stage starts, then at most one every two seconds
    (and its last), so a long step shows it is moving without flooding a log."""

    def __init__(self) -> None:
        self.stage = None
        self.shown = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total and done >= total
        if stage == self.stage and not finished and now - self.shown < 2:
            return
        self.stage, self.shown = stage, now
        of = f"/{total}" if total else ""
        click.echo(f"  {stage}: {done}{of}", err=True)


def _tables(tables: dict[str, int]) -> None:
    click.echo(f"{len(tables)} tables, {sum(tables.values())} rows:")
    width = max(map(len, tables), default=0)
    for name, count in tables.items():
        if count:
            click.echo(f"  {name:<{width}}  {count}")


def _run(service, path: Path | None, **options):
    """Run a backup service with a progress line; its BackupError becomes the command's error."""
    try:
        return service(path, progress=Progress(), **options)
    except services.BackupError as error:
        raise click.ClickException(str(error)) from error


@backup_cli.command("create")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def create_command(path: Path | None) -> None:
    """Write an archive of the database and attachment files to PATH (default: BACKUP_DIR,
    else instance/backups, named after the time). Safe while the site runs."""
    started = time.monotonic()
    summary = _run(services.create, path)
    click.echo(f"backup written: {summary.path} ({summary.size} bytes, {summary.engine}, "
               f"{time.monotonic() - started:.1f} s)")  # fmt: skip
    _tables(summary.tables)
    click.echo(f"attachment files from disk: {summary.attachment_files}")
    if summary.missing_files:
        click.echo(f"warning: {len(summary.missing_files)} attachment files were missing on "
                   f"disk: {' '.join(summary.missing_files[:20])}", err=True)  # fmt: skip


@backup_cli.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def verify_command(path: Path) -> None:
    """Check an archive completely (checksums, the database readable, row counts) without
    touching any database; exit status 1 if anything is wrong."""
    summary = _run(services.verify, path)
    click.echo(f"backup ok: {summary.path} ({summary.engine}, made {summary.created_at}, "
               f"schema {summary.schema_revision or 'unversioned'})")  # fmt: skip
    _tables(summary.tables)
    click.echo(f"attachment files from disk: {summary.attachment_files}")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace a database that already holds data")
def restore_command(path: Path, force: bool) -> None:
    """Restore an archive into the configured database (stop the site first), put attachment
    files back and rebuild the search index. Refuses a database holding data without --force;
    the archive is checked completely first, so a damaged one changes nothing."""
    started = time.monotonic()
    report = _run(services.restore, path, force=force)
    click.echo(f"restored {report.summary.path} ({report.summary.engine}, made "
               f"{report.summary.created_at}) in {time.monotonic() - started:.1f} s")  # fmt: skip
    _tables(report.tables)
    click.echo(f"attachment files put back: {report.files}")
    click.echo(f"search index rebuilt: {report.index_documents} documents")
