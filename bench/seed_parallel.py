"""`flask seed demo --messages N` with several bulk writers side by side (10⁶ messages).

    .venv/bin/python bench/seed_parallel.py --messages 1000000 --procs 3 \\
        --database-url postgresql://postgres@127.0.0.1:5432/minsheng_bench_1m --dir DIR

The bulk generator (board/seed/bulk.py) spends most of its time in Python planning messages;
on a machine shared with other work one process gets a fraction of a core. Here the regions,
units and every account a plan can name are made first (one process), then `--procs` writers
each add their share, with their own random seed and their own lane of tracking codes (no two
writers can draw the same code). Like `flask seed demo`, a second run adds only what is missing.
Prints messages per second and the load average.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from datetime import datetime
from pathlib import Path

from common import make_app

NOW = "2026-11-01T09:00:00"


def _writer(directory: Path, database_url: str | None, count: int, lane: int, lanes: int) -> None:
    """One writer: its share of the messages, in its lane."""
    app = make_app(directory, database_url)
    with app.app_context():
        from board.seed import bulk, demo

        now = datetime.fromisoformat(NOW)
        accounts = demo.ensure_demo_accounts(now=now)
        bulk.add_bulk_messages(count, accounts, now=now, seed=2026 + lane, lane=(lane, lanes))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--dir", type=Path, required=True, help="bench directory")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in DIR)")
    args = parser.parse_args()
    args.dir = args.dir.resolve()
    app = make_app(args.dir, args.database_url)
    with app.app_context():
        from board.extensions import db
        from board.seed import bulk, demo
        from board.seed.reference import seed_reason_codes

        seed_reason_codes()
        demo.ensure_demo_units()
        accounts = demo.ensure_demo_accounts(now=datetime.fromisoformat(NOW))
        units = bulk.prepare_accounts(accounts)
        todo = demo.messages_to_add(args.messages, force=False)
        before = demo.demo_message_count()
        db.engine.dispose()
    print(f"{before} demo messages, {todo} to add by {args.procs} writers ({units} units)")
    started = time.perf_counter()
    shares = [todo // args.procs + (i < todo % args.procs) for i in range(args.procs)]
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_writer, args=(args.dir, args.database_url, share, lane, args.procs))
        for lane, share in enumerate(shares)
        if share
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    wall = time.perf_counter() - started
    failed = [w.exitcode for w in writers if w.exitcode]
    with app.app_context():  # what was written (all of it unless a writer was stopped)
        added = demo.demo_message_count() - before
        db.engine.dispose()
    print(
        f"{added} messages in {wall:.0f} s: {added / max(wall, 1e-9):.0f} messages/s; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if failed:
        raise SystemExit(f"writers failed: {failed}")


if __name__ == "__main__":
    main()
