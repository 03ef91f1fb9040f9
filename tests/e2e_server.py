"""A real site for browser tests: migrated SQLite, a small directory, gunicorn and the indexer."""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

SEED_SCRIPT = """
from board import create_app
from board.auth.services import create_user
from board.clock import utcnow
from board.extensions import db
from board.models import Unit
from board.seed.directory import ensure_boards, load_regions
from board.seed.reference import seed_reason_codes
import conftest

app = create_app()
with app.app_context():
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


@contextmanager
def running_site(tmp: Path, seed: str = SEED_SCRIPT):
    """Start gunicorn (2 workers) and `flask search worker` on a fresh database seeded by the
    Python script `seed`; yield the URL."""
    port = free_port()
    env = dict(
        os.environ,
        FLASK_APP="wsgi",
        BOARD_INSTANCE_PATH=str(tmp / "instance"),
        BOARD_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'site.sqlite'}",
        BOARD_SEARCH_INDEX_DIR=str(tmp / "index"),
        BOARD_SECRET_KEY="e2e-secret",
        BOARD_SEARCH_APPLY_INLINE="false",
        # Every actor of a journey signs in from 127.0.0.1, more than the 10 logins a minute
        # one address may make; the limits themselves are tested in test_rate_limits.py.
        BOARD_RATELIMIT_ENABLED="false",
        PORT=str(port),
        PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
    )
    flask = str(VENV_BIN / "flask")
    if os.environ.get("BOARD_E2E_CREATE_ALL"):  # models ahead of the migrations (local work)
        script = "from board import create_app\nfrom board.extensions import db\n"
        script += "app = create_app()\nwith app.app_context(): db.create_all()\n"
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    else:
        migrated_database(tmp / "site.sqlite", env)
    subprocess.run([sys.executable, "-c", seed], cwd=ROOT, env=env, check=True)
    subprocess.run([flask, "search", "rebuild"], cwd=ROOT, env=env, check=True, capture_output=True)
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
