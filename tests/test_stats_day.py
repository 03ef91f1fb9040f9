"""The home counters come from the counts per Beijing day (`stats_day`), kept exact in the
transaction of every change: a new message or a published reply moves them at once, on SQLite
and PostgreSQL, and the page reads neither the message nor the reply table for them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from conftest import T0
from flask_migrate import downgrade, stamp, upgrade
from opendata_world import build
from sqlalchemy import delete, event, func, select

from board.clock import local_date, utcnow
from board.extensions import db
from board.messages import services as msg
from board.models import Message, Reply, ReplyState
from board.stats import daily, tally
from board.stats import services as stats
from board.stats.figures import day_start
from board.stats.models import StatsDay, StatsTally

LABELS = ("今日留言", "今年留言", "累计留言", "今日回复", "今年回复", "累计回复")


def _direct(now: datetime) -> tuple[int, ...]:
    """The six counters counted from the message and reply tables (what the page used to do)."""
    today = day_start(_beijing_day(now))
    year = day_start(_beijing_day(now).replace(month=1, day=1))

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    published = Reply.state == ReplyState.PUBLISHED
    return (
        count(Message, Message.created_at >= today),
        count(Message, Message.created_at >= year),
        count(Message),
        count(Reply, published, Reply.published_at >= today),
        count(Reply, published, Reply.published_at >= year),
        count(Reply, published),
    )


def _beijing_day(now: datetime):
    return local_date(now)


def _counters(now: datetime) -> tuple[int, ...]:
    c = stats.counters(now=now)
    return (
        c.messages_today,
        c.messages_year,
        c.messages_total,
        c.replies_today,
        c.replies_year,
        c.replies_total,
    )


def assert_exact(*nows: datetime) -> None:
    connection = db.session.connection()
    assert daily.stored_rows(connection) == daily.computed_rows(connection)
    for now in nows:
        assert _counters(now) == _direct(now), now


def _page_counters(client) -> tuple[int, ...]:
    """The six numbers of the home page's counters, as a visitor sees them (page cache on)."""
    page = client.get("/").get_data(as_text=True)
    found = []
    for label in LABELS:
        match = re.search(rf"<dt>{label}</dt><dd>(\d+)</dd>", page)
        assert match, label
        found.append(int(match.group(1)))
    return tuple(found)


def test_counters_equal_direct_counts_through_the_workflow(
    app, directory, make_message, handler, coordinator
):
    """Submissions, withdrawals, rejections, replies, sign-offs, ratings, closes, reopenings,
    a hidden case and a petition closed by lapse: the counts per day equal a recount, and the
    counters equal direct counts at several dates (today, another day, another year)."""
    for state in ("submitted", "withdrawn", "rejected", "in_progress", "replied"):
        make_message(state, now=T0)
    make_message("closed", now=T0 + timedelta(days=1))
    make_message("reopened", now=T0 + timedelta(days=2))
    make_message("closed", track="petition", kind="claim", address="杭州市西湖区文三路 1 号")
    late = make_message("in_progress", now=T0 + timedelta(hours=15, minutes=30))  # 00:30 next
    msg.reply_message(late, handler, body="已处理完毕，请查收。", now=T0 + timedelta(days=9))
    assert_exact(T0, T0 + timedelta(days=3), T0 + timedelta(days=9), T0 + timedelta(days=400))
    before = _counters(T0 + timedelta(days=9))
    msg.sign_off_reply(late, coordinator, now=T0 + timedelta(days=9, hours=1))
    after = _counters(T0 + timedelta(days=9))
    assert after[3:] == (before[3] + 1, before[4] + 1, before[5] + 1)  # the reply, at once
    assert after[:3] == before[:3]
    assert_exact(T0, T0 + timedelta(days=9), datetime(2027, 1, 5))


def test_a_new_message_and_a_reply_move_the_home_counters_at_once(
    app, client, directory, make_message, handler, coordinator
):
    """With the page cache on, the home page shows a message submitted and a reply published a
    moment ago (today, this year, in all)."""
    now = utcnow()
    # The steps happen "a moment ago" but always inside today's Beijing day (the page reads the
    # real clock): shortly after Beijing midnight, 30 minutes ago would be yesterday.
    step = min(timedelta(minutes=10), (now - day_start(local_date(now))) / 4)
    make_message("received", now=now - timedelta(days=40))
    before = _page_counters(client)
    waiting = make_message("in_progress", now=now - 3 * step)
    submitted = _page_counters(client)
    assert submitted[:3] == (before[0] + 1, before[1] + 1, before[2] + 1)
    msg.reply_message(waiting, handler, body="已处理完毕，请查收。", now=now - 2 * step)
    assert _page_counters(client)[3:] == before[3:]  # awaiting sign-off: not published yet
    msg.sign_off_reply(waiting, coordinator, now=now - step)
    replied = _page_counters(client)
    assert replied[3:] == (before[3] + 1, before[4] + 1, before[5] + 1)
    msg.rate_message(
        waiting, waiting.author, resolution=5, attitude=5, speed=5, comment="满意", now=now
    )  # closes the case: no new message or reply
    assert _page_counters(client) == replied
    assert_exact(now)


def test_moving_a_publication_time_recounts_both_days(app, directory, make_message):
    """A reply's publication time changed on an object whose attributes were expired (after a
    commit): the day it leaves and the day it joins are both counted again."""
    make_message("replied", now=T0)
    reply = db.session.scalar(select(Reply).where(Reply.state == ReplyState.PUBLISHED))
    old_day = _beijing_day(reply.published_at)
    db.session.commit()  # expires every attribute
    reply.published_at = T0 + timedelta(days=30)
    db.session.commit()
    stored = daily.stored_rows(db.session.connection())
    assert old_day not in stored or stored[old_day][1] == 0
    assert_exact(T0 + timedelta(days=30))


def test_a_rolled_back_change_leaves_the_counts(app, directory, make_message):
    """A flushed change that is rolled back changes no count (its noted days are forgotten)."""
    make_message("submitted", now=T0)
    before = daily.stored_rows(db.session.connection())
    moved = db.session.scalar(select(Message))
    moved.created_at = T0 + timedelta(days=90)
    db.session.flush()
    db.session.rollback()
    assert daily.stored_rows(db.session.connection()) == before
    assert_exact(T0)


def test_rebuild_restores_counts_written_around_the_application(
    app, directory, make_message, runner
):
    """Counts lost in plain SQL are put right by `flask stats rebuild`."""
    make_message("replied", now=T0)
    make_message("submitted", now=T0 + timedelta(days=2))
    db.session.execute(delete(StatsDay.__table__))
    db.session.commit()
    assert daily.stored_rows(db.session.connection()) != daily.computed_rows(
        db.session.connection()
    )
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert_exact(T0, T0 + timedelta(days=2))


def test_bulk_seed_writes_its_counts(app, directory, runner):
    """The bulk generator inserts with Core statements; each chunk adds its counts per day."""
    app.config["SEED_BULK_THRESHOLD"] = 50
    app.config["SEARCH_APPLY_INLINE"] = False
    result = runner.invoke(args=["seed", "demo", "--messages", "300", "--now", "2026-11-01T09:00"])
    assert result.exit_code == 0, result.output
    assert _counters(datetime(2026, 11, 1, 1))[2] == 300
    assert_exact(datetime(2026, 11, 1, 1), datetime(2026, 6, 1))


def test_the_home_page_counts_no_message_or_reply_rows(app, client, directory, make_message):
    """The counters are one read of the day rows: no count over the message or reply table."""
    make_message("replied", now=utcnow() - timedelta(days=3))
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.lower().split()))

    app.extensions["page_cache"] = None
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    counting = [s for s in seen if "count(" in s and re.search(r"from (message|reply)\b", s)]
    assert not counting, counting
    assert any("from stats_day" in s for s in seen)


def test_migrations_fill_the_day_counts_and_turn_day_buckets_into_hours(app, directory):
    """Upgrading a database with messages fills stats_day exactly and recomputes the sums per
    scope with hour buckets; downgrading adds each scope's hours up per whole day."""
    build()
    db.session.commit()
    hours = {
        (row.scope, row.key, int(row.value)): row.n
        for row in db.session.scalars(select(StatsTally).where(StatsTally.dim == "x"))
    }
    assert any(h % 24 for _s, _k, h in hours), "no bucket inside a day: the test shows nothing"
    wanted: dict = {}
    for (scope, key, hour), n in hours.items():
        wanted[(scope, key, hour // 24)] = wanted.get((scope, key, hour // 24), 0) + n
    db.session.remove()
    stamp(revision="head")  # the schema came from the models, so it is at the newest revision
    downgrade(revision="e4c7a2f9b051")
    days = {
        (row.scope, row.key, int(row.value)): row.n
        for row in db.session.scalars(select(StatsTally).where(StatsTally.dim == "x"))
    }
    assert days == {k: n for k, n in wanted.items() if n}
    downgrade(revision="d7a3e5f1c902")
    db.session.remove()
    assert "stats_day" not in db.inspect(db.engine).get_table_names()
    upgrade()
    connection = db.session.connection()
    assert tally.stored_rows(connection) == tally.computed_rows(connection)
    assert daily.stored_rows(connection) == daily.computed_rows(connection)
    assert sum(m for m, _r in daily.stored_rows(connection).values()) == db.session.scalar(
        select(func.count()).select_from(Message)
    )


def test_concurrent_submissions_on_one_day_are_all_counted(app, database, directory, citizen):
    """PostgreSQL: several transactions that each flushed a new message of the same day before
    any of them commits (the day rows are counted again at commit, after the writers' turn)
    leave the exact count, not the last writer's."""
    if not database.startswith("postgresql"):
        pytest.skip("SQLite serializes writers: no two transactions overlap")
    import threading

    from sqlalchemy.orm import Session

    from board.models import Board, Region, User

    writers = 4
    barrier = threading.Barrier(writers, timeout=30)
    author_id = citizen.id
    db.session.commit()
    errors: list[BaseException] = []

    def wait_for_the_others(session, _context):
        if session.info.pop("wait_once", False):
            barrier.wait()

    def submit(n: int) -> None:
        try:
            with app.app_context():
                db.session.info["wait_once"] = True
                msg.submit_message(
                    db.session.get(User, author_id),
                    board=db.session.scalar(select(Board).where(Board.code == "330100-secretary")),
                    region=db.session.get(Region, "330106"),
                    track="board",
                    kind="complaint",
                    domain="urban",
                    title=f"第{n}个路口的路灯坏了",
                    body="路口的路灯坏了半个月，夜里行人和车辆都看不清，请尽快修理。",
                    private_note="",
                    wants_public=True,
                    now=T0 + timedelta(minutes=n),
                )
                db.session.remove()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    event.listen(Session, "after_flush", wait_for_the_others)
    try:
        threads = [threading.Thread(target=submit, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(Session, "after_flush", wait_for_the_others)
    assert not errors, errors
    db.session.remove()
    assert daily.stored_rows(db.session.connection())[local_date(T0)] == (writers, 0)
    assert_exact(T0)
