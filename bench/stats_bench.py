"""Server time of the open-data pages with many messages (DESIGN §6, issue 6).

    .venv/bin/python bench/stats_bench.py [--messages 100000] [--repeat 15] [--database URL]

Builds (or reuses) a database with the full region directory and N demo messages written by the
bulk generator (`flask seed demo --messages N`, board/seed/bulk.py: messages, events, clocks,
replies, ratings, co-signs), then requests each page through the WSGI app in-process and reports
the median and 95th percentile of the time from request to the last byte of the response
(server time: no network, no browser). The SQLite file is kept outside the checkout so a second
run skips the seeding (BENCH_DATA, default /tmp/minsheng-bench); `--database postgresql://…` measures PostgreSQL instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from board import create_app  # noqa: E402
from board.extensions import db  # noqa: E402
from board.models import Board, Message, Region, RegionLevel, Unit  # noqa: E402
from board.stats.services import public_condition  # noqa: E402


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def build_app(database: str | None, messages: int):
    data = Path(os.environ.get("BENCH_DATA", "/tmp/minsheng-bench"))
    data.mkdir(parents=True, exist_ok=True)
    uri = database or f"sqlite:///{data / f'stats-{messages}.sqlite'}"
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": uri,
            "SEARCH_INDEX_DIR": str(data / f"index-{messages}"),
            "SEARCH_APPLY_INLINE": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "localhost",
        }
    )
    with app.app_context():
        db.create_all()
        from board.stats.models import INDEXES

        for index in INDEXES:  # a database built before these existed
            index.create(db.engine, checkfirst=True)
        runner = app.test_cli_runner()
        if db.session.scalar(select(func.count(Region.code))) == 0:
            print("loading regions…", flush=True)
            result = runner.invoke(args=["seed", "regions"])
            assert result.exit_code == 0, result.output
        have = db.session.scalar(select(func.count(Message.id)))
        if have < messages:
            print(f"writing {messages - have} messages with the bulk generator…", flush=True)
            started = time.perf_counter()
            result = runner.invoke(
                args=["seed", "demo", "--messages", str(messages - have), "--force"]
            )
            assert result.exit_code == 0, result.output
            print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
        from board.stats.models import StatsCase

        facts = db.session.scalar(select(func.count(StatsCase.message_id)))
        if facts != db.session.scalar(select(func.count(Message.id))):
            # A database seeded before the fact table existed (or written around the app).
            print("filling the statistics fact table (flask stats rebuild)…", flush=True)
            started = time.perf_counter()
            result = runner.invoke(args=["stats", "rebuild"])
            assert result.exit_code == 0, result.output
            print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does after a bulk load: planner statistics and the visibility map
            # (index-only scans). Without it the first minutes after seeding measure the load.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
    return app


def busiest(app):
    """The province, city, board and unit with the most public messages."""
    with app.app_context():

        def top(column, *where):
            return db.session.execute(
                select(column, func.count(Message.id))
                .where(public_condition(), *where)
                .group_by(column)
                .order_by(func.count(Message.id).desc())
                .limit(1)
            ).first()

        total = db.session.scalar(select(func.count(Message.id)))
        public = db.session.scalar(select(func.count(Message.id)).where(public_condition()))
        board_id, board_n = top(Message.board_id)
        unit_id, unit_n = top(Message.unit_id, Message.unit_id.is_not(None))
        province = top(func.substr(Message.region_path, 1, 6))[0]
        city = top(func.substr(Message.region_path, 8, 6), func.length(Message.region_path) >= 13)[
            0
        ]
        board = db.session.get(Board, board_id).code
        unit = db.session.get(Unit, unit_id).code
        cities = db.session.scalar(
            select(func.count(Region.code)).where(Region.level == RegionLevel.CITY)
        )
    return {
        "total": total,
        "public": public,
        "province": province,
        "city": city or province,
        "board": (board, board_n),
        "unit": (unit, unit_n),
        "cities": cities,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    app = build_app(args.database, args.messages)
    facts = busiest(app)
    board, board_n = facts["board"]
    unit, unit_n = facts["unit"]
    year = "2026"
    pages = [
        ("home", "/"),
        (f"region (province {facts['province']})", f"/regions/{facts['province']}"),
        (f"region (city {facts['city']})", f"/regions/{facts['city']}"),
        (f"board ({board}, {board_n} public)", f"/boards/{board}"),
        (f"unit ({unit}, {unit_n} public)", f"/units/{unit}"),
        ("rankings: boards, this year", "/rankings?group=board"),
        ("rankings: cities", "/rankings?group=region&level=city"),
        ("rankings: units", "/rankings?group=unit"),
        (
            f"report: province {facts['province']}, {year}",
            f"/reports?region={facts['province']}&period={year}",
        ),
        ("feed: latest replies", "/feeds/replies.atom"),
        ("api: stats by board", "/api/v1/stats?group_by=board"),
    ]
    print(
        f"\n{facts['total']} messages ({facts['public']} public), "
        f"database {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
        f"{args.repeat} requests per page (first one discarded)\n"
    )
    print(f"{'page':48} {'median ms':>10} {'p95 ms':>8}")
    client = app.test_client()
    results = []
    for name, url in pages:
        times = []
        for attempt in range(args.repeat + 1):
            started = time.perf_counter()
            response = client.get(url)
            response.get_data()
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if attempt:
                times.append(elapsed)
        median, p95 = statistics.median(times), _p95(times)
        results.append((name, median, p95))
        print(f"{name:48} {median:10.1f} {p95:8.1f}", flush=True)
    started = time.perf_counter()
    response = client.get(f"/export/messages.csv?region={facts['province']}")
    size = sum(len(chunk) for chunk in response.response)
    print(
        f"\nCSV of province {facts['province']}: {size / 1e6:.1f} MB in "
        f"{time.perf_counter() - started:.1f} s (streamed)"
    )


if __name__ == "__main__":
    main()
