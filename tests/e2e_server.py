"""A real site for browser tests: migrated SQLite, a small directory, gunicorn and the indexer."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from conftest import MINI_REGIONS, PASSWORD

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

# What every script run against the site's database starts with (`python -c`, the site's
# environment): the app with its context pushed, and helpers to find an account, submit a
# message and leave a value next to the database for the test to read.
SCRIPT_PREAMBLE = (
    """
import sys
import types
from pathlib import Path
from sqlalchemy import select
from board import create_app
from board.auth.services import create_user
from board.clock import utcnow
from board.extensions import db
from board.messages import services as msg
from board.models import Board, Message, Region, Unit, User

# The tests' constants (importing conftest itself would import pytest: ~0.8 s of CPU a script).
"""
    + f"conftest = types.SimpleNamespace(PASSWORD={PASSWORD!r}, MINI_REGIONS={MINI_REGIONS!r})\n"
    + """

app = create_app()
app.app_context().push()


def who(address):
    return db.session.scalar(select(User).where(User.email == address))


# A complaint to the 杭州市委书记 board about 西湖区.
def submit(author, title, body, *, wants_public=True):
    return msg.submit_message(
        author, board=db.session.scalar(select(Board).where(Board.code == "330100-secretary")),
        region=db.session.get(Region, "330106"), track="board", kind="complaint",
        domain="urban", title=title, body=body, wants_public=wants_public, now=utcnow(),
    )


# Write `text` to the file `name` next to the site's database (the test reads it there).
def leave(name, text):
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    database.with_name(name).write_text(text)
"""
)

SEED_SCRIPT = (
    SCRIPT_PREAMBLE
    + """
from board.seed.directory import ensure_boards, load_regions
from board.seed.reference import seed_reason_codes

load_regions(conftest.MINI_REGIONS)
ensure_boards()
seed_reason_codes()
db.session.add(Unit(code="330100-zj", name="杭州市住房和城乡建设局", region_code="330100"))
db.session.commit()
for email, role, unit in [
    ("citizen@e2e.example.org", "citizen", None),
    ("moderator@e2e.example.org", "moderator", None),
    ("coordinator@e2e.example.org", "coordinator", "330100-secretary-office"),
    ("handler@e2e.example.org", "handler", "330100-zj"),
    ("province@e2e.example.org", "coordinator", "330000-secretary-office"),
]:
    create_user(email, role, password=conftest.PASSWORD, pen_name=role, unit_code=unit,
                now=utcnow())
"""
)


# What follows the seed script in its process: the search index built from what it committed,
# in an app of its own, as `flask search rebuild` does (one process started instead of two:
# ~2 s of CPU each).
BUILD_INDEX = """
from board import create_app as _create_app
from board.search.rebuild import rebuild as _rebuild

with _create_app().app_context():
    _rebuild()
"""


# Debian's Chromium, driven by Playwright without a browser download.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def headless_chromium():
    """A headless Chromium for one test module's journeys."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, server: subprocess.Popen, deadline_s: float = 120.0) -> None:
    """Poll `url` until it answers 200; fail if the server exits or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except Exception as error:  # not up yet
            last = error
        try:
            code = server.wait(timeout=0.2)  # doubles as the pause between polls
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"the server exited with {code} before answering")
    raise RuntimeError(f"{url} did not come up: {last}")


# The database the migrations make, once per test process (`flask db upgrade` from empty: a
# process of its own and every revision, ~10 s under load); each site starts from a copy of it.
_MIGRATED: list[Path] = []


def migrated_database(path: Path, env: dict) -> None:
    """Write the fully migrated, empty SQLite database to `path`."""
    if not _MIGRATED:
        flask = str(VENV_BIN / "flask")
        subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        _MIGRATED.append(path.with_name("migrated.sqlite"))
        _copy_sqlite(path, _MIGRATED[0])
        return
    _copy_sqlite(_MIGRATED[0], path)


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database through its backup API (whatever is still in its WAL included)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def site_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of the site kept in `tmp` (database, instance folder, index), for the
    server and for every command or script run against it; `extra` adds variables."""
    return dict(
        os.environ,
        FLASK_APP="wsgi",
        BOARD_INSTANCE_PATH=str(tmp / "instance"),
        BOARD_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'site.sqlite'}",
        BOARD_SEARCH_INDEX_DIR=str(tmp / "index"),
        BOARD_SECRET_KEY="e2e-secret",
        BOARD_SEARCH_APPLY_INLINE="false",
        PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
        **extra,
    )


def flask(tmp: Path, *args: str, **extra: str) -> str:
    """Run `flask *args` against the site in `tmp` (`extra`: more environment); its output."""
    done = subprocess.run(
        [str(VENV_BIN / "flask"), *args], cwd=ROOT, env=site_env(tmp, **extra), check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def run_script(tmp: Path, body: str, *args: str) -> str:
    """Run SCRIPT_PREAMBLE + `body` (with `args` in sys.argv) against the site in `tmp`; the
    last line it printed."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT_PREAMBLE + body, *args], cwd=ROOT, env=site_env(tmp),
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def sink_mail(tmp: Path, to: str, kind: str) -> list[email.message.EmailMessage]:
    """The mails of `kind` to `to` in the site's file sink (instance/mail), oldest first."""
    mails = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((tmp / "instance" / "mail").glob("*.eml"))
    ]
    return [m for m in mails if str(m["To"]) == to and str(m["X-Minsheng-Kind"]) == kind]


def new_page(browser):
    """A phone-sized page (390 px wide) in Chinese, with its own cookies."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def submit(page, form: str) -> None:
    """Press the submit button of the form matching the CSS selector and wait for the answer."""
    page.click(f"{form} button[type=submit], {form} input[type=submit]")
    page.wait_for_load_state()


def sign_in(page, site: str, address: str, password: str = PASSWORD, *, check: bool = True):
    """Sign in from the login form; with `check`, fail unless it let the account in."""
    page.goto(f"{site}/login")
    page.fill("input[name=email]", address)
    page.fill("input[name=password]", password)
    submit(page, "form.form")
    if check:
        assert "/login" not in page.url, page.inner_text("main")


@contextmanager
def running_site(tmp: Path, seed: str = SEED_SCRIPT):
    """Start gunicorn (2 workers) and `flask search worker` on a fresh database seeded by the
    Python script `seed` (its search index built in the same process); yield the URL."""
    port = free_port()
    env = site_env(
        tmp,
        # Every actor of a journey signs in from 127.0.0.1, more than the 10 logins a minute
        # one address may make; the limits themselves are tested in test_rate_limits.py.
        BOARD_RATELIMIT_ENABLED="false",
        PORT=str(port),
    )
    flask = str(VENV_BIN / "flask")
    if os.environ.get("BOARD_E2E_CREATE_ALL"):  # models ahead of the migrations (local work)
        script = "from board import create_app\nfrom board.extensions import db\n"
        script += "app = create_app()\nwith app.app_context(): db.create_all()\n"
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    else:
        migrated_database(tmp / "site.sqlite", env)
    subprocess.run([sys.executable, "-c", seed + BUILD_INDEX], cwd=ROOT, env=env, check=True)
    log = open(tmp / "server.log", "w")  # noqa: SIM115 (closed below)
    worker = subprocess.Popen(
        [flask, "search", "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    web = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", web)
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc in (web, worker):
            proc.terminate()
        for proc in (web, worker):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
