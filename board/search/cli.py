"""`flask search`: rebuild, sync, check and the worker that applies the outbox."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask.cli import AppGroup

from . import documents, indexer
from .rebuild import rebuild

search_cli = AppGroup("search", help="Build, sync, check and serve the search index.")


@search_cli.command("rebuild")
@click.option("--batch-size", default=500, show_default=True, help="messages per database read")
@click.option(
    "--procs",
    type=click.IntRange(min=1),
    help="writer processes (default: SEARCH_REBUILD_PROCS, else one per core)",
)
def rebuild_command(batch_size: int, procs: int | None) -> None:
    """Build a fresh index from the database beside the live one and swap it in atomically."""
    total = documents.count_public()
    with click.progressbar(length=total, label="indexing public messages") as bar:
        count = rebuild(progress=bar.update, batch=batch_size, procs=procs)
    click.echo(f"rebuilt the search index: {count} documents")


@search_cli.command("sync")
@click.option(
    "--prune-days",
    default=7,
    show_default=True,
    type=click.IntRange(min=0),
    help="delete applied outbox rows older than this many days",
)
def sync_command(prune_days: int) -> None:
    """Apply the pending outbox rows once, then prune old ones."""
    applied = indexer.sync()
    pruned = indexer.prune_outbox(prune_days)
    click.echo(f"applied {applied} outbox rows, pruned {pruned}")


@search_cli.command("check")
@click.option("--repair", is_flag=True, help="rewrite the documents that differ")
@click.option("--show", default=20, show_default=True, help="codes to list per kind of drift")
def check_command(repair: bool, show: int) -> None:
    """Compare the index with the public messages; exit status 1 if they differ."""
    drift = indexer.check(repair=repair)
    click.echo(f"index: {drift.documents} documents; database: {drift.public} public messages")
    for label, codes in (
        ("missing", drift.missing),
        ("extra", drift.extra),
        ("stale", drift.stale),
    ):
        if codes:
            listed = " ".join(codes[:show]) + (" …" if len(codes) > show else "")
            click.echo(f"{label}: {len(codes)}: {listed}")
    if drift.ok:
        click.echo("no drift")
        return
    if repair:
        click.echo("repaired")
        return
    raise SystemExit(1)


@search_cli.command("optimize")
def optimize_command() -> None:
    """Merge the index into one segment, purging what hidden and withdrawn messages left."""
    click.echo(f"optimized the search index: {indexer.optimize()} documents")


@search_cli.command("worker")
@click.option("--interval", default=0.5, show_default=True, help="seconds between outbox polls")
@click.option("--once", is_flag=True, help="apply what is pending and exit")
def worker_command(interval: float, once: bool) -> None:
    """Apply the outbox continuously (one process beside gunicorn); SIGTERM/SIGINT stop it."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if once:
        click.echo(f"applied {indexer.sync()} outbox rows")
        return
    stop = threading.Event()

    def request_stop(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    click.echo(f"search worker: polling the outbox every {interval} s")
    indexer.run_worker(stop, interval=interval)
    click.echo("search worker: stopped")
