"""The maintained fact table (stats_case) equals a full recomputation after any kind of change."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import T0, board, unit
from flask_migrate import downgrade, stamp, upgrade
from opendata_world import NOW, ClockRow, build, expected
from sqlalchemy import delete, func, select, update

from board.extensions import db
from board.messages import services as msg
from board.models import Clock, Cosign, Message, Rating, Region, Reply, RequestKind, User
from board.stats import facts, tally
from board.stats import percentiles as percentiles_module
from board.stats import services as stats
from board.stats.models import StatsCase


def _normal(rows: list[tuple]) -> list[tuple]:
    """Rows with numbers compared as floats to 9 places (PostgreSQL computes days as NUMERIC)."""

    def value(v):
        if isinstance(v, float | Decimal):
            return round(float(v), 9)
        return v

    return [tuple(value(v) for v in row) for row in rows]


def assert_exact() -> None:
    """Every stored fact row equals the row computed now from the source tables, and every
    message has exactly one."""
    connection = db.session.connection()
    stored = _normal(facts.stored_rows(connection))
    computed = _normal(facts.computed_rows(connection))
    assert len(stored) == db.session.scalar(select(func.count()).select_from(Message))
    assert stored == computed
    # The running sums per region, board and unit equal the sums of the fact rows.
    assert tally.stored_rows(connection) == tally.computed_rows(connection)


def test_fact_rows_follow_a_mixed_workload(
    app, directory, make_message, coordinator, handler, moderator
):
    """The open-data world, then messages through every workflow path, moderation, extension,
    transfer, rating, reopening, petitions to re-review and ORM deletes: always exact."""
    build()
    assert_exact()
    for state in ("submitted", "rejected", "withdrawn", "in_progress", "replied", "closed"):
        make_message(state, now=T0)
        assert_exact()
    make_message("reopened", now=T0 + timedelta(days=1))
    assert_exact()
    for state in ("not_accepted", "closed", "rereviewed"):
        make_message(
            state,
            track="petition",
            kind="claim",
            address="杭州市西湖区文三路 1 号",
            now=T0 + timedelta(days=2),
        )
        assert_exact()

    # An extension approved: the answer clock's due date moves.
    extended = make_message("in_progress", now=T0 + timedelta(days=3))
    msg.request_extension(extended, handler, reason="需要现场勘查", now=T0 + timedelta(days=4))
    request = msg.pending_request(extended)
    assert request is not None and request.kind == RequestKind.EXTENSION
    msg.approve_request(request, coordinator, note="同意延期", now=T0 + timedelta(days=4, hours=1))
    assert_exact()
    # A transfer: the answer clock stops and a new one starts at the other unit.
    moved = make_message("in_progress", now=T0 + timedelta(days=3))
    msg.transfer_message(
        moved, unit("330100-jt"), coordinator, note="属交通部门职责", now=T0 + timedelta(days=5)
    )
    assert_exact()
    # Moderation hides a case: it leaves every figure.
    hidden = make_message("replied", now=T0 + timedelta(days=3))
    msg.hide_message(hidden, moderator, reason="hide:privacy_leak", now=T0 + timedelta(days=6))
    assert db.session.get(StatsCase, hidden.id).is_case is False
    assert_exact()

    # Plain ORM edits and deletes of the rows the figures read.
    rating = db.session.scalars(select(Rating)).first()
    rating.speed = 1 if rating.speed != 1 else 5
    db.session.commit()
    assert_exact()
    db.session.delete(db.session.scalars(select(Reply).where(Reply.outcome == "supported")).first())
    db.session.commit()
    assert_exact()
    answered = db.session.scalars(select(Clock).where(Clock.state == "met")).first()
    db.session.delete(answered)
    db.session.commit()
    assert_exact()
    gone = db.session.scalars(select(Message).where(Message.state == "submitted")).first()
    for clock in db.session.scalars(select(Clock).where(Clock.message_id == gone.id)):
        db.session.delete(clock)
    db.session.delete(gone)
    db.session.commit()
    assert db.session.get(StatsCase, gone.id) is None
    assert_exact()
    # A rolled-back change leaves nothing behind.
    victim = db.session.scalars(select(Message)).first()
    victim.kind = "thanks"
    db.session.flush()
    db.session.rollback()
    assert not db.session.info.get(facts._PENDING)  # noqa: SLF001
    assert_exact()


def test_figures_are_exact_right_after_a_workflow_action(
    app, directory, make_message, coordinator, handler
):
    """A reply signed off shows on the board's figures in the next request, no rebuild."""
    m = make_message("in_progress", now=T0)
    scope = stats.Scope(board=board("330100-secretary"))
    before = stats.figures(scope, now=T0 + timedelta(days=4))
    assert (before.messages, before.replied) == (1, 0)
    msg.reply_message(
        m, handler, body="经核查，已责令物业公司退还多收费用。", now=T0 + timedelta(days=3)
    )
    msg.sign_off_reply(m, coordinator, now=T0 + timedelta(days=3, hours=1))
    after = stats.figures(scope, now=T0 + timedelta(days=4))
    assert (after.messages, after.replied) == (1, 1)
    assert after.on_time.total == 1 and after.on_time.hits == 1
    assert after.median_days == pytest.approx(
        (m.replied_at - m.created_at).total_seconds() / 86400, abs=1e-6
    )


def test_several_open_answer_clocks_count_one_by_one(app, directory):
    """A case with two open answer clocks past due (written outside the workflow): each counts
    against the on-time rate, the case counts once as overdue."""
    cases = build()
    case = next(c for c in cases if c.public and c.replied_at is None and c.kind == "complaint")
    message = db.session.scalar(select(Message).where(Message.code == case.code))
    first = next(c for c in case.clocks if c.state == "open")
    second = ClockRow("petition_handling", first.due_on - timedelta(days=2), "open", None)
    db.session.add(
        Clock(
            message_id=message.id,
            policy=second.policy,
            started_on=second.due_on - timedelta(days=10),
            due_on=second.due_on,
            double_due_on=second.due_on + timedelta(days=10),
            days=10,
            unit="calendar",
            state="open",
            explanation="[]",
            created_at=message.published_at,
        )
    )
    db.session.commit()
    case.clocks.append(second)
    row = db.session.get(StatsCase, message.id)
    assert row.answers_open == 2 and row.open_due_on == second.due_on
    want = expected(cases)
    got = stats.figures(stats.Scope(), now=NOW)
    assert (got.on_time.hits, got.on_time.total) == want["on_time"]
    assert got.overdue_now == want["overdue"]
    # Grouped: the ranking row of the case's unit, and the report's complained units.
    ranking = stats.ranking("unit", stats.Scope(), now=NOW, min_cases=1)
    row = next(r for r in ranking.rows if r.entity.code == case.unit)
    mine = expected([c for c in cases if c.unit == case.unit])
    assert (row.on_time.hits, row.on_time.total) == mine["on_time"]
    region = db.session.get(Region, case.region)
    report = stats.report(region, stats.parse_period("2026"), now=NOW)
    complaints = [c for c in cases if c.region == case.region and c.kind == "complaint"]
    for unit_row, n, rate in report.complained_units:
        theirs = expected([c for c in complaints if c.unit == unit_row.code])
        assert (n, (rate.hits, rate.total)) == (theirs["messages"], theirs["on_time"])
    assert_exact()


def test_rebuild_command_repairs_rows_written_around_the_application(app, directory, runner):
    """Rows changed, added or removed in plain SQL are put right by `flask stats rebuild`."""
    build()
    table = StatsCase.__table__
    connection = db.session.connection()
    connection.execute(delete(table).where(table.c.message_id % 3 == 0))
    connection.execute(update(table).values(answers_met=99, rating_total=None))
    connection.execute(update(Message.__table__).values(domain="other"))
    db.session.commit()
    with pytest.raises(AssertionError):
        assert_exact()
    result = runner.invoke(args=["stats", "rebuild", "--batch", "7"])
    assert result.exit_code == 0, result.output
    assert "stats_case rebuilt: 62 messages" in result.output
    assert_exact()


def test_bulk_seed_writes_its_fact_rows(app, directory, runner):
    """The bulk generator inserts with Core statements; its chunks refresh their fact rows."""
    app.config["SEED_BULK_THRESHOLD"] = 50
    app.config["SEARCH_APPLY_INLINE"] = False
    result = runner.invoke(args=["seed", "demo", "--messages", "300", "--now", "2026-11-01T09:00"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(StatsCase)) == 300
    assert_exact()


def test_percentiles_of_many_groups_span_several_statements(app, directory, monkeypatch):
    """A ranking's medians are the same whether asked in one statement or in many."""
    build()
    scope = stats.Scope()
    one = stats.ranking("unit", scope, now=NOW, min_cases=1)
    monkeypatch.setattr(percentiles_module, "PERCENTILE_BATCH", 1)
    many = stats.ranking("unit", scope, now=NOW, min_cases=1)
    assert [(r.entity.code, r.median_days, r.p90_days) for r in one.rows] == [
        (r.entity.code, r.median_days, r.p90_days) for r in many.rows
    ]
    assert len(one.rows) >= 3 and all(r.median_days is not None for r in one.rows)


def test_migration_backfills_existing_messages(app, directory):
    """Upgrading a database that has messages but no stats_case fills it exactly."""
    build()
    db.session.commit()
    db.session.remove()
    stamp(revision="head")  # the schema came from the models, so it is at the newest revision
    downgrade(revision="e58b11cc8be3")
    assert "stats_case" not in db.inspect(db.engine).get_table_names()
    upgrade()
    assert db.session.scalar(select(func.count()).select_from(StatsCase)) == 62
    assert_exact()


def test_most_cosigned_skips_hidden_candidates_batch_after_batch(app, directory):
    """Candidates are read `limit` × 4 at a time; hidden ones are passed over until enough."""
    cases = build()
    # The private and the hidden message get co-signs too, more than anyone.
    for code in ("MS-2026-T00060", "MS-2026-T00061"):
        message = db.session.scalar(select(Message).where(Message.code == code))
        for k in range(5):
            voter = User(
                email=f"cosigner-{code}-{k}@example.org",
                password_hash="x",
                pen_name=f"附议{k}",
                created_at=NOW,
            )
            db.session.add(voter)
            db.session.flush()
            db.session.add(Cosign(message_id=message.id, user_id=voter.id, created_at=NOW))
    # Hide the five public cases that lead the count, so a limit of 1 needs a second batch.
    leading = sorted(
        (c for c in cases if c.public and c.cosigns), key=lambda c: (-c.cosigns, c.code)
    )
    ids = {
        c.code: db.session.scalar(select(Message.id).where(Message.code == c.code)) for c in cases
    }
    leading.sort(key=lambda c: (-c.cosigns, -ids[c.code]))
    for c in leading[:5]:
        db.session.scalar(select(Message).where(Message.code == c.code)).is_hidden = True
    db.session.commit()
    got = stats.most_cosigned(now=NOW, limit=1)
    assert [(m.code, n) for m, n in got] == [(leading[5].code, leading[5].cosigns)]
    got = stats.most_cosigned(now=NOW, limit=3)
    assert [m.code for m, _n in got] == [c.code for c in leading[5:8]]
