"""The production path as deployed: the load-and-fault harness (bench/faults.py) in its short
form, and the rate limits counted across several gunicorn workers.

The harness runs the shipped gunicorn config with 4 workers, the search worker and the tick on
a fresh database with a real SMTP server, while workers are killed, database connections are
terminated (a write lock held on SQLite), the SMTP server goes away and the index directory is
deleted; `bench/faults.py` runs the full form (300 submissions from 20 clients by default).

The short form files 40 messages from 10 clients: every fault of the plan still strikes while
requests are in flight (the plan is in shares of the submissions), in a third of the time of
120 from 20 (the SMTP outage, and with it the mail's retry backoff, is shorter too).
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import faults  # noqa: E402

from board.security import SEARCH_PER_IP  # noqa: E402

pytestmark = pytest.mark.slow

DATABASES = [
    d.strip() for d in os.environ.get("BOARD_TEST_DATABASES", "sqlite,postgres").split(",")
]
SUBMISSIONS = int(os.environ.get("BOARD_FAULTS_SUBMISSIONS", "40"))
CLIENTS = int(os.environ.get("BOARD_FAULTS_CLIENTS", "10"))


def _postgres_reachable() -> bool:
    import psycopg

    try:
        with psycopg.connect(faults.POSTGRES, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _need(database: str) -> None:
    if database not in DATABASES:
        pytest.skip(f"{database} is not among BOARD_TEST_DATABASES")
    if database == "postgres" and not _postgres_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 in CI")
        pytest.skip("no PostgreSQL server reachable")


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_nothing_acknowledged_is_lost_under_load_and_faults(database, tmp_path):
    """Every acknowledged submission stored exactly once, no token or owner refused, no 5xx
    outside a fault, every mail delivered once after an SMTP outage, the index whole again by
    itself after its directory was deleted."""
    _need(database)
    report = faults.run(database, submissions=SUBMISSIONS, clients=CLIENTS, directory=tmp_path)
    faults.print_report(report)
    assert report.ok, report.failures
    assert report.acknowledged == report.stored == report.sent == SUBMISSIONS
    assert report.mail_received == report.mail_queued >= SUBMISSIONS
    assert report.heal_saw_503 and report.index_documents == report.public_messages
    assert report.ticks_killed == 1 and len([f for f in report.faults if "kill" in f]) == 2


def _limits_hold(site, count: int) -> list[int]:
    """`count` searches from one client address; the statuses."""
    statuses = []
    for n in range(count):
        status, _body = faults.request(
            site,
            "GET",
            "/api/v1/search?q=" + quote(f"路灯{n}"),
            headers={"X-Forwarded-For": "10.9.9.9"},
        )
        statuses.append(status)
    return statuses


@pytest.mark.parametrize("storage", ["embedded", "redis"])
def test_rate_limits_hold_as_documented_with_four_workers(storage, tmp_path):
    """60 searches a minute per address means 60 with 4 workers too: the counters are shared
    (a SQLite file of their own by default, Redis in production), not kept per process (then
    each worker would allow 60, and none of the 10 past the limit would be refused). Gunicorn
    alone: the indexer and the tick take no part in a search's limit."""
    extra = {"BOARD_RATELIMIT_ENABLED": "true"}
    if storage == "redis":
        url = "redis://127.0.0.1:6379/0"
        try:
            redis.Redis.from_url(url).ping()
        except redis.RedisError:
            if os.environ.get("CI"):
                pytest.fail("Redis is not reachable at 127.0.0.1:6379 in CI")
            pytest.skip("no Redis server reachable")
        # A prefix of this run's own, so a second run in the same minute starts from zero.
        extra["BOARD_RATELIMIT_STORAGE_URI"] = url
        extra["BOARD_RATELIMIT_KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}"
    allowed = int(SEARCH_PER_IP.split()[0])
    with faults.running_site(tmp_path, "sqlite", clients=1, extra_env=extra, helpers=False) as site:
        assert len(site.worker_pids()) == 4
        statuses = _limits_hold(site, allowed + 10)
    assert statuses.count(200) == allowed, statuses
    assert statuses.count(429) == 10
