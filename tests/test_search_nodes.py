"""Several nodes and several writing processes on one database (DESIGN §9, docs/search.md).

Each node keeps its own index directory and applies the shared outbox up to its own sequence;
web workers of one node write messages at once, each applying the outbox inline under the
index lock, and nothing is lost.
"""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest
from conftest import T0, make_test_app
from sqlalchemy import func, select

from board.extensions import db
from board.messages import services as msg
from board.models import SearchOutbox
from board.search import index, indexer
from board.search.query import search_messages


def _codes(q: str) -> set[str]:
    return {h.message.code for h in search_messages(q, per_page=100).hits}


def _publish_reply(message, handler, coordinator, body: str, now):
    """The unit's reply, published (signed off first where the workflow asks for it)."""
    msg.reply_message(message, handler, body=body, now=now)
    if not message.published_replies and hasattr(msg, "sign_off_reply"):
        msg.sign_off_reply(message, coordinator, now=now + timedelta(minutes=5))
    assert message.published_replies
    return message


@pytest.mark.inline_index
def test_a_reply_published_on_node_a_is_searchable_on_node_b(
    app, database, tmp_path, make_message, handler, coordinator
):
    """Node A indexes inline; node B's sync applies the same outbox rows to B's own index."""
    node_b = make_test_app(database, tmp_path / "node-b", SEARCH_APPLY_ON_READ=False)
    with node_b.app_context():
        assert indexer.sync() == 0  # B starts with an empty index of its own
        b_dir = index.live_dir()
    a_dir = index.live_dir()
    assert a_dir != b_dir

    m = make_message("in_progress", title="小区电梯经常困人")
    _publish_reply(
        m,
        handler,
        coordinator,
        "经检测电梯曳引机老化，维保单位已更换部件并复检合格。",
        T0 + timedelta(days=3),
    )
    newest = db.session.scalar(select(func.max(SearchOutbox.id)))
    assert _codes("曳引机") == {m.code}  # node A applied the rows after each commit
    assert index.read_state(a_dir).seq == newest

    with node_b.app_context():
        assert _codes("曳引机") == set()  # not yet: B has not applied the rows
        assert indexer.index_status()["pending"] > 0
        applied = indexer.sync()
        assert applied >= 1
        assert _codes("曳引机") == {m.code}
        assert _codes("电梯 困人") == {m.code}
        assert index.read_state(index.live_dir()).seq == newest
        assert indexer.check().ok
        assert indexer.index_status()["pending"] == 0

    # A's pruning keeps rows newer than the retention, so a node that lags a little catches up;
    # the rows themselves are shared: B applying them changed nothing on A.
    assert indexer.index_status()["pending"] == 0
    assert indexer.check().ok


def _write_messages(database: str, tmp_path: str, worker: int, ids: dict, queue) -> None:
    """A web worker: submit and approve messages, applying the outbox inline after each commit."""
    from pathlib import Path

    from board.models import Board, Region, User

    app = make_test_app(database, Path(tmp_path))
    codes = []
    with app.app_context():
        author = db.session.get(User, ids["citizen"])
        moderator = db.session.get(User, ids["moderator"])
        board = db.session.scalar(select(Board).where(Board.code == "330100-secretary"))
        region = db.session.get(Region, "330106")
        for n in range(6):
            m = msg.submit_message(
                author,
                board=board,
                region=region,
                track="board",
                kind="complaint",
                domain="urban",
                title=f"并发写入测试{worker}号{n}",
                body=f"第{worker}个进程写入的第{n}条留言，检查并发写入时索引不丢失。",
                now=T0 + timedelta(minutes=n),
            )
            msg.approve_message(m, moderator, now=T0 + timedelta(minutes=n, seconds=30))
            codes.append(m.code)
    queue.put(codes)


def test_concurrent_writers_in_several_processes_lose_nothing(
    app, database, tmp_path, citizen, moderator
):
    """Four processes write and apply inline at once; then the index holds every message."""
    index.live_dir()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    ids = {"citizen": citizen.id, "moderator": moderator.id}
    db.session.commit()
    workers = [
        context.Process(target=_write_messages, args=(database, str(tmp_path), n, ids, queue))
        for n in range(4)
    ]
    for worker in workers:
        worker.start()
    written = set()
    for _ in workers:
        written |= set(queue.get(timeout=240))
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(written) == 24
    indexer.sync()  # whatever a worker left when the lock was busy
    assert _codes("并发写入测试") == written
    drift = indexer.check()
    assert drift.ok and drift.documents == 24
