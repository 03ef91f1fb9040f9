"""The running sums per region, board and unit (stats_tally): the figures read from them equal
the direct computation from the fact rows, after any series of workflow actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0, board, unit
from opendata_world import NOW, build
from sqlalchemy import delete, select

from board.extensions import db
from board.messages import services as msg
from board.models import Board, Region, RequestKind, Unit
from board.stats import figures as figures_module
from board.stats import services as stats
from board.stats import tally
from board.stats.models import StatsCase, StatsTally


def _scopes() -> list[stats.Scope]:
    """A scope for every region, board and unit that has a fact row."""
    rows = db.session.execute(
        select(StatsCase.region_path, StatsCase.board_id, StatsCase.unit_id)
    ).all()
    paths = {path for path, _b, _u in rows}
    prefixes = {p[:n] for p in paths for n in (6, 13, 20) if len(p) >= n}
    regions = db.session.scalars(select(Region).where(Region.path.in_(prefixes))).all()
    boards = db.session.scalars(select(Board).where(Board.id.in_({b for _p, b, _u in rows})))
    units = db.session.scalars(select(Unit).where(Unit.id.in_({u for _p, _b, u in rows if u})))
    return (
        [stats.Scope(region=r) for r in regions]
        + [stats.Scope(board=b) for b in boards]
        + [stats.Scope(unit=u) for u in units]
    )


def _direct(scope: stats.Scope, now, monkeypatch) -> stats.Figures:
    """The figures computed from the fact rows, as for a filtered scope."""
    with monkeypatch.context() as patch:
        patch.setattr(figures_module, "tally_key", lambda _scope: None)
        return stats.figures(scope, now=now)


def assert_tallied_figures_are_exact(monkeypatch, *nows) -> int:
    """Every scope's figures from the sums equal the direct computation; returns the scopes."""
    connection = db.session.connection()
    assert tally.stored_rows(connection) == tally.computed_rows(connection)
    scopes = _scopes()
    for now in nows:
        for scope in scopes:
            assert figures_module.tally_key(scope) is not None
            got, want = stats.figures(scope, now=now), _direct(scope, now, monkeypatch)
            assert got.as_json() == want.as_json(), scope
            for a, b in ((got.median_days, want.median_days), (got.p90_days, want.p90_days)):
                assert (a is None and b is None) or a == pytest.approx(b, abs=1e-9)
    return len(scopes)


def test_tallied_figures_equal_the_direct_computation_through_the_workflow(
    app, directory, make_message, coordinator, handler, moderator, monkeypatch
):
    """The open-data world, then submissions, replies, ratings, an extension, a transfer, a
    hidden case, a reopening and a deletion: each region's, board's and unit's figures (counts,
    rates, overdue now, satisfaction, median and 90th percentile, the monthly chart) read from
    the sums equal those computed from every case, at several dates."""
    build()
    nows = (NOW, NOW + timedelta(days=45), NOW + timedelta(days=400))
    assert assert_tallied_figures_are_exact(monkeypatch, *nows) >= 10
    for state in ("submitted", "in_progress", "replied", "closed"):
        make_message(state, now=T0)
    make_message("reopened", now=T0 + timedelta(days=1))
    make_message(
        "closed", track="petition", kind="claim", address="杭州市西湖区文三路 1 号", now=T0
    )
    extended = make_message("in_progress", now=T0 + timedelta(days=3))
    msg.request_extension(extended, handler, reason="需要现场勘查", now=T0 + timedelta(days=4))
    request = msg.pending_request(extended)
    assert request is not None and request.kind == RequestKind.EXTENSION
    msg.approve_request(request, coordinator, note="同意延期", now=T0 + timedelta(days=4, hours=1))
    moved = make_message("in_progress", now=T0 + timedelta(days=3))
    msg.transfer_message(
        moved, unit("330100-jt"), coordinator, note="属交通部门职责", now=T0 + timedelta(days=5)
    )
    hidden = make_message("replied", now=T0 + timedelta(days=3))
    msg.hide_message(hidden, moderator, reason="hide:privacy_leak", now=T0 + timedelta(days=6))
    assert_tallied_figures_are_exact(monkeypatch, *nows)
    # A board's figures move at once with a reply (no rebuild, no delay).
    scope = stats.Scope(board=board("330100-secretary"))
    before = stats.figures(scope, now=NOW)
    waiting = make_message("in_progress", now=T0 + timedelta(days=7))
    msg.reply_message(
        waiting, handler, body="已协调有关部门处理完毕，请查收。", now=T0 + timedelta(days=8)
    )
    msg.sign_off_reply(waiting, coordinator, now=T0 + timedelta(days=8, hours=1))
    after = stats.figures(scope, now=NOW)
    assert (after.messages, after.replied) == (before.messages + 1, before.replied + 1)
    assert_tallied_figures_are_exact(monkeypatch, *nows)


def test_rebuild_restores_sums_written_around_the_application(app, directory, runner):
    """Sums lost or changed in plain SQL are put right by `flask stats rebuild`."""
    build()
    connection = db.session.connection()
    connection.execute(delete(StatsTally.__table__).where(StatsTally.dim == "p"))
    db.session.commit()
    connection = db.session.connection()
    assert tally.stored_rows(connection) != tally.computed_rows(connection)
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    connection = db.session.connection()
    assert tally.stored_rows(connection) == tally.computed_rows(connection)


def test_a_page_of_a_region_reads_its_sums_not_its_cases(app, directory, client, monkeypatch):
    """The region, board and unit pages take their figures from the sums: with the direct
    computation made to fail, the pages still render (and show the same numbers)."""
    build()

    def refuse(*_args, **_kwargs):
        raise AssertionError("figures computed from every case")

    monkeypatch.setattr(figures_module, "_totals", refuse)
    app.extensions["page_cache"] = None
    for url in ("/regions/330000", "/regions/330100", "/boards/330100-secretary"):
        assert client.get(url).status_code == 200, url
