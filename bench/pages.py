"""Throughput of the public pages against a minimal Flask list page, side by side (issue 20).

    .venv/bin/python bench/pages.py                           # 100k messages on SQLite
    .venv/bin/python bench/pages.py --messages 1000000 --database-url postgresql://…
    .venv/bin/python bench/pages.py --only home,region-city --duration 5

Seeds (once) or reuses a database of N demo messages under bench/results/ (git-ignored), starts
the shipped `gunicorn.conf.py` with WEB_CONCURRENCY=4 and the reference app
(`bench/reference_app.py`: Flask + Flask-SQLAlchemy rendering 20 rows of an N-row table through
a Jinja template, 4 gunicorn workers), then loads each page with `wrk -t2 -c16 -d10s` (or, when
wrk is missing, a Python load generator with the same semantics: closed loop, keep-alive
connections, 2 s timeout) and prints req/s, p50/p99, errors and timeouts, and the share of the
reference's req/s. The reference is loaded before the first page and again after every page
(--reference-every): each page's share is against the mean of the reference runs just before
and after it, as the load of a shared machine drifts. Every run prints the load average too:
compare ratios of one run, not absolute numbers across runs. Results: DIR/pages-LABEL.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import ROOT, bench_env, flask, load, make_app

VENV_BIN = ROOT / ".venv" / "bin"


# ---------------------------------------------------------------------------------------------
# The database


def seed(directory: Path, messages: int, database_url: str | None) -> None:
    """Migrate, load the regions and N demo messages, build the search index (once per DIR)."""
    marker = directory / f"seeded-{messages}"
    env = bench_env(directory, database_url)
    if marker.exists():
        flask(env, "db", "upgrade")  # a database seeded by an older checkout
        return
    for step in (
        ("db", "upgrade"),
        ("seed", "regions"),
        ("seed", "demo", "--messages", str(messages), "--now", "2026-11-01T09:00:00"),
        ("search", "rebuild", "--procs", "1"),
    ):
        print(f"flask {' '.join(step)} …", flush=True)
        wall, _, _ = flask(env, *step)
        print(f"  {wall:.0f} s", flush=True)
    if database_url:
        # Fresh bulk-loaded tables have no planner statistics until autovacuum gets to them;
        # without them PostgreSQL picks plans that take minutes (the replies feed did).
        from sqlalchemy import create_engine, text

        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
        engine.dispose()
    marker.write_text(load())


def pick_pages(directory: Path, database_url: str | None) -> list[tuple[str, str]]:
    """The public pages to load, with the busiest board, unit and region of this database."""
    from sqlalchemy import func, select

    from board.extensions import db
    from board.messages.services import public_messages_query
    from board.models import Board, Message, Unit

    app = make_app(directory, database_url)
    with app.app_context():
        board_id = db.session.execute(
            select(Message.board_id).group_by(Message.board_id).order_by(func.count().desc())
        ).scalar()
        board = db.session.get(Board, board_id)
        unit_id = db.session.execute(
            select(Message.unit_id)
            .where(Message.unit_id.is_not(None))
            .group_by(Message.unit_id)
            .order_by(func.count().desc())
        ).scalar()
        unit = db.session.get(Unit, unit_id)
        path = board.region.path.split("/")
        province, city = path[0], path[1] if len(path) > 1 else path[0]
        message = db.session.scalars(
            public_messages_query().where(Message.replied_at.is_not(None)).limit(1)
        ).first()
        db.engine.dispose()
    return [
        ("home", "/"),
        ("leaders", "/leaders"),
        ("leaders-province", f"/leaders?region={province}"),
        ("region-province", f"/regions/{province}"),
        ("region-city", f"/regions/{city}"),
        ("board", f"/boards/{board.code}"),
        ("unit", f"/units/{unit.code}"),
        ("message", f"/m/{message.code}"),
        ("search", "/search?q=%E8%B7%AF%E7%81%AF"),  # 路灯
        ("search-api", "/api/v1/search?q=%E8%B7%AF%E7%81%AF"),  # never cached: a search each
        ("rankings", "/rankings"),
        ("reports", "/reports"),
        ("feed-replies", "/feeds/replies.atom"),
        ("feed-messages", "/feeds/messages.atom"),
    ]


def pg_activity(database_url: str | None) -> str:
    """PostgreSQL: the other work on the same server while we measure (other helpers' tests
    share it): backends that are not idle, by database, from `pg_stat_activity`."""
    if not database_url:
        return ""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT coalesce(datname, '-'), count(*) FROM pg_stat_activity "
                    "WHERE state IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid() "
                    "GROUP BY 1 ORDER BY 2 DESC"
                )
            ).all()
    finally:
        engine.dispose()
    busy = sum(n for _db, n in rows)
    return f"{busy} busy backends" + (
        " (" + ", ".join(f"{name} {n}" for name, n in rows) + ")" if rows else ""
    )


# ---------------------------------------------------------------------------------------------
# The servers


def start(cmd: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    """A server in its own process group (stopped with its workers by `stop`)."""
    handle = log.open("ab")
    return subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=handle, stderr=handle, start_new_session=True
    )


def stop(server: subprocess.Popen) -> None:
    """Stop a gunicorn master and its workers."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_ready(url: str, server: subprocess.Popen, seconds: float = 120) -> None:
    """Poll `url` until it answers (any status) or the server died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server for {url} exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {seconds:.0f} s")


def alone(url: str, rounds: int = 20) -> tuple[int, float, float]:
    """One request at a time: status, the first request's milliseconds (rendered: nothing is
    stored yet) and the median of `rounds` more (stored pages, once each worker has one)."""
    times, status = [], 0
    for _ in range(rounds + 1):
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:  # no answer within 60 s: recorded as status 0, the run goes on
            status = 0
        times.append((time.perf_counter() - started) * 1000)
    return status, times[0], statistics.median(times[1:])


# ---------------------------------------------------------------------------------------------
# Load: wrk, or the same closed loop in Python


def _ms(text: str) -> float:
    """wrk's '1.23ms' / '850.00us' / '1.02s' in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(url: str, threads: int, connections: int, duration: int) -> dict:
    """`wrk --latency` on one URL: req/s, p50/p99 (ms), errors (non-2xx/3xx, socket), timeouts."""
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "2s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct, key in (("50", "p50"), ("99", "p99")):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        result[key] = _ms(match.group(1)) if match else None
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    sockets = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["timeouts"] = int(sockets.group(4)) if sockets else 0
    result["errors"] = (int(non_ok.group(1)) if non_ok else 0) + (
        sum(int(sockets.group(i)) for i in (1, 2, 3)) if sockets else 0
    )
    return result


async def _connection(host: str, port: int, target: str, until: float, out: dict) -> None:
    """One keep-alive connection sending GETs back to back until `until` (wrk's loop)."""
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    reader = writer = None
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
            if "content-length" in headers:
                await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 2.0)
            else:  # chunked
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            out["latencies"].append((time.monotonic() - started) * 1000)
            if not 200 <= status < 400:
                out["errors"] += 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                writer = None
        except TimeoutError:
            out["timeouts"] += 1
            writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            out["errors"] += 1
            writer = None
    if writer is not None:
        writer.close()


def _python_worker(url: str, connections: int, duration: int, queue) -> None:
    """One load process (wrk's thread): `connections` coroutines for `duration` seconds."""
    parsed = urllib.request.urlparse(url)
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    out = {"latencies": [], "errors": 0, "timeouts": 0}

    async def main():
        until = time.monotonic() + duration
        await asyncio.gather(
            *(
                _connection(parsed.hostname, parsed.port, target, until, out)
                for _ in range(connections)
            )
        )

    asyncio.run(main())
    queue.put(out)


def run_python(url: str, threads: int, connections: int, duration: int) -> dict:
    """The Python load generator: `threads` processes sharing `connections` connections."""
    queue = multiprocessing.Queue()
    shares = [connections // threads + (i < connections % threads) for i in range(threads)]
    workers = [
        multiprocessing.Process(target=_python_worker, args=(url, n, duration, queue))
        for n in shares
    ]
    for worker in workers:
        worker.start()
    parts = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    latencies = sorted(x for part in parts for x in part["latencies"])

    def pct(p):
        return (
            latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else None
        )

    return {
        "rps": len(latencies) / duration,
        "p50": pct(50),
        "p99": pct(99),
        "requests": len(latencies),
        "errors": sum(part["errors"] for part in parts),
        "timeouts": sum(part["timeouts"] for part in parts),
    }


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, help="bench directory (default bench/results/pages-N)")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in DIR)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers of both apps")
    parser.add_argument("--port", type=int, default=8320)
    parser.add_argument("--only", help="comma-separated page names")
    parser.add_argument(
        "--reference-every",
        type=int,
        default=1,
        help="load the reference again after every N pages (each page's share uses the "
        "reference runs just before and after it)",
    )
    parser.add_argument("--label", default="run", help="name of the results file")
    parser.add_argument("--python-load", action="store_true", help="skip wrk even if present")
    parser.add_argument("--cache", help="BOARD_PAGE_CACHE of the site (default: its own)")
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=ROOT,
        help="serve the board from this checkout (e.g. `git archive main` unpacked: the BEFORE)",
    )
    args = parser.parse_args()
    directory = (args.dir or ROOT / "bench" / "results" / f"pages-{args.messages}").resolve()
    directory.mkdir(parents=True, exist_ok=True)

    seed(directory, args.messages, args.database_url)
    reference_db = directory / f"reference-{args.messages}.sqlite"
    if not reference_db.exists():
        print(f"filling the reference table with {args.messages} rows …", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "reference_app.py"),
                str(reference_db),
                str(args.messages),
            ],
            check=True,
        )
    pages = pick_pages(directory, args.database_url)
    if args.only:
        wanted = args.only.split(",")
        pages = [page for page in pages if page[0] in wanted]

    site_port, ref_port = args.port, args.port + 1
    env = bench_env(directory, args.database_url)
    env.update(WEB_CONCURRENCY=str(args.workers), PORT=str(site_port))
    if args.cache is not None:
        env["BOARD_PAGE_CACHE"] = args.cache
    site = start(
        [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        env,
        directory / "site.log",
        cwd=args.app_dir.resolve(),
    )
    ref_env = dict(os.environ, REFERENCE_DB=str(reference_db))
    reference = start(
        [
            str(VENV_BIN / "gunicorn"),
            "-w",
            str(args.workers),
            # The shipped config's server settings (threads, keep-alive), so that the two differ
            # only in the application.
            "--threads",
            "2",
            "-b",
            f"127.0.0.1:{ref_port}",
            "--chdir",
            str(ROOT / "bench"),
            "reference_app:app",
        ],
        ref_env,
        directory / "reference.log",
        cwd=ROOT / "bench",  # not the checkout: gunicorn would read its gunicorn.conf.py
    )
    use_wrk = shutil.which("wrk") and not args.python_load
    loader = run_wrk if use_wrk else run_python
    results: dict = {
        "messages": args.messages,
        "database": "postgresql" if args.database_url else "sqlite",
        "loader": "wrk" if use_wrk else "python",
        "app_dir": str(args.app_dir.resolve()),
        "load_before": load(),
        "pg_before": pg_activity(args.database_url),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "reference": [],
        "pages": {},
    }
    try:
        site_url, ref_url = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{ref_port}/"
        wait_ready(site_url + "/healthz", site)
        wait_ready(ref_url, reference)
        print(
            f"{args.messages} messages, {results['database']}, {args.workers} workers each, "
            f"{results['loader']} -t{args.threads} -c{args.connections} -d{args.duration}s, "
            f"load {load()}",
            flush=True,
        )

        def reference_run():
            run = loader(ref_url, args.threads, args.connections, args.duration)
            run["load"] = load()
            results["reference"].append(run)
            print(
                f"  reference: {run['rps']:.0f} req/s, p50 {run['p50']:.1f} ms, "
                f"p99 {run['p99']:.1f} ms, load {run['load']}",
                flush=True,
            )

        reference_run()
        for number, (name, path) in enumerate(pages):
            status, first, single = alone(site_url + path)
            run = loader(site_url + path, args.threads, args.connections, args.duration)
            run.update(
                path=path,
                status=status,
                first_ms=round(first, 1),
                alone_ms=round(single, 1),
                load=load(),
                pg=pg_activity(args.database_url),
            )
            results["pages"][name] = run
            print(
                f"  {name:17} {run['rps']:7.0f} req/s  p50 {run['p50']:7.1f} ms  "
                f"p99 {run['p99']:7.1f} ms  err {run['errors']} to {run['timeouts']}  "
                f"first {first:.0f} ms  alone {single:.1f} ms  [{status}]  load {run['load']}"
                + (f"  pg {run['pg']}" if run["pg"] else ""),
                flush=True,
            )
            run["reference_before"] = len(results["reference"]) - 1
            if (
                number % args.reference_every == args.reference_every - 1
                or number == len(pages) - 1
            ):
                reference_run()
    finally:
        stop(site)
        stop(reference)
    ref_rps = statistics.mean(run["rps"] for run in results["reference"])
    results["reference_rps"] = ref_rps
    results["load_after"] = load()
    results["pg_after"] = pg_activity(args.database_url)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(
        f"\n{results['started']} – {results['finished']}: reference {ref_rps:.0f} req/s "
        f"(mean of {len(results['reference'])} runs); "
        f"load {results['load_before']} → {results['load_after']}"
        + (f"; pg {results['pg_before']} → {results['pg_after']}" if args.database_url else "")
    )
    print(
        "| page | path | req/s | reference req/s | share | p50 ms | p99 ms | errors/timeouts "
        "| first ms | alone ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, run in results["pages"].items():
        # Against the reference runs just before and after this page: the machine's load moves.
        before = results["reference"][run["reference_before"]]["rps"]
        after = results["reference"][
            min(run["reference_before"] + 1, len(results["reference"]) - 1)
        ]["rps"]
        run["reference_rps"] = (before + after) / 2
        run["share"] = run["rps"] / run["reference_rps"]
        print(
            f"| {name} | `{run['path']}` | {run['rps']:.0f} | {run['reference_rps']:.0f} | "
            f"{run['share']:.0%} | "
            f"{run['p50']:.1f} | {run['p99']:.1f} | {run['errors']}/{run['timeouts']} | "
            f"{run['first_ms']:.0f} | {run['alone_ms']:.1f} |"
        )
    (directory / f"pages-{args.label}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
