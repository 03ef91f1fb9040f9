"""The load-and-fault harness: the production path under concurrent traffic and faults.

It starts what an operator runs — gunicorn with the shipped `gunicorn.conf.py` and 4 workers,
`flask search worker`, and `flask deadlines tick` every second as cron would — on a fresh
SQLite or PostgreSQL database, with a real SMTP server (aiosmtpd) for the mail. Then:

1. 20 clients submit 300 messages through `POST /api/v1/messages`, each with its own API token
   and client address, while a moderator approves what was acknowledged (each approval queues
   a mail). Meanwhile: the SMTP server goes away and comes back, two gunicorn workers are killed
   with SIGKILL, the app's database connections are terminated once (PostgreSQL; on SQLite a
   writer holds the database lock for a few seconds instead), and a running tick is killed.
   A client whose request got no answer or a 5xx retries it with the same `Idempotency-Key`, as
   a well-behaved client does; after every 201 it reads its own message back with its token.
2. Every mail must arrive once: each outbox row is sent, and the SMTP server saw each Message-ID
   exactly once.
3. The outbox is pruned and the index directory deleted under the running worker: the index
   must come back whole by itself while `/healthz` answers 503.

It passes only if every acknowledged message is stored exactly once, no request both failed
for good and was stored, no valid token or owner was refused, 5xx answers came only from
requests in flight when a fault struck, every mail arrived exactly once and the index healed.

    .venv/bin/python bench/faults.py --database sqlite
    .venv/bin/python bench/faults.py --database postgres --submissions 1000 --clients 40

`tests/test_faults.py` runs a short form of it in `make test`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTGRES = os.environ.get(
    "BOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "fault-harness-password-9"

SEED = """
import json, sys
from board import create_app
from board.auth.services import create_user, issue_token
from board.clock import utcnow
from board.extensions import db
from board.models import Unit
from board.seed.directory import ensure_boards, load_regions
from board.seed.reference import seed_reason_codes

clients = int(sys.argv[1])
app = create_app()
with app.app_context():
    load_regions([
        ("330000", "浙江省", "province", None),
        ("330100", "杭州市", "city", "330000"),
        ("330106", "西湖区", "county", "330100"),
    ])
    ensure_boards()
    seed_reason_codes()
    db.session.add(Unit(code="330100-zj", name="杭州市住房和城乡建设局", region_code="330100"))
    db.session.commit()
    now = utcnow()
    tokens = {"citizens": []}
    for n in range(clients):
        user = create_user(f"citizen{n}@faults.example.org", "citizen", password=sys.argv[2],
                           pen_name=f"市民{n}", now=now)
        tokens["citizens"].append(issue_token(user, name="faults", now=now))
    moderator = create_user("moderator@faults.example.org", "moderator", password=sys.argv[2],
                            pen_name="审核员", now=now)
    tokens["moderator"] = issue_token(moderator, name="faults", now=now)
    print(json.dumps(tokens))
"""


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# The SMTP server


class MailSink:
    """A real SMTP server (aiosmtpd) that records the Message-ID of every mail it accepts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[str] = []
        self._lock = threading.Lock()
        self._controller = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        from email import message_from_bytes

        mail = message_from_bytes(envelope.original_content or envelope.content)
        with self._lock:
            self.received.append(str(mail["Message-ID"]).strip())  # a long id comes folded
        return "250 OK"

    def start(self) -> None:
        """Accept mail on the port."""
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Refuse connections: the server is gone."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def counts(self) -> Counter:
        """How many times each Message-ID arrived."""
        with self._lock:
            return Counter(self.received)


# ---------------------------------------------------------------------------------------------
# The site


@dataclass
class Site:
    """A running production-like site on a fresh database in `directory`."""

    directory: Path
    database: str  # sqlite | postgres
    workers: int = 4
    url: str = ""
    env: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    processes: dict = field(default_factory=dict)
    pg_name: str = ""
    sink: MailSink | None = None
    ticker: Ticker | None = None

    @property
    def port(self) -> int:
        """The port gunicorn listens on."""
        return int(self.env["PORT"])

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a `flask` command of the site's app."""
        return subprocess.run(
            [str(BIN / "flask"), *args],
            cwd=ROOT,
            env=self.env,
            check=check,
            capture_output=True,
            text=True,
        )

    def query(self, sql: str, *params) -> list[tuple]:
        """Rows of a query on the site's database, from outside the app."""
        if self.database == "sqlite":
            with sqlite3.connect(self.directory / "site.sqlite", timeout=30) as conn:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()
        import psycopg

        with psycopg.connect(self._pg_url(self.pg_name)) as conn:
            return conn.execute(sql, params).fetchall()

    def _pg_url(self, name: str) -> str:
        return POSTGRES.rsplit("/", 1)[0] + "/" + name

    def worker_pids(self) -> list[int]:
        """The pids of gunicorn's worker processes (children of the master)."""
        master = self.processes["web"].pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]


@contextmanager
def running_site(
    directory: Path,
    database: str,
    clients: int,
    workers: int = 4,
    extra_env: dict | None = None,
    helpers: bool = True,
):
    """Create the database, seed it, start the SMTP server, gunicorn, the indexer and the tick
    (`extra_env`: BOARD_* settings of this run; `helpers=False`: gunicorn alone, without the
    indexer and the tick, for a check of the web workers that neither takes part in)."""
    site = Site(directory=directory, database=database, workers=workers)
    port, smtp_port = free_port(), free_port()
    if database == "sqlite":
        url = f"sqlite:///{directory / 'site.sqlite'}"
    else:
        import psycopg

        site.pg_name = f"minsheng_faults_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{site.pg_name}"')
        url = site._pg_url(site.pg_name)
    site.env = dict(
        os.environ,
        FLASK_APP="wsgi",
        PORT=str(port),
        WEB_CONCURRENCY=str(workers),
        BOARD_INSTANCE_PATH=str(directory / "instance"),
        BOARD_SQLALCHEMY_DATABASE_URI=url,
        BOARD_SEARCH_INDEX_DIR=str(directory / "index"),
        BOARD_SECRET_KEY="faults-only",
        BOARD_SEARCH_APPLY_INLINE="false",
        BOARD_MAIL_URL=f"smtp://127.0.0.1:{smtp_port}?timeout=5",
        # Retry after 1 s instead of a minute, so an outage's mail goes within the run.
        BOARD_MAIL_RETRY_SECONDS="1",
        # A killed tick's claimed mail is free again after 10 s instead of 10 minutes.
        BOARD_MAIL_CLAIM_SECONDS="10",
        # The clients stand behind one trusted proxy that names them in X-Forwarded-For.
        BOARD_PROXY_HOPS="1",
        BOARD_BASE_URL=f"http://127.0.0.1:{port}",
        # The limits are tested with several workers on their own (tests/test_rate_limits.py);
        # here 20 clients file 15 messages each, more than a citizen may in an hour.
        BOARD_RATELIMIT_ENABLED="false",
    )
    site.env.update(extra_env or {})
    site.url = f"http://127.0.0.1:{port}"
    site.sink = MailSink(smtp_port)
    with ExitStack() as stack:
        if database == "postgres":
            stack.callback(_drop_database, site)
        site.flask("db", "upgrade")
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, str(clients), PASSWORD],
            cwd=ROOT,
            env=site.env,
            check=True,
            capture_output=True,
            text=True,
        )
        site.tokens = json.loads(seeded.stdout.strip().splitlines()[-1])
        site.flask("search", "rebuild")
        site.sink.start()
        stack.callback(site.sink.stop)
        log = stack.enter_context(open(directory / "site.log", "w"))  # noqa: SIM115
        if helpers:
            site.processes["indexer"] = subprocess.Popen(
                [str(BIN / "flask"), "search", "worker", "--interval", "0.2"],
                cwd=ROOT,
                env=site.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        site.processes["web"] = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=site.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        stack.callback(_stop, site)
        if helpers:
            site.ticker = Ticker(site, log)
            site.ticker.start()
            stack.callback(site.ticker.stop)
        _wait_healthy(site)
        yield site


def _stop(site: Site) -> None:
    for proc in site.processes.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in site.processes.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _drop_database(site: Site) -> None:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{site.pg_name}" WITH (FORCE)')


def _wait_healthy(site: Site, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _body = request(site, "GET", "/healthz")
        if status == 200 and len(site.worker_pids()) >= site.workers:
            return
        if site.processes["web"].poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {site.directory / 'site.log'}")
        time.sleep(0.2)
    raise RuntimeError(f"the site did not come up; see {site.directory / 'site.log'}")


class Ticker(threading.Thread):
    """`flask deadlines tick` once a second, as cron would run it; one run at a time."""

    def __init__(self, site: Site, log) -> None:
        super().__init__(name="ticker", daemon=True)
        self.site, self.log = site, log
        self.halt = threading.Event()
        self.runs = 0
        self.current: subprocess.Popen | None = None
        self.killed = 0

    def run(self) -> None:
        while not self.halt.is_set():
            self.current = subprocess.Popen(
                [str(BIN / "flask"), "deadlines", "tick"],
                cwd=ROOT,
                env=self.site.env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            self.current.wait()
            self.runs += 1
            self.halt.wait(1.0)

    def kill_running(self) -> bool:
        """SIGKILL the tick in progress, if any (a crashed cron job)."""
        current = self.current
        if current is not None and current.poll() is None:
            current.kill()
            self.killed += 1
            return True
        return False

    def stop(self) -> None:
        """Let the current run finish and stop."""
        self.halt.set()
        self.join(timeout=60)


# ---------------------------------------------------------------------------------------------
# Requests


def request(
    site: Site,
    method: str,
    path: str,
    body: dict | None = None,
    token: str | None = None,
    headers: dict | None = None,
    timeout: float = 30.0,
) -> tuple[int | None, dict | str]:
    """One HTTP request on a fresh connection; (None, error) when no answer came back."""
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=timeout)
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as error:
        return None, f"{type(error).__name__}: {error}"
    finally:
        conn.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw.decode("utf-8", "replace")


@dataclass
class Attempt:
    """One try of a submission: the status (None: no answer) and when it was sent."""

    status: int | None
    started: float
    ended: float
    error: str = ""


@dataclass
class Submission:
    """One message a client wants filed, with every attempt it took."""

    key: str
    client: int
    attempts: list[Attempt] = field(default_factory=list)
    code: str | None = None
    readback: int | None = None  # the status of the owner's GET after the 201

    @property
    def acknowledged(self) -> bool:
        """A 201 came back at last."""
        return self.code is not None


MAX_ATTEMPTS = 6


def submit(site: Site, client: int, n: int, token: str) -> Submission:
    """File one message, retrying with the same Idempotency-Key when no answer or a 5xx came."""
    key = uuid.uuid4().hex
    sub = Submission(key=key, client=client)
    body = {
        "board": "330100-secretary",
        "region": "330106",
        "track": "board",
        "kind": "complaint",
        "domain": "urban",
        "title": f"小区路灯坏了 第{n}件",
        "body": f"小区门口的路灯坏了很久，晚上出行很不方便，请尽快修复。登记号 {key}",
        "private_note": "",
        "wants_public": True,
    }
    headers = {"Idempotency-Key": key, "X-Forwarded-For": f"10.0.{client // 250}.{client % 250}"}
    for attempt in range(MAX_ATTEMPTS):
        started = time.monotonic()
        status, answer = request(site, "POST", "/api/v1/messages", body, token, headers)
        error = "" if status is not None and status < 500 else str(answer)[:300]
        sub.attempts.append(Attempt(status, started, time.monotonic(), error))
        if status == 201:
            sub.code = answer["code"]
            break
        if status is not None and status < 500:
            break  # refused: retrying the same request would be refused again
        time.sleep(min(0.2 * 2**attempt, 2.0))
    for attempt in range(MAX_ATTEMPTS if sub.code else 0):
        # The owner reads it back: only an answer counts (a killed worker gives none).
        sub.readback, _body = request(site, "GET", f"/api/v1/messages/{sub.code}", token=token)
        if sub.readback is not None and sub.readback < 500:
            break
        time.sleep(min(0.2 * 2**attempt, 2.0))
    return sub


# ---------------------------------------------------------------------------------------------
# Faults


@dataclass
class Fault:
    """A fault and when it struck (monotonic seconds) and ended."""

    name: str
    started: float
    ended: float
    detail: str = ""


def kill_worker(site: Site) -> Fault:
    """SIGKILL one gunicorn worker; the master starts another."""
    started = time.monotonic()
    pids = site.worker_pids()
    if not pids:
        return Fault("kill worker", started, started, "no worker found")
    os.kill(pids[0], signal.SIGKILL)
    return Fault("kill worker", started, time.monotonic() + 0.5, f"pid {pids[0]}")


def drop_connections(site: Site) -> Fault:
    """Terminate every connection of the app to its database (PostgreSQL), or on SQLite hold
    the write lock for 3 s, as a long migration or a backup would."""
    started = time.monotonic()
    if site.database == "postgres":
        import psycopg

        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (site.pg_name,),
            ).fetchall()
        return Fault("terminate connections", started, time.monotonic() + 0.5, f"{len(rows)}")
    conn = sqlite3.connect(site.directory / "site.sqlite", timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        time.sleep(3.0)
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    return Fault("hold the write lock 3 s", started, time.monotonic(), "")


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class Report:
    """What the harness measured; `failures` lists every broken promise (empty: pass)."""

    database: str
    workers: int
    clients: int
    sent: int = 0
    attempts: int = 0
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    duplicates: int = 0
    failed_and_stored: int = 0
    answers_5xx: int = 0
    answers_5xx_outside_faults: int = 0
    no_answer: int = 0
    refused_tokens: int = 0
    refused_owners: int = 0
    faults: list[str] = field(default_factory=list)
    mail_queued: int = 0
    mail_sent: int = 0
    mail_received: int = 0
    mail_duplicates: int = 0
    mail_seconds_after_outage: float = 0.0  # SMTP back → every mail sent
    mail_seconds_after_load: float = 0.0  # the last submission → every mail sent
    ticks_killed: int = 0
    ticks: int = 0  # tick runs until every mail was sent
    heal_seconds: float | None = None
    heal_saw_503: bool = False
    index_documents: int = 0
    public_messages: int = 0
    load_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every promise held."""
        return not self.failures


def run(
    database: str = "sqlite",
    submissions: int = 300,
    clients: int = 20,
    workers: int = 4,
    directory: Path | None = None,
    heal_timeout: float = 240.0,
    mail_timeout: float = 120.0,
) -> Report:
    """Start the site, run the load with its faults, check every promise; the report."""
    own = directory is None
    directory = Path(tempfile.mkdtemp(prefix="minsheng-faults-")) if own else directory
    directory.mkdir(parents=True, exist_ok=True)
    report = Report(database=database, workers=workers, clients=clients)
    try:
        with running_site(directory, database, clients, workers) as site:
            subs, faults, approved, outage = _load(site, submissions, clients, report)
            _check_submissions(site, subs, faults, report)
            _check_mail(site, outage, approved, report, mail_timeout)
            _heal(site, report, heal_timeout)
    finally:
        if own and not report.failures:
            shutil.rmtree(directory, ignore_errors=True)
    if report.failures and own:
        report.failures.append(f"logs kept in {directory}")
    return report


def _load(site: Site, total: int, clients: int, report: Report):
    """Submit `total` messages from `clients` threads while the faults strike."""
    subs: list[Submission] = []
    lock = threading.Lock()
    counter = iter(range(total))
    done = threading.Semaphore(0)

    def client(index: int) -> None:
        token = site.tokens["citizens"][index]
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            sub = submit(site, index, n, token)
            with lock:
                subs.append(sub)
            done.release()

    approved: set[str] = set()
    halt = threading.Event()

    def moderator() -> None:
        token = site.tokens["moderator"]
        while not halt.is_set() or len(approved) < sum(1 for s in subs if s.acknowledged):
            with lock:
                waiting = [s.code for s in subs if s.acknowledged and s.code not in approved]
            if not waiting:
                if halt.is_set():
                    return
                time.sleep(0.1)
                continue
            for code in waiting:
                status, _ = request(
                    site, "POST", f"/api/v1/messages/{code}/actions/approve", {}, token
                )
                # 409: approved already by an attempt whose answer was lost.
                if status in (200, 409):
                    approved.add(code)
            if halt.is_set() and len(approved) >= sum(1 for s in subs if s.acknowledged):
                return

    faults: list[Fault] = []
    outage: dict[str, float] = {}
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    mod = threading.Thread(target=moderator)
    for thread in [*threads, mod]:
        thread.start()
    # The faults, at fixed shares of the submissions finished.
    plan = [
        (0.15, "smtp down"),
        (0.25, "kill worker"),
        (0.40, "drop connections"),
        (0.55, "kill worker"),
        (0.65, "kill tick"),
        (0.80, "smtp up"),
    ]
    finished = 0
    for share, name in plan:
        while finished < int(total * share):
            done.acquire()
            finished += 1
        now = time.monotonic()
        if name == "smtp down":
            site.sink.stop()
            outage["down"] = now
            faults.append(Fault("SMTP server down", now, now))
        elif name == "smtp up":
            # Make sure a tick tried (and failed) to deliver during the outage.
            while (
                site.query(
                    "SELECT count(*) FROM mail_outbox WHERE attempts > 0 AND state = 'queued'"
                )[0][0]
                == 0
                and time.monotonic() - now < 15
            ):
                time.sleep(0.2)
            site.sink.start()
            outage["up"] = time.monotonic()
            faults[0].ended = outage["up"]
        elif name == "kill worker":
            faults.append(kill_worker(site))
        elif name == "drop connections":
            faults.append(drop_connections(site))
        elif name == "kill tick":
            deadline = time.monotonic() + 10
            while not site.ticker.kill_running() and time.monotonic() < deadline:
                time.sleep(0.05)
    for thread in threads:
        thread.join()
    halt.set()
    mod.join(timeout=120)
    outage["load_ended"] = time.monotonic()
    report.load_seconds = round(time.monotonic() - started, 1)
    report.faults = [f"{f.name} ({f.detail})" if f.detail else f.name for f in faults]
    return subs, faults, approved, outage


def _check_submissions(site: Site, subs: list[Submission], faults: list[Fault], report: Report):
    """Every acknowledged message stored once; failures explained by a fault."""
    stored = Counter()
    for (body,) in site.query("SELECT body FROM message"):
        key = body.rsplit(" ", 1)[-1]
        stored[key] += 1
    report.sent = len(subs)
    report.attempts = sum(len(s.attempts) for s in subs)
    report.acknowledged = sum(1 for s in subs if s.acknowledged)
    report.stored = sum(1 for s in subs if stored[s.key] >= 1)
    report.lost = sum(1 for s in subs if s.acknowledged and stored[s.key] == 0)
    report.duplicates = sum(stored[s.key] - 1 for s in subs if stored[s.key] > 1)
    report.failed_and_stored = sum(1 for s in subs if not s.acknowledged and stored[s.key])
    windows = [
        (f.started - 0.5, f.ended + 5.0)
        for f in faults
        if "worker" in f.name or "connections" in f.name or "lock" in f.name
    ]

    def during_fault(attempt: Attempt) -> bool:
        return any(a <= attempt.ended and attempt.started <= b for a, b in windows)

    for sub in subs:
        for attempt in sub.attempts:
            if attempt.status is None:
                report.no_answer += 1
            elif attempt.status >= 500:
                report.answers_5xx += 1
                if not during_fault(attempt):
                    report.answers_5xx_outside_faults += 1
            elif attempt.status == 401:
                report.refused_tokens += 1
        if sub.acknowledged and sub.readback != 200:
            report.refused_owners += 1
    if report.acknowledged != report.sent:
        report.failures.append(
            f"{report.sent - report.acknowledged} submissions never acknowledged"
        )
    for name in (
        "lost",
        "duplicates",
        "failed_and_stored",
        "answers_5xx_outside_faults",
        "refused_tokens",
        "refused_owners",
    ):
        if getattr(report, name):
            report.failures.append(f"{name}: {getattr(report, name)}")
    if report.answers_5xx:
        report.failures.append(f"5xx answers: {report.answers_5xx}")
    failed = Counter(str(a.status) for s in subs for a in s.attempts if a.status != 201)
    report.faults.append("failed attempts by status: " + json.dumps(dict(failed)))
    server_errors = [a.error for s in subs for a in s.attempts if a.status and a.status >= 500]
    if server_errors:
        report.faults.append(f"first 5xx: {server_errors[0][:300]}")


def _check_mail(site: Site, outage: dict, approved: set, report: Report, timeout: float) -> None:
    """Every queued mail reaches the SMTP server exactly once after the outage."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queued = site.query("SELECT count(*) FROM mail_outbox WHERE state <> 'sent'")[0][0]
        if queued == 0:
            break
        time.sleep(0.5)
    report.mail_seconds_after_outage = round(
        time.monotonic() - outage.get("up", time.monotonic()), 1
    )
    report.mail_seconds_after_load = round(time.monotonic() - outage["load_ended"], 1)
    rows = site.query("SELECT mail_id, state FROM mail_outbox")
    report.mail_queued = len(rows)
    report.mail_sent = sum(1 for _id, state in rows if state == "sent")
    counts = site.sink.counts()
    report.mail_received = len(counts)
    report.mail_duplicates = sum(n - 1 for n in counts.values() if n > 1)
    report.ticks_killed = site.ticker.killed
    report.ticks = site.ticker.runs
    if report.mail_sent != report.mail_queued:
        report.failures.append(f"mail not sent: {report.mail_queued - report.mail_sent}")
    missing = {mail_id for mail_id, _state in rows} - set(counts)
    if missing:
        report.failures.append(f"mail marked sent but never received: {len(missing)}")
    if report.mail_duplicates:
        report.failures.append(f"mail received twice: {report.mail_duplicates}")
    if report.mail_queued < len(approved):
        report.failures.append(
            f"fewer mails ({report.mail_queued}) than approvals ({len(approved)})"
        )


def _heal(site: Site, report: Report, timeout: float) -> None:
    """Prune the outbox, delete the index under the running worker, wait for it to come back."""
    site.flask("search", "sync", "--prune-days", "0")
    public = site.query(
        "SELECT count(*) FROM message WHERE visibility = 'public' AND is_hidden = %s "
        "AND state NOT IN ('submitted', 'rejected', 'withdrawn')",
        False,
    )[0][0]
    report.public_messages = public
    # Gone at once, as a lost disk would be (the worker may be writing in it right now).
    lost = site.directory / "index.lost"
    os.rename(site.directory / "index", lost)
    shutil.rmtree(lost)
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        status, body = request(site, "GET", "/healthz")
        if status == 503:
            report.heal_saw_503 = True
        if status == 200 and isinstance(body, dict):
            documents = body.get("index", {}).get("doc_count", 0)
            report.index_documents = documents
            if documents == public:
                report.heal_seconds = round(time.monotonic() - started, 1)
                break
        time.sleep(0.5)
    if report.heal_seconds is None:
        report.failures.append(
            f"index not whole after {timeout:.0f} s: {report.index_documents} of {public}"
        )
    if not report.heal_saw_503:
        report.failures.append("/healthz never answered 503 while the index was incomplete")


def print_report(report: Report) -> None:
    """The report as a table, then PASS or the broken promises."""
    load = os.getloadavg()
    print(
        f"\nload-and-fault harness: {report.database}, {report.workers} workers, "
        f"{report.clients} clients, {os.cpu_count()} cores, load {load[0]:.1f} {load[1]:.1f}"
    )
    for key, value in asdict(report).items():
        if key in ("failures", "database", "workers", "clients"):
            continue
        print(f"  {key:28} {value}")
    print("PASS" if report.ok else "FAIL:\n  " + "\n  ".join(report.failures))


def main() -> int:
    """Run the harness from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--dir", type=Path, help="keep the site here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the reports here")
    args = parser.parse_args()
    databases = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    reports = []
    for database in databases:
        directory = args.dir / database if args.dir else None
        report = run(database, args.submissions, args.clients, args.workers, directory)
        print_report(report)
        reports.append(report)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in reports], indent=2, ensure_ascii=False))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
