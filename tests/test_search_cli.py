"""`flask search`: sync, the outbox's sequence and gaps, rebuild, check, several processes, worker."""

from __future__ import annotations

import multiprocessing
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import T0, make_test_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError
from test_search import found, indexed_codes

from board.extensions import db
from board.models import SearchOutbox
from board.search import index, indexer


def outbox_rows() -> int:
    """How many outbox rows the database holds."""
    return db.session.scalar(select(func.count(SearchOutbox.id)))


def test_advance_tracks_skipped_ids_as_gaps_until_they_expire():
    """Ids skipped by the sequence are remembered, dropped once seen or after GAP_SECONDS."""
    state = indexer._advance(index.ApplyState(seq=5), [6, 8, 9], now=1000.0)
    assert state.seq == 9 and set(state.gaps) == {7}
    assert indexer._advance(state, [7], now=1001.0) == index.ApplyState(seq=9, gaps={})
    expired = indexer._advance(state, [], now=1000.0 + indexer.GAP_SECONDS + 1)
    assert expired == index.ApplyState(seq=9, gaps={})


def test_a_row_committed_late_below_the_sequence_is_still_applied(app, make_message):
    """PostgreSQL may commit id 2 after id 3: the applier comes back for the gap."""
    app.config["SEARCH_APPLY_INLINE"] = False
    first = make_message("approved", title="物业问题一")
    late = make_message("approved", title="物业问题二")
    rows = db.session.scalars(select(SearchOutbox).order_by(SearchOutbox.id)).all()
    late_row = next(r for r in rows if r.message_id == late.id)
    late_id, created = late_row.id, late_row.created_at
    db.session.delete(late_row)  # as if its transaction had not committed yet
    db.session.add(SearchOutbox(id=late_id + 1, message_id=first.id, created_at=created))
    db.session.commit()
    assert indexer.sync() == 2
    assert late_id in index.read_state(index.live_dir()).gaps
    assert found("物业") == {first.code}
    db.session.add(SearchOutbox(id=late_id, message_id=late.id, created_at=created))
    db.session.commit()  # the slow transaction commits
    assert indexer.sync() == 1
    assert found("物业") == {first.code, late.code}
    assert index.read_state(index.live_dir()).gaps == {}


def test_outbox_recovers_what_was_not_applied(app, make_message, runner):
    """With inline indexing off, a commit is not searchable until `flask search sync`; twice is once."""
    app.config["SEARCH_APPLY_INLINE"] = False
    m = make_message("replied")
    assert found("物业") == set()
    rows = db.session.scalar(select(func.count(SearchOutbox.id)))
    out = runner.invoke(args=["search", "sync"])
    assert out.exit_code == 0, out.output
    assert f"applied {rows} outbox rows" in out.output
    assert found("物业") == {m.code}
    before = index.read_state(index.live_dir())
    again = runner.invoke(args=["search", "sync"])
    assert "applied 0 outbox rows" in again.output
    assert index.read_state(index.live_dir()) == before
    assert indexed_codes() == {m.code}


def test_rebuild_swaps_while_a_searcher_is_open(make_message, runner):
    """Searches keep answering during a rebuild; the new index has the same documents."""
    made = {make_message("approved", title=f"物业问题{i}").code for i in range(3)}
    old_dir = index.live_dir()
    held = index.searcher()
    out = runner.invoke(args=["search", "rebuild"])
    assert out.exit_code == 0, out.output
    assert "3 documents" in out.output
    assert index.live_dir() != old_dir
    from whoosh.query import Term

    assert len(held.search(Term("body", "物业"), limit=None)) == 3  # the old generation answers
    assert found("物业") == made
    assert index.open_index(index.live_dir()).doc_count() == 3


@pytest.mark.inline_index
def test_check_reports_drift_and_repairs_it(make_message, runner):
    """A document deleted behind the index's back is reported missing; --repair restores it."""
    m = make_message("approved")
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    ix = index.open_index(index.live_dir())
    writer = index.writer(ix)
    writer.delete_by_term("code", m.code)
    writer.commit()
    out = runner.invoke(args=["search", "check"])
    assert out.exit_code == 1
    assert f"missing: 1: {m.code}" in out.output
    assert runner.invoke(args=["search", "check", "--repair"]).exit_code == 0
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    assert found("物业") == {m.code}


def _apply_until_done(database: str, tmp_path: str, done: str, queue) -> None:
    """Child process: apply the outbox in small batches until told to stop and nothing is left."""
    app = make_test_app(database, Path(tmp_path), SEARCH_APPLY_INLINE=False)
    applied = 0
    with app.app_context():
        while True:
            finished = Path(done).exists()
            count = indexer.apply_pending(timeout=5.0, batch=3)
            applied += count
            if finished and count == 0 and indexer.index_status()["pending"] == 0:
                break
        db.engine.dispose()
    queue.put(applied)


def test_two_processes_applying_at_once_lose_nothing(app, database, tmp_path, make_message):
    """Two indexer processes on one index and database, while messages arrive: all are indexed."""
    app.config["SEARCH_APPLY_INLINE"] = False
    index.live_dir()
    done = tmp_path / "done"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(target=_apply_until_done, args=(database, str(tmp_path), str(done), queue))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    made = {make_message("approved", title=f"物业问题{i}").code for i in range(10)}
    made |= {make_message("replied", title=f"停车问题{i}").code for i in range(2)}
    done.touch()
    applied = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    rows = db.session.scalar(select(func.count(SearchOutbox.id)))
    assert sum(applied) >= rows  # every outbox row applied at least once
    assert indexed_codes() == made
    assert index.open_index(index.live_dir()).doc_count() == len(made)
    assert indexer.check().ok


def test_prune_goes_in_short_batches_and_stops_where_asked(app, make_message):
    """A backlog is deleted a batch per transaction; the worker's bounded call leaves the rest
    for its next round; the newest row always stays."""
    app.config["SEARCH_APPLY_INLINE"] = False
    make_message("replied")
    make_message("replied", title="路灯不亮")
    indexer.sync()
    db.session.execute(update(SearchOutbox).values(created_at=T0))
    db.session.commit()
    rows = outbox_rows()
    assert rows >= 6
    assert indexer.prune_outbox(7, batch=2, max_batches=2) == 4
    assert outbox_rows() == rows - 4
    assert indexer.prune_outbox(7, batch=2) == rows - 5
    assert outbox_rows() == 1


def test_sync_prunes_old_applied_rows_but_keeps_the_newest(app, make_message, runner):
    """Rows older than --prune-days go once applied; the newest stays so ids never repeat."""
    app.config["SEARCH_APPLY_INLINE"] = False
    make_message("replied")
    db.session.execute(update(SearchOutbox).values(created_at=T0))  # rows from long ago
    db.session.commit()
    out = runner.invoke(args=["search", "sync", "--prune-days", "7"])
    assert out.exit_code == 0, out.output
    assert "pruned 3" in out.output  # approve, assign, accept and sign-off each enqueue
    assert outbox_rows() == 1
    newest = db.session.scalar(select(func.max(SearchOutbox.id)))
    later = make_message("approved", title="停车难")
    assert db.session.scalar(select(func.max(SearchOutbox.id))) > newest
    assert runner.invoke(args=["search", "worker", "--once"]).output == "applied 1 outbox rows\n"
    assert later.code in found("停车")


def test_rebuild_reports_progress_and_keeps_only_two_generations(make_message, runner):
    """Each rebuild swaps in a new generation; the one before it stays for open searchers."""
    make_message("approved")
    for _ in range(3):
        out = runner.invoke(args=["search", "rebuild"])
        assert out.exit_code == 0 and "1 documents" in out.output, out.output
    generations = list(index.index_root().glob(f"{index.GENERATION_PREFIX}*"))
    assert len(generations) == 2
    assert index.live_dir() in [g.resolve() for g in generations]


def _read_until(stream, needle: str, deadline: float) -> str:
    """Lines from a child's stream until one contains `needle` (or the deadline passes)."""
    seen = ""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while time.monotonic() < deadline and needle not in seen:
            if selector.select(timeout=deadline - time.monotonic()):
                line = stream.readline()
                if not line:
                    break
                seen += line
    return seen


def _start_worker(app, database: str, tmp_path, **env) -> subprocess.Popen:
    """`flask search worker` in its own process on the test's database and index (`env`: more
    variables, e.g. PGAPPNAME, libpq's name for the worker's sessions)."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "flask", "--app", "board", "search", "worker", "--interval", "0.1"],
        env={
            **os.environ,
            "BOARD_SQLALCHEMY_DATABASE_URI": database,
            "BOARD_SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
            "BOARD_INSTANCE_PATH": str(tmp_path / "instance"),
            "BOARD_SECRET_KEY": "test-secret",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_worker_builds_applies_and_stops_on_sigterm(app, database, tmp_path, make_message):
    """`flask search worker` is its own process: it builds a missing index, applies new outbox
    rows as they come, and exits 0 on SIGTERM."""
    app.config["SEARCH_APPLY_INLINE"] = False
    first = make_message("approved")
    worker = _start_worker(app, database, tmp_path)
    try:
        log = _read_until(worker.stderr, "index built", time.monotonic() + 60)
        assert "index built, 1 documents" in log, log
        assert found("物业") == {first.code}
        second = make_message("approved", title="停车难", body="小区门口停车难，物业不管。")
        log = _read_until(worker.stderr, "applied", time.monotonic() + 60)
        assert "applied 1 outbox rows" in log, log  # only the new approval: the build set the seq
        assert found("物业") == {first.code, second.code}
        worker.send_signal(signal.SIGTERM)
        stdout, _stderr = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0
    assert "search worker: stopped" in stdout


def test_worker_survives_the_database_dropping_its_connection(
    app, database, tmp_path, make_message
):
    """PostgreSQL terminates the worker's connection (a restart, an administrator): ending that
    round's session fails too, and the worker must not die of it — it reconnects and goes on
    applying the outbox."""
    if not database.startswith("postgresql"):
        return  # SQLite has no server to drop a connection
    app.config["SEARCH_APPLY_INLINE"] = False
    first = make_message("approved")
    worker = _start_worker(app, database, tmp_path, PGAPPNAME="minsheng-search-worker-test")
    try:
        log = _read_until(worker.stderr, "index built", time.monotonic() + 60)
        assert "index built, 1 documents" in log, log
        terminated = 0
        deadline = time.monotonic() + 30
        while not terminated and time.monotonic() < deadline:  # its pool holds one by now
            terminated = db.session.scalar(
                select(func.count()).select_from(
                    select(func.pg_terminate_backend(text("pid")))
                    .select_from(text("pg_stat_activity"))
                    .where(text("application_name = 'minsheng-search-worker-test'"))
                    .subquery()
                )
            )
            db.session.commit()
        assert terminated, "the worker never held a connection"
        second = make_message("approved", title="停车难", body="小区门口停车难，物业不管。")
        log = _read_until(worker.stderr, "applied 1 outbox rows", time.monotonic() + 90)
        assert "applied 1 outbox rows" in log, log
        assert worker.poll() is None, "the worker died"
        assert found("物业") == {first.code, second.code}
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0


def test_worker_round_survives_a_failing_session_end(app, monkeypatch):
    """Ending a round's session can fail when the database has just dropped the connection
    (rolling back on a dead connection raises): the worker logs it and carries on."""
    stop = threading.Event()
    rounds = []

    def apply_pending(timeout: float) -> int:
        rounds.append(timeout)
        if len(rounds) >= 3:
            stop.set()
        return 0

    monkeypatch.setattr(indexer, "ensure_dictionary", lambda force=False: None)
    monkeypatch.setattr(indexer, "heal", lambda: None)
    monkeypatch.setattr(indexer, "apply_pending", apply_pending)
    monkeypatch.setattr(indexer, "prune_outbox", lambda *args, **kwargs: 0)
    real_remove, failed = db.session.remove, []

    def remove() -> None:
        if not failed:
            failed.append(True)
            raise OperationalError(
                "ROLLBACK", {}, Exception("terminating connection due to administrator command")
            )
        real_remove()

    monkeypatch.setattr(db.session, "remove", remove)
    indexer.run_worker(stop, interval=0.01)
    assert failed and len(rounds) >= 3
