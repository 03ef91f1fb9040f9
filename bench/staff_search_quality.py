"""Staff search (/desk/search) on the real archive: known-item recall@10, MRR and latency.

    .venv/bin/python bench/staff_search_quality.py --rows 1500 --targets 150

The same archive import and known-item queries as `bench/search_quality.py`, asked as a
moderator (whose scope is every case) of three systems: the staff search (`search_cases`: jieba
segments of each word must all occur, SQL LIKE, most recently changed first); plain substring
search (each space-separated term as typed, LIKE, newest first); and the public index
(`search_messages`, relevance-ranked) for reference. Prints the machine and the timings.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import load, make_app
from search_quality import DATA, evaluate, import_archive, make_queries, markdown, ours, substring


def run(rows: int | None, targets: int, seed: int = 7) -> dict:
    """Import, index, ask every system every query; the result table and latencies."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from board.auth import services as auth_services
    from board.casesearch.services import search_cases
    from board.clock import utcnow
    from board.extensions import db
    from board.models import Message, Role
    from board.search import indexer

    with tempfile.TemporaryDirectory(prefix="staff-search-") as temp:
        app = make_app(Path(temp))
        load()
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            imported = import_archive(rows)
            indexer.rebuild(procs=1)
            print(f"imported and indexed {imported} in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
            moderator = auth_services.create_user(
                "bench-moderator@example.org", Role.MODERATOR, password="bench-password-2026",
                pen_name="bench", unit_code=None, now=utcnow(),
            )  # fmt: skip
            db.session.commit()
            public = list(
                db.session.scalars(
                    select(Message)
                    .where(indexer.public_condition())
                    .options(selectinload(Message.replies))
                    .order_by(Message.id)
                )
            )
            rng = random.Random(seed)
            sample = rng.sample(public, min(targets, len(public)))
            queries = make_queries(sample, rng)
            latencies: dict[str, list[float]] = {}

            def timed(name, system):
                def call(query: str) -> list[str]:
                    started = time.perf_counter()
                    found = system(query)
                    latencies.setdefault(name, []).append(time.perf_counter() - started)
                    return found

                return call

            def staff(query: str) -> list[str]:
                return [h.message.code for h in search_cases(moderator, query).hits[:10]]

            systems = {
                "staff search": timed("staff search", staff),
                "substring (LIKE)": timed("substring (LIKE)", substring),
                "public index": timed("public index", ours),
            }
            table = evaluate(queries, systems)
            db.session.remove()
            db.engine.dispose()
    return {
        "machine": f"{platform.node()} · {platform.processor() or platform.machine()} · "
        f"Python {platform.python_version()} · SQLite",
        "messages": imported,
        "targets": len(sample),
        "queries": len(queries),
        "latency_ms": {
            name: {
                "median": round(statistics.median(values) * 1000, 1),
                "p95": round(sorted(values)[int(len(values) * 0.95) - 1] * 1000, 1),
            }
            for name, values in latencies.items()
        },
        "results": table,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1500, help="rows read from each file")
    parser.add_argument("--targets", type=int, default=150, help="target messages sampled")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is not there")
    result = run(args.rows, args.targets, args.seed)
    print(json.dumps({k: v for k, v in result.items() if k != "results"}, ensure_ascii=False))
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
