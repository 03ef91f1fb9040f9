"""The cost of one uncached render of each public page, with the running sums and without.

    .venv/bin/python bench/render.py --dir bench/results/pages-1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/minsheng_bench_1m

Renders each page of `bench/pages.py` in this process (Flask test client, a visitor, page cache
off, aggregates never reused: `STATS_REUSE_SECONDS=0`) `--rounds` times after one warm-up and
prints the median ms; then again with the figures computed from every case in scope (the
running sums of board/stats/tally.py switched off, the home counters counted over the message
and reply tables instead of read from stats_day), as before issue 20's second step. Run it
on the same database at two sizes to see whether a render grows with the data. Prints the
number of messages and the load average; appends to DIR/render.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from common import make_app
from pages import pick_pages

PAGES = ("home", "region-province", "region-city", "board", "unit", "message", "rankings")


def _median_ms(client, url: str, rounds: int) -> float:
    assert client.get(url).status_code == 200, url  # warm-up: templates, the directory's rows
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return round(statistics.median(times), 1)


def _counted(now):
    """The home counters as they were computed before stats_day: six counts over the message
    and reply tables (for the "every case" column)."""
    from sqlalchemy import func, select

    from board.clock import local_date
    from board.extensions import db
    from board.models import Message, Reply, ReplyState
    from board.stats.figures import day_start
    from board.stats.home import Counters

    today = local_date(now)
    day, year = day_start(today), day_start(today.replace(month=1, day=1))

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    published = Reply.state == ReplyState.PUBLISHED
    return Counters(
        count(Message, Message.created_at >= day),
        count(Message, Message.created_at >= year),
        count(Message),
        count(Reply, published, Reply.published_at >= day),
        count(Reply, published, Reply.published_at >= year),
        count(Reply, published),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="comma-separated page names")
    args = parser.parse_args()
    directory = args.dir.resolve()
    pages = [(n, u) for n, u in pick_pages(directory, args.database_url) if n in PAGES]
    if args.only:
        pages = [(n, u) for n, u in pages if n in args.only.split(",")]
    app = make_app(directory, args.database_url, PAGE_CACHE="off", STATS_REUSE_SECONDS=0)
    from sqlalchemy import func, select

    from board.extensions import db
    from board.models import Message
    from board.stats import figures
    from board.stats import services as stats

    with app.app_context():
        messages = db.session.scalar(select(func.count()).select_from(Message))
        db.session.remove()
    load_before = os.getloadavg()
    results = {}
    client = app.test_client()
    for name, url in pages:
        with_sums = _median_ms(client, url, args.rounds)
        tally_key, counters = figures.tally_key, stats.counters
        figures.tally_key = lambda _scope: None
        stats.counters = _counted
        try:
            direct = _median_ms(client, url, args.rounds)
        finally:
            figures.tally_key, stats.counters = tally_key, counters
        results[name] = {"url": url, "with_sums_ms": with_sums, "direct_ms": direct}
        print(f"{name:16} {url:40} sums {with_sums:8.1f} ms   every case {direct:8.1f} ms")
    load_after = os.getloadavg()
    line = {
        "messages": messages,
        "database": "postgresql" if args.database_url else "sqlite",
        "load": [load_before, load_after],
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pages": results,
    }
    print(
        f"{messages} messages; load average {' '.join(f'{x:.2f}' for x in load_before)} → "
        f"{' '.join(f'{x:.2f}' for x in load_after)}"
    )
    with (directory / "render.json").open("a") as out:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
