"""Search speed at scale: seed, rebuild, query latency, incremental lag, memory, FTS5 reference.

    .venv/bin/python bench/speed.py --dir /tmp/bench100k --messages 100000 all
    .venv/bin/python bench/speed.py --dir /tmp/bench100k queries      # one step again

Steps: `seed` (flask seed regions + flask seed demo --messages N, bulk above 2,000), `rebuild`
(flask search rebuild --procs P for each P in --procs, docs/s and peak RSS), `queries`
(latency of `search_messages`, the whole search including total, facets, database load and
snippets), `incremental` (approve a message → searchable, with `flask search worker` running),
`memory` (RSS of a fresh process with the index open after the query set), `fts5` (the same
jieba tokens in an SQLite FTS5 table: build and the same queries with count and facets).
Every result is stored in DIR/results.json with the load averages at the time: the machine is
shared, so compare numbers from the same run only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sqlite3
import string
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from common import ROOT, bench_env, flask, load, make_app, rss_mb, summary

WORDS = ["物业费", "路灯", "噪音", "拖欠工资", "学区", "停车", "电动车", "油烟", "公交", "医保"]
TWO_WORDS = ["物业费 上涨", "拖欠工资 农民工", "学区 划片", "路灯 不亮", "噪音 扰民", "停车 收费"]
PHRASES = ['"物业费上涨"', '"拖欠工资"', '"路灯不亮"', '"业主大会"', '"政务服务热线"']


def query_set() -> dict[str, list[dict]]:
    """Query kinds → search_messages keyword arguments."""
    last_year = date(2026, 1, 1)
    return {
        "single word": [{"q": w} for w in WORDS],
        "two words": [{"q": w} for w in TWO_WORDS],
        "phrase": [{"q": p} for p in PHRASES],
        "filtered": [
            {"q": "物业费", "filters": {"region": "330100"}},
            {"q": "路灯", "filters": {"domain": "urban", "replied": True}},
            {"q": "拖欠工资", "filters": {"state": ["replied", "closed"]}},
            {"q": "噪音", "filters": {"date_from": last_year, "date_to": date(2026, 6, 30)}},
            {"q": "", "filters": {"region": "330106"}},
        ],
        "sorted": [
            {"q": "物业费", "sort": "newest"},
            {"q": "公交", "sort": "cosigns"},
            {"q": "拖欠工资", "sort": "slowest"},
            {"q": "", "sort": "newest"},
            {"q": "", "sort": "oldest"},
        ],
        "deep page": [
            {"q": "物业费", "page": 50},
            {"q": "路灯", "page": 100},
            {"q": "", "page": 400},
            {"q": "公交", "sort": "newest", "page": 200},
        ],
    }


def save(directory: Path, key: str, value) -> None:
    path = directory / "results.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    print(f"== {key}: {json.dumps(value, ensure_ascii=False, default=str)}", flush=True)


# ---------------------------------------------------------------------------------------------


def step_seed(args) -> None:
    env = bench_env(args.dir, args.database_url)
    subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-c",
            "from board import create_app; from board.extensions import db\n"
            "app = create_app()\nwith app.app_context(): db.create_all()",
        ],
        env=env,
        cwd=ROOT,
        check=True,
    )
    at = load()
    wall, _, cpu = flask(env, "seed", "regions")
    save(args.dir, "seed_regions", {"seconds": round(wall, 1), **cpu, "load": at})
    at = load()
    wall, out, cpu = flask(
        env, "seed", "demo", "--messages", str(args.messages), "--now", "2026-11-01T09:00:00"
    )
    save(
        args.dir,
        "seed_demo",
        {
            "messages": args.messages,
            "seconds": round(wall, 1),
            "messages_per_s": round(args.messages / wall),
            **cpu,
            "load_before": at,
            "load_after": load(),
        },
    )


def step_rebuild(args) -> None:
    env = bench_env(args.dir, args.database_url)
    for procs in args.procs:
        at = load()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        wall, out, cpu = flask(env, "search", "rebuild", "--procs", str(procs), memory=True)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        documents = int(out.strip().rsplit(" ", 2)[-2])
        size = sum(f.stat().st_size for f in (args.dir / "index").rglob("*") if f.is_file())
        save(
            args.dir,
            f"rebuild_procs{procs}",
            {
                "documents": documents,
                "seconds": round(wall, 1),
                "docs_per_s": round(documents / wall),
                "cpu_docs_per_s": round(documents / max(cpu["user"] + cpu["sys"], 0.1)),
                **cpu,
                # the largest single process (ru_maxrss only grows: valid when it rose)
                "peak_rss_mb": round(peak / 1024) if peak > before else None,
                "index_mb_on_disk_incl_previous_generation": round(size / 2**20),
                "load_before": at,
                "load_after": load(),
            },
        )


def _time_queries(app, rounds: int) -> dict:
    """Per kind of query: the first pass (each query's postings read from disk: `cold`) and
    `rounds` passes after it (postings from the process's cache, as for repeated searches)."""
    from board.extensions import db
    from board.search.query import search_messages

    results = {}
    with app.app_context():
        # Open the searcher and read the segments' columns with queries outside the set.
        search_messages("", sort="newest")
        search_messages("市民 反映")
        db.session.remove()
        for kind, items in query_set().items():
            cold, samples, totals = [], [], []
            for n in range(rounds + 1):
                for item in items:
                    started = time.perf_counter()
                    result = search_messages(**item)
                    (cold if n == 0 else samples).append((time.perf_counter() - started) * 1000)
                    totals.append(result.total)
                    db.session.remove()
            results[kind] = {
                **summary(samples),
                "cold": summary(cold),
                "totals": sorted(set(totals))[:8],
            }
    return results


def step_queries(args) -> None:
    app = make_app(args.dir, args.database_url)
    at = load()
    results = _time_queries(app, args.rounds)
    save(
        args.dir,
        "queries",
        {"load_before": at, "load_after": load(), "rss_mb_after": round(rss_mb()), **results},
    )


def step_memory(args) -> None:
    """A fresh process like a gunicorn worker: app, jieba, the searcher and its column cache."""
    code = (
        "import sys, json; sys.path.insert(0, 'bench')\n"
        "from common import make_app, rss_mb, peak_rss_mb\n"
        "from pathlib import Path\n"
        f"app = make_app(Path({str(args.dir)!r}), {args.database_url!r})\n"
        "from board.search import analysis, query\n"
        "base = rss_mb()\n"
        "with app.app_context():\n"
        "    analysis.load(); jieba_loaded = rss_mb()\n"
        "    query.search_messages('物业费'); query.search_messages('', sort='newest')\n"
        "    query.search_messages('公交', filters={'region': '330100'}, sort='cosigns')\n"
        "    query.search_messages('\"路灯不亮\"', page=20)\n"
        "print(json.dumps({'app_mb': round(base), 'with_jieba_mb': round(jieba_loaded),\n"
        "    'index_open_after_queries_mb': round(rss_mb()), 'peak_mb': round(peak_rss_mb())}))\n"
    )
    env = bench_env(args.dir, args.database_url)
    out = (
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-c", code],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    save(args.dir, "memory_search_process", {**json.loads(out), "load": load()})


def step_incremental(args) -> None:
    """Approve (publish) messages one at a time; time until each is found by a search."""
    from sqlalchemy import select

    app = make_app(args.dir, args.database_url)
    env = bench_env(args.dir, args.database_url)
    worker_log = open(args.dir / "worker.log", "ab")  # noqa: SIM115 (closed in `finally`)
    worker = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flask"), "search", "worker", "--interval", "0.2"],
        env=env,
        cwd=ROOT,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        from board.extensions import db
        from board.messages import services as msg
        from board.models import Kind, Message, Role, State, User
        from board.search import indexer
        from board.search.query import search_messages

        with app.app_context():
            moderator = db.session.scalar(select(User).where(User.role == Role.MODERATOR))
            candidates = list(
                db.session.scalars(
                    select(Message.id)
                    .where(
                        Message.state == State.SUBMITTED,
                        Message.wants_public.is_(True),
                        Message.kind != Kind.REPORT,
                    )
                    .limit(args.updates + 1)
                )
            )
            # Wait for the worker to start and catch up.
            deadline = time.time() + 120
            while indexer.index_status()["pending"] and time.time() < deadline:
                time.sleep(0.5)
            search_messages("", sort="newest")  # this process's searcher open, columns read
            db.session.remove()
            at = load()
            lags = []
            # The first publication waits for the worker to start (jieba, the index): timed
            # apart from the others.
            for n, message_id in enumerate(candidates):
                message = db.session.get(Message, message_id)
                moderator = db.session.merge(moderator)
                # Letters only: a run of digits may read as a phone or ID number, which the
                # public text masks (a 10-digit timestamp once did: never found, a 30 s "lag").
                token = f"benchmark{n}x{''.join(random.choices(string.ascii_lowercase, k=10))}"
                message.title = f"{message.title[:12]}{token}"[:40]
                db.session.commit()  # not public yet: nothing to index
                now = message.created_at + timedelta(hours=2)
                started = time.perf_counter()
                msg.approve_message(message, moderator, now=now)
                while search_messages(token).total == 0:
                    if time.perf_counter() - started > 30:
                        break
                    time.sleep(0.02)
                lags.append((time.perf_counter() - started) * 1000)
                db.session.remove()
            worker_rss = rss_mb(worker.pid)
        save(
            args.dir,
            "incremental_publish_to_searchable",
            {
                **summary(lags[1:]),
                "lags_ms": [round(lag) for lag in lags[1:]],
                "first_after_worker_start_ms": round(lags[0]),
                "worker_rss_mb": round(worker_rss),
                "load_before": at,
                "load_after": load(),
            },
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        worker_log.close()


# ---------------------------------------------------------------------------------------------
# SQLite FTS5 over the same tokens


def _fts_tokens(docs: list[dict]) -> list[tuple]:
    from board.search import analysis

    rows = []
    for doc in docs:
        tokens = []
        for name in ("title", "body", "reply"):
            for leaf, _s, _e, extras in analysis.leaves(doc[name] or ""):
                tokens.extend(x[0] for x in extras)
                tokens.append(leaf)
        rows.append(
            (
                " ".join(tokens),
                doc["code"],
                doc["domain"],
                doc["state"],
                doc["kind"],
                doc["year"],
                doc["top_region"],
                doc["region"],
                doc["published_on"].isoformat(),
                doc["cosigns"],
            )
        )
    return rows


def _fts_match(q: str) -> str | None:
    from board.search import analysis

    q = q.strip()
    if not q:
        return None
    if q.startswith('"'):
        leaves = [leaf for w in analysis.words(q.strip('"')) for leaf in w.leaves]
        return '"' + " ".join(leaves) + '"'
    parts = []
    for w in analysis.words(q):
        if w.is_compound:
            parts.append(f'("{w.text}" OR (' + " AND ".join(f'"{x}"' for x in w.leaves) + "))")
        else:
            parts.append(f'"{w.text}"')
    return " AND ".join(parts)


def step_fts5(args) -> None:
    from board.extensions import db
    from board.search import documents
    from board.search.topics import topic_roots

    app = make_app(args.dir, args.database_url)
    path = args.dir / "fts5.sqlite"
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute(
        "CREATE VIRTUAL TABLE fts USING fts5(tokens, code UNINDEXED, domain UNINDEXED, "
        "state UNINDEXED, kind UNINDEXED, year UNINDEXED, top_region UNINDEXED, "
        "region UNINDEXED, published UNINDEXED, cosigns UNINDEXED, tokenize='unicode61')"
    )
    at = load()
    started = time.perf_counter()
    count = 0
    with app.app_context():
        documents.ensure_dictionary(force=True)
        ids = documents.public_ids()
        roots = topic_roots()
        procs = args.procs[-1]
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            # Documents are read here (the app context is this thread's); tokens in the pool.
            for first in range(0, len(ids), 500 * procs):
                group = []
                for start in range(first, min(first + 500 * procs, len(ids)), 500):
                    messages = documents.load_messages(ids[start : start + 500])
                    group.append(
                        [documents.document_for(m, roots) for m in messages.values() if m.is_public]
                    )
                    db.session.expunge_all()
                for rows in pool.map(_fts_tokens, group):
                    con.executemany("INSERT INTO fts VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
                    count += len(rows)
        con.commit()
    build = time.perf_counter() - started
    size = path.stat().st_size
    facet_columns = ("domain", "state", "kind", "year", "top_region")

    def run(item: dict) -> int:
        match = _fts_match(item.get("q", ""))
        where, params = [], []
        if match:
            where.append("fts MATCH ?")
            params.append(match)
        filters = item.get("filters") or {}
        if "region" in filters:
            where.append("(' ' || region || ' ') LIKE ?")
            params.append(f"% {filters['region']} %")
        if "domain" in filters:
            where.append("domain = ?")
            params.append(filters["domain"])
        if "state" in filters:
            states = filters["state"] if isinstance(filters["state"], list) else [filters["state"]]
            where.append(f"state IN ({','.join('?' * len(states))})")
            params += states
        if filters.get("replied"):
            where.append("state IN ('replied', 'closed')")
        if "date_from" in filters:
            where.append("published >= ? AND published < ?")
            params += [filters["date_from"].isoformat(), filters["date_to"].isoformat()]
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        sort = item.get("sort", "relevance" if match else "newest")
        order = {
            "newest": "published DESC",
            "oldest": "published",
            "cosigns": "cosigns DESC, published DESC",
            "slowest": "published DESC",
        }.get(sort, "rank")
        page = item.get("page", 1)
        con.execute(
            f"SELECT code FROM fts{clause} ORDER BY {order} LIMIT 20 OFFSET ?",
            [*params, (page - 1) * 20],
        ).fetchall()
        total = con.execute(f"SELECT count(*) FROM fts{clause}", params).fetchone()[0]
        for column in facet_columns:
            con.execute(f"SELECT {column}, count(*) FROM fts{clause} GROUP BY {column}", params)
        return total

    results = {}
    queries = query_set()
    for items in queries.values():
        for item in items:
            run(item)
    for kind, items in queries.items():
        samples, totals = [], []
        for _ in range(args.rounds):
            for item in items:
                started = time.perf_counter()
                totals.append(run(item))
                samples.append((time.perf_counter() - started) * 1000)
        results[kind] = {**summary(samples), "totals": sorted(set(totals))[:8]}
    save(
        args.dir,
        "fts5",
        {
            "documents": count,
            "build_seconds": round(build, 1),
            "build_docs_per_s_incl_segmentation": round(count / build),
            "processes": args.procs[-1],
            "table_mb": round(size / 2**20),
            "load_before": at,
            "load_after": load(),
            **results,
        },
    )


STEPS = {
    "seed": step_seed,
    "rebuild": step_rebuild,
    "queries": step_queries,
    "memory": step_memory,
    "incremental": step_incremental,
    "fts5": step_fts5,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, required=True, help="bench directory (made if new)")
    parser.add_argument("--database-url", help="default: DIR/board.sqlite")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2], help="rebuild writers")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the query set")
    parser.add_argument("--updates", type=int, default=20, help="publications timed")
    parser.add_argument("steps", nargs="+", choices=[*STEPS, "all"])
    args = parser.parse_args()
    steps = list(STEPS) if "all" in args.steps else args.steps
    for name in steps:
        print(f"-- {name} (load {load()})", flush=True)
        STEPS[name](args)


if __name__ == "__main__":
    sys.exit(main())
