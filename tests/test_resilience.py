"""The production path under faults, one fault at a time: forks, dropped connections, retried
submissions, a lost index, and the shared rate-limit counters (DESIGN §9; the whole thing under
load is tests/test_faults.py)."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import timedelta

import psycopg
import pytest
from conftest import T0, board, login, make_test_app
from flask import g
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DBAPIError

from board.auth.services import issue_token
from board.extensions import db
from board.messages import services as msg
from board.models import Message, Region, SearchOutbox
from board.ratelimit import SQLiteStorage
from board.search import index, indexer

SUBMISSION = {
    "board": "330100-secretary",
    "region": "330106",
    "track": "board",
    "kind": "complaint",
    "domain": "urban",
    "title": "小区路灯坏了三个月",
    "body": "小区门口的三盏路灯坏了三个月，晚上很黑，老人出行不便，希望尽快修复。",
    "private_note": "",
    "wants_public": True,
}


def _postgres(database: str) -> bool:
    return database.startswith("postgresql")


def _admin_url(database: str) -> str:
    """A plain psycopg URL of the test database, for a connection outside the app."""
    return database.replace("postgresql+psycopg://", "postgresql://", 1)


def _terminate_others(database: str) -> int:
    """Terminate every other connection to the test database, as an operator or a failover
    would; how many."""
    name = database.rsplit("/", 1)[1]
    with psycopg.connect(_admin_url(database), autocommit=True) as conn:
        return len(
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchall()
        )


def _backend_id(database: str) -> str:
    """Which server connection the session uses (PostgreSQL's backend pid; SQLite's handle)."""
    if _postgres(database):
        return str(db.session.scalar(text("SELECT pg_backend_pid()")))
    return str(id(db.session.connection().connection.dbapi_connection))


# ---------------------------------------------------------------------------------------------
# Forks and stale connections


def test_a_forked_child_never_uses_its_parents_connections(app, database):
    """After a fork (a gunicorn worker, a respawned one) the child's pool is empty: its first
    query opens its own connection, and the parent's connection still works afterwards."""
    parent = _backend_id(database)
    db.session.commit()  # back to the pool, where a fork would find it
    assert db.engine.pool.checkedin() >= 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running any cleanup of the parent's
        try:
            pooled = db.engine.pool.checkedin()
            child = _backend_id(database)
            db.session.rollback()
            os.write(write, json.dumps({"pooled": pooled, "backend": child}).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        report = json.loads(pipe.read() or "{}")
    os.waitpid(pid, 0)
    assert report["pooled"] == 0
    assert report["backend"] != parent or not _postgres(database)
    assert _backend_id(database) == parent  # the parent's own connection, unharmed
    assert db.session.scalar(text("SELECT 1")) == 1


@pytest.mark.postgres
def test_pages_answer_after_the_database_dropped_every_connection(app, database, client):
    """Pre-ping: after the server terminated every pooled connection, the next requests
    reconnect instead of failing with 500."""
    if not _postgres(database):
        pytest.skip("terminating connections is a PostgreSQL fault")
    for _ in range(3):
        assert client.get("/").status_code == 200
    db.session.remove()
    assert _terminate_others(database) >= 1
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/regions").status_code == 200


def _dying_route(app, database, *, commit_first: bool):
    """A route whose connection is terminated under it the first time it runs."""
    runs = []

    @app.get("/_test/dies-once")
    def dies_once():
        runs.append(1)
        if commit_first:
            db.session.execute(text("SELECT 1"))
            db.session.commit()
        if len(runs) == 1:
            db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return {"runs": len(runs), "regions": db.session.scalar(select(func.count(Region.code)))}

    return runs


@pytest.mark.postgres
def test_a_request_whose_connection_dies_midway_runs_again(app, database, client, directory):
    """A connection lost in the middle of a request that committed nothing: the request runs
    again on a fresh connection and answers 200."""
    if not _postgres(database):
        pytest.skip("terminating a connection is a PostgreSQL fault")
    runs = _dying_route(app, database, commit_first=False)
    db.session.remove()
    response = client.get("/_test/dies-once")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json() == {"runs": 2, "regions": 9}
    assert len(runs) == 2


@pytest.mark.postgres
def test_a_request_that_had_committed_is_not_run_again(app, database, client, directory):
    """Running a request again after one of its commits could do a thing twice: it answers 500
    and runs once (unless it deduplicates by key, as submissions do)."""
    if not _postgres(database):
        pytest.skip("terminating a connection is a PostgreSQL fault")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    runs = _dying_route(app, database, commit_first=True)
    db.session.remove()
    assert client.get("/_test/dies-once").status_code == 500
    assert len(runs) == 1


# ---------------------------------------------------------------------------------------------
# Idempotent submissions


def _messages() -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message).order_by(Message.id)))


def test_a_resent_submission_with_its_idempotency_key_files_one_message(app, client, citizen):
    """The same POST with the same Idempotency-Key (a retry after a lost answer) answers 201
    with the first message, marked as replayed; one message is stored."""
    token = issue_token(citizen, now=T0)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "retry-me-42"}
    first = client.post("/api/v1/messages", json=SUBMISSION, headers=headers)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = client.post("/api/v1/messages", json=SUBMISSION, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["code"] == first.get_json()["code"]
    assert len(_messages()) == 1
    # Without a key, or with another one, a second message is filed.
    other = {**headers, "Idempotency-Key": "another"}
    assert client.post("/api/v1/messages", json=SUBMISSION, headers=other).status_code == 201
    assert len(_messages()) == 2


def test_an_idempotency_key_is_bound_to_its_author_and_its_text(app, client, citizen, troll):
    """Another citizen's identical key files their own message; the same key with other text
    is refused with 422 (it would otherwise silently drop the second message); a malformed key
    is refused."""
    mine = {"Authorization": f"Bearer {issue_token(citizen, now=T0)}", "Idempotency-Key": "k1"}
    theirs = {"Authorization": f"Bearer {issue_token(troll, now=T0)}", "Idempotency-Key": "k1"}
    a = client.post("/api/v1/messages", json=SUBMISSION, headers=mine)
    b = client.post("/api/v1/messages", json=SUBMISSION, headers=theirs)
    assert a.status_code == b.status_code == 201
    assert a.get_json()["code"] != b.get_json()["code"]
    changed = {**SUBMISSION, "body": SUBMISSION["body"] + "补充：东门也坏了。"}
    reused = client.post("/api/v1/messages", json=changed, headers=mine)
    assert reused.status_code == 422
    assert reused.get_json()["error"]["code"] == "idempotency_key_reused"
    bad = client.post(
        "/api/v1/messages", json=SUBMISSION, headers={**mine, "Idempotency-Key": "含中文"}
    )
    assert bad.status_code == 422 and "Idempotency-Key" in bad.get_json()["error"]["fields"]
    assert len(_messages()) == 2


def test_two_tries_with_one_key_at_once_file_one_message(app, citizen, directory, monkeypatch):
    """Two tries racing with one key both miss the lookup; the unique key stops the second
    insert, which then answers with the first one's message."""
    args = dict(
        board=board("330100-secretary"),
        region=db.session.get(Region, "330106"),
        track="board",
        kind="complaint",
        domain="urban",
        title=SUBMISSION["title"],
        body=SUBMISSION["body"],
        idempotency_key="client:race",
    )
    first = msg.submit_message(citizen, now=T0, **args)
    original = msg.find_submission
    calls = []

    def late_lookup(*a, **kw):
        calls.append(1)
        return None if len(calls) == 1 else original(*a, **kw)  # the race: the first misses

    monkeypatch.setattr(msg, "find_submission", late_lookup)
    second = msg.submit_message(citizen, now=T0 + timedelta(seconds=1), **args)
    assert second.code == first.code
    assert len(_messages()) == 1


def test_a_double_clicked_compose_form_files_one_message(app, client, citizen):
    """The compose form carries a key of its own: posting it twice files one message, and the
    second post lands on the first message's page."""
    login(client, citizen)
    page = client.get("/write?board=330100-secretary").get_data(as_text=True)
    key = page.split('name="submission_key"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert len(key) == 32
    form = {
        "track": "board",
        "kind": "help",
        "domain": "urban",
        "region": "330106",
        "title": SUBMISSION["title"],
        "body": SUBMISSION["body"],
        "wants_public": "y",
        "submission_key": key,
        "submit": "提交",
    }
    first = client.post("/write?board=330100-secretary", data=form)
    second = client.post("/write?board=330100-secretary", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_messages()) == 1
    assert "已经提交过" in client.get(second.headers["Location"]).get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# The index heals itself


def _publish(make_message, n: int) -> list[Message]:
    return [
        make_message("approved", title=f"路灯坏了第{k}盏", now=T0 + timedelta(minutes=k))
        for k in range(n)
    ]


def _prune_everything() -> None:
    """The normal state a week on: the applied outbox rows are gone (but the newest)."""
    newest = db.session.scalar(select(func.max(SearchOutbox.id)))
    db.session.execute(delete(SearchOutbox).where(SearchOutbox.id < newest))
    db.session.commit()


@pytest.mark.inline_index
def test_healthz_is_503_while_the_index_is_lost_and_200_once_healed(app, client, make_message):
    """The index directory lost after the outbox was pruned: /healthz answers 503 and says
    why; `heal` rebuilds it from the database and /healthz answers 200 again."""
    app.config["HEALTH_INDEX_CHECK_SECONDS"] = 0
    _publish(make_message, 4)
    assert client.get("/healthz").status_code == 200
    _prune_everything()
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    sick = client.get("/healthz")
    assert sick.status_code == 503
    assert sick.get_json()["index"]["reason"] == "no index"
    # A search meanwhile does not create a partial index in the web process.
    assert client.get("/search?q=路灯").status_code == 200
    assert index.live_dir(create=False) is None
    found = indexer.heal()
    assert not found.ok
    healthy = client.get("/healthz").get_json()
    assert healthy["ok"] and healthy["index"]["doc_count"] == 4 and healthy["index"]["complete"]


@pytest.mark.inline_index
def test_an_index_recreated_empty_by_replaying_a_pruned_outbox_is_found_incomplete(
    app, client, make_message
):
    """What happened in production: the index lost, an applier recreated it and replayed the
    little the pruned outbox still held (1 of 4 documents). The counts give it away; `heal`
    rebuilds it."""
    app.config["HEALTH_INDEX_CHECK_SECONDS"] = 0
    _publish(make_message, 4)
    _prune_everything()
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    indexer.sync()  # creates an empty index and applies the one row left
    found = indexer.completeness()
    assert not found.ok and found.documents == 1 and found.public == 4
    assert "1 documents" in found.reason
    body = client.get("/healthz")
    assert body.status_code == 503 and "4 public messages" in body.get_json()["index"]["reason"]
    indexer.heal()
    assert indexer.completeness().ok
    assert client.get("/healthz").status_code == 200


def test_an_index_built_under_older_document_rules_is_rebuilt_while_it_serves(
    app, client, make_message
):
    """After an upgrade that changes what documents hold (the masking), an index built before
    it is whole but out of date: /healthz stays 200 (no node leaves the load balancer), and
    `heal` builds a new generation under the current rules and swaps it in."""
    app.config["HEALTH_INDEX_CHECK_SECONDS"] = 0
    _publish(make_message, 3)
    old = index.live_dir()
    state = index.read_state(old)
    index.write_state(old, index.ApplyState(seq=state.seq, gaps=state.gaps, version=1))
    # A state file written before versions existed reads as version 1 too.
    (old / index.STATE_FILE).write_text(json.dumps({"seq": state.seq, "gaps": {}}))
    assert index.read_state(old).version == 1
    found = indexer.completeness()
    assert found.ok and found.outdated
    assert client.get("/healthz").status_code == 200
    indexer.heal()
    new = index.live_dir()
    assert new != old and index.read_state(new).version == index.DOCUMENTS_VERSION
    found = indexer.completeness()
    assert found.ok and not found.outdated and found.documents == 3
    # Applying the outbox keeps the version of the generation it writes into.
    _publish(make_message, 1)
    indexer.sync()
    assert index.read_state(index.live_dir()).version == index.DOCUMENTS_VERSION


def test_an_index_that_follows_the_outbox_is_complete_with_rows_pending(
    app, make_message, moderator
):
    """Rows not applied yet explain a difference of that many documents: not a reason to
    rebuild (a busy site is not a broken one)."""
    index.live_dir()  # an index built when there was nothing to index
    app.config["SEARCH_APPLY_INLINE"] = False
    _publish(make_message, 3)
    found = indexer.completeness()
    assert found.ok and found.documents == 0 and found.public == 3 and found.pending >= 3
    indexer.sync()
    assert indexer.completeness().ok
    assert indexer.completeness().documents == 3


def test_an_index_ahead_of_the_outbox_means_a_replaced_database(app, make_message):
    """An index that applied more outbox rows than the database ever had belongs to another
    database (restored, replaced): incomplete, rebuilt."""
    _publish(make_message, 2)
    path = index.live_dir()
    index.write_state(path, index.ApplyState(seq=10_000))
    found = indexer.completeness()
    assert not found.ok and "replaced" in found.reason
    indexer.heal()
    assert indexer.completeness().ok


# ---------------------------------------------------------------------------------------------
# Rate-limit counters shared by the workers


def test_sqlite_counters_are_shared_by_every_process_and_thread(tmp_path):
    """Two storages on one file (two workers) count into the same window; a cleared key starts
    again; the window's end is reported."""
    uri = f"sqlite:///{tmp_path / 'limits' / 'ratelimit.sqlite'}"
    a, b = SQLiteStorage(uri), SQLiteStorage(uri)
    assert a.check() and b.check()
    assert [a.incr("k", 60), b.incr("k", 60), a.incr("k", 60, amount=2)] == [1, 2, 4]
    assert b.get("k") == 4 and b.get("other") == 0
    assert time.time() < a.get_expiry("k") <= time.time() + 60
    b.clear("k")
    assert a.get("k") == 0 and a.incr("k", 60) == 1
    assert a.reset() == 1


def test_sqlite_counters_start_a_new_window_when_the_old_one_ended(tmp_path, monkeypatch):
    """A fixed window: the count starts again once its expiry has passed."""
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'ratelimit.sqlite'}")
    clock = [1_000_000.0]
    monkeypatch.setattr("board.ratelimit.time.time", lambda: clock[0])
    assert storage.incr("k", 60) == 1 and storage.incr("k", 60) == 2
    clock[0] += 61
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == clock[0] + 60


def test_sqlite_counters_reconnect_in_a_forked_child(tmp_path):
    """A child process opens its own connection to the counters' file and counts with the
    parent."""
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'ratelimit.sqlite'}")
    assert storage.incr("k", 60) == 1
    pid = os.fork()
    if pid == 0:
        try:
            storage.incr("k", 60)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert storage.incr("k", 60) == 3


def test_the_embedded_default_keeps_counters_in_the_instance_folder(tmp_path):
    """Without RATELIMIT_STORAGE_URI the counters go to instance/ratelimit.sqlite."""
    from board import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst"), "TESTING": True})
    assert app.config["RATELIMIT_STORAGE_URI"] == f"sqlite:///{tmp_path / 'inst'}/ratelimit.sqlite"


def test_request_state_is_forgotten_between_runs(app):
    """The retry forgets what a run learnt through the dead connection (the signed-in user,
    the commit marker) but keeps the request's own key."""
    from board.retry import _may_run_again

    with app.test_request_context("/"):
        g.board_commit_started = True
        error = DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
        assert not _may_run_again(error)
        g.board_idempotent = True
        assert _may_run_again(error)
        other = DBAPIError("SELECT 1", {}, Exception("syntax"), connection_invalidated=False)
        assert not _may_run_again(other)


def test_a_token_is_marked_used_once_a_minute_not_on_every_request(app, client, citizen):
    """Bearer requests record the token's last use to the minute: one write a minute, and
    that write does not make the request unsafe to run again."""
    from board.models import ApiToken

    token = issue_token(citizen, now=T0)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/regions", headers=headers).status_code == 200
    row = db.session.scalar(select(ApiToken))
    first = row.last_used_at
    assert first is not None
    assert client.get("/api/v1/regions", headers=headers).status_code == 200
    db.session.refresh(row)
    assert row.last_used_at == first
    row.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    with app.test_request_context("/api/v1/regions", headers=headers):
        from board.api.auth import authenticate_request

        g.pop("board_commit_started", None)
        authenticate_request()
        assert not g.get("board_commit_started")
    db.session.refresh(row)
    assert row.last_used_at > first - timedelta(minutes=2)  # it did write


@pytest.mark.postgres
def test_a_connection_lost_after_the_answer_was_made_does_not_turn_it_into_a_500(
    database, tmp_path
):
    """The server ends the connection after the view answered but before the session was
    closed (its rollback fails): the answer stands."""
    if not _postgres(database):
        pytest.skip("terminating a connection is a PostgreSQL fault")
    # Its own app: each request then pushes and tears down its own context, as in production.
    app = make_test_app(database, tmp_path, PROPAGATE_EXCEPTIONS=False)

    @app.get("/_test/dies-after")
    def dies_after():
        db.session.execute(select(func.count(Region.code)))  # a transaction is open
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        with psycopg.connect(_admin_url(database), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return {"ok": True}

    client = app.test_client()
    response = client.get("/_test/dies-after")
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    assert client.get("/api/v1/regions").status_code == 200
