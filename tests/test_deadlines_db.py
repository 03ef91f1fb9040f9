"""Deadlines in the database: policies, the calendar table, clocks through the workflow, queries."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from conftest import T0, login
from sqlalchemy import select

from board.calendar import services as clocks
from board.calendar.cli import seed_calendar
from board.extensions import db
from board.models import CalendarDay, CalendarYear, Clock, DeadlinePolicy, Event, Kind, Track

POLICY_NAMES = {
    "board_moderation",
    "board_assignment",
    "board_return",
    "board_reply_short",
    "board_reply_long",
    "board_extension",
    "petition_acceptance",
    "petition_handling",
    "petition_extension",
    "petition_review_request",
    "petition_review",
    "petition_rereview_request",
    "petition_rereview",
    "rating_window",
}
ADDRESS = "浙江省杭州市西湖区文三路 1 号"


def _clocks(message) -> dict[str, Clock]:
    rows = db.session.scalars(
        select(Clock).where(Clock.message_id == message.id).order_by(Clock.id)
    )
    return {clock.policy: clock for clock in rows}


def _load_2026() -> None:
    clocks.load_calendar_year(2026, now=T0)


def _beijing(text: str) -> datetime:
    """A Beijing wall-clock time as the naive UTC the services take."""
    return datetime.fromisoformat(text) - timedelta(hours=8)


# ---------------------------------------------------------------------------------------------
# Policies and the calendar table


def test_seed_policies_stores_the_design_defaults_once(app):
    """All fourteen DESIGN §10 names with the §4 lengths; a second run adds nothing."""
    assert clocks.seed_policies() == 14
    assert clocks.seed_policies() == 0
    rows = {p.name: p for p in db.session.scalars(select(DeadlinePolicy))}
    assert set(rows) == POLICY_NAMES
    assert (rows["board_reply_long"].days, rows["board_reply_long"].unit) == (20, "working")
    assert (rows["petition_handling"].days, rows["petition_handling"].unit) == (60, "calendar")
    assert (rows["petition_acceptance"].days, rows["petition_acceptance"].unit) == (15, "calendar")
    assert rows["rating_window"].label == "评价期"


def test_an_edited_policy_changes_new_clocks(app, make_message):
    """Policies are data: an admin's 5-day moderation window applies to the next submission."""
    clocks.seed_policies()
    db.session.get(DeadlinePolicy, "board_moderation").days = 5
    db.session.commit()
    m = make_message("submitted")
    assert _clocks(m)["board_moderation"].due_on == date(2026, 3, 9)


def test_seed_calendar_loads_every_package_year_once(app):
    """`flask seed regions` loads the package years; a second run keeps what is there."""
    policies, years = seed_calendar()
    assert policies == 14
    assert {2024, 2025, 2026} <= set(years)
    assert db.session.get(CalendarDay, date(2026, 10, 10)).is_workday is True
    assert db.session.get(CalendarDay, date(2026, 10, 1)).is_workday is False
    assert seed_calendar() == (0, [])


def test_db_calendar_matches_the_package_and_falls_back_to_the_law_for_other_years(app):
    """The table gives the official 2026 days; 2027 rests on the law's holidays, flagged unknown."""
    _load_2026()
    calendar = clocks.db_calendar()
    assert calendar.is_known(2026) and not calendar.is_known(2027)
    assert calendar.is_workday(date(2026, 10, 10))  # make-up Saturday
    assert not calendar.is_workday(date(2026, 10, 5))  # 国庆节, a Monday
    assert not calendar.is_workday(date(2027, 10, 1))  # unknown year: 国庆节 by law, a Friday
    assert calendar.info(date(2027, 10, 4)).note == "国庆节补休"  # Art. 6 make-up Monday
    assert calendar.is_workday(date(2027, 9, 30))
    assert clocks.deadline_for(date(2026, 9, 28), "board_reply_long").due_on == date(2026, 10, 30)


def test_load_calendar_year_replaces_the_year(app):
    """A reload leaves only the new rows for that year and records the source."""
    _load_2026()
    stored, changed = clocks.load_calendar_year(
        2026, [(date(2026, 3, 3), False, "测试假日")], source="file", now=T0
    )
    assert (stored, changed) == (1, 0)
    days = db.session.scalars(select(CalendarDay)).all()
    assert [(d.day, d.source) for d in days] == [(date(2026, 3, 3), "file")]
    assert db.session.get(CalendarYear, 2026).source == "file"


# ---------------------------------------------------------------------------------------------
# Clocks through the workflow


def test_submission_starts_the_moderation_clock(make_message):
    """Submitted on Monday 2026-03-02: one working day, due Tuesday; the event says so."""
    m = make_message("submitted")
    clock = _clocks(m)["board_moderation"]
    assert (clock.state, clock.started_on, clock.due_on) == (
        "open",
        date(2026, 3, 2),
        date(2026, 3, 3),
    )
    assert clock.explanation_lines[-1] == "→ 2026-03-03 24:00（北京时间）到期"
    assert m.events[0].due_on == date(2026, 3, 3)


def test_board_workflow_closes_each_clock_and_starts_the_next(make_message):
    """approve → assignment clock; assign → 20-day reply clock for a complaint; reply → rating."""
    _load_2026()
    m = make_message("assigned")
    found = _clocks(m)
    assert found["board_moderation"].state == "met"
    assert found["board_assignment"].state == "met"
    assert found["board_assignment"].due_on == date(2026, 3, 4)
    reply = found["board_reply_long"]
    assert (reply.state, reply.due_on) == ("open", date(2026, 3, 30))
    assert [e.due_on for e in m.events if e.action == "assign"] == [date(2026, 3, 30)]

    m = make_message("replied")
    found = _clocks(m)
    assert found["board_reply_long"].state == "met"
    # Replied 2026-03-05; 30 days → Sat 04-04, 清明节 04-04…04-06 → Tue 04-07.
    assert (found["rating_window"].state, found["rating_window"].due_on) == (
        "open",
        date(2026, 4, 7),
    )

    m = make_message("closed")
    found = _clocks(m)
    assert found.pop("board_return").state == "stopped"  # accepting ended the return right
    assert {c.state for c in found.values()} == {"met"}
    assert clocks.open_clocks(m) == []


def test_short_kinds_get_ten_working_days(make_message):
    """咨询 has the 10-working-day reply clock."""
    m = make_message("assigned", kind=Kind.INQUIRY)
    assert _clocks(m)["board_reply_short"].due_on == date(2026, 3, 16)
    assert "board_reply_long" not in _clocks(m)


def test_petition_track_runs_acceptance_then_handling(make_message):
    """Assign → 15-day acceptance notice (Art. 23); accept → 60-day handling (Art. 34)."""
    _load_2026()
    m = make_message("assigned", track=Track.PETITION, kind=Kind.CLAIM, address=ADDRESS)
    assert _clocks(m)["petition_acceptance"].due_on == date(2026, 3, 17)
    m = make_message("in_progress", track=Track.PETITION, kind=Kind.CLAIM, address=ADDRESS)
    found = _clocks(m)
    assert found["petition_acceptance"].state == "met"
    # Accepted 2026-03-02; 60 days → Fri 05-01, 劳动节 05-01…05-05 → Wed 05-06.
    assert (found["petition_handling"].state, found["petition_handling"].due_on) == (
        "open",
        date(2026, 5, 6),
    )
    assert [e.due_on for e in m.events if e.action == "accept"] == [date(2026, 5, 6)]


def test_rejection_and_withdrawal_stop_the_clocks(make_message, citizen):
    """A rejected or withdrawn message owes nothing any more."""
    from board.messages import services as msg

    rejected = make_message("rejected")
    assert _clocks(rejected)["board_moderation"].state == "stopped"
    m = make_message("submitted")
    msg.withdraw_message(m, citizen, now=T0 + timedelta(hours=1))
    assert _clocks(m)["board_moderation"].state == "stopped"
    assert clocks.open_clocks(m) == []


def test_a_calendar_edit_recomputes_open_clocks_and_logs_it(make_message, admin):
    """A new holiday on 2026-03-10 moves the open reply clock a day; closed clocks stay put."""
    m = make_message("assigned")  # no calendar loaded: Mon–Fri, due 2026-03-30
    assert _clocks(m)["board_reply_long"].due_on == date(2026, 3, 30)
    closed_due = _clocks(m)["board_assignment"].due_on
    stored, changed = clocks.load_calendar_year(
        2026, [(date(2026, 3, 10), False, "测试假日")], source="admin", now=T0 + timedelta(days=1)
    )
    assert (stored, changed) == (1, 1)
    found = _clocks(m)
    assert found["board_reply_long"].due_on == date(2026, 3, 31)
    assert "跳过节假日（测试假日）：2026-03-10" in found["board_reply_long"].explanation_lines
    assert found["board_assignment"].due_on == closed_due
    events = db.session.scalars(
        select(Event).where(Event.message_id == m.id, Event.action == "clock_recomputed")
    ).all()
    assert len(events) == 1
    assert events[0].is_public is False
    assert events[0].due_on == date(2026, 3, 31)
    assert "2026-03-30" in events[0].note and "2026-03-31" in events[0].note
    # Loading the same rows again changes nothing and logs nothing.
    assert clocks.load_calendar_year(
        2026, [(date(2026, 3, 10), False, "测试假日")], source="admin", now=T0 + timedelta(days=2)
    ) == (1, 0)


# ---------------------------------------------------------------------------------------------
# Queries with an explicit now


def _ids(query) -> set[int]:
    return {clock.message_id for clock in db.session.scalars(query)}


def test_overdue_turns_at_midnight_beijing_time(make_message):
    """Due 2026-03-30 means until 24:00 Beijing; a minute later it is overdue."""
    m = make_message("assigned")
    assert m.id not in _ids(clocks.overdue(_beijing("2026-03-30T23:59")))
    assert m.id in _ids(clocks.overdue(_beijing("2026-03-31T00:01")))
    assert m.id not in _ids(clocks.seriously_overdue(_beijing("2026-03-31T00:01")))


def test_seriously_overdue_is_past_twice_the_length(make_message):
    """40 working days from 2026-03-02, skipping 清明 Monday 2026-04-06, end on 2026-04-28."""
    _load_2026()
    m = make_message("assigned")
    assert _clocks(m)["board_reply_long"].double_due_on == date(2026, 4, 28)
    assert m.id not in _ids(clocks.seriously_overdue(_beijing("2026-04-28T12:00")))
    assert m.id in _ids(clocks.seriously_overdue(_beijing("2026-04-29T00:00")))


def test_due_soon_is_three_working_days_or_fewer(make_message):
    """Due Mon 03-30: due soon from Wed 03-25 (3 working days left), not on Tue 03-24 (4)."""
    m = make_message("assigned")
    assert m.id not in _ids(clocks.due_soon(_beijing("2026-03-24T10:00")))
    assert m.id in _ids(clocks.due_soon(_beijing("2026-03-25T10:00")))
    assert m.id in _ids(clocks.due_soon(_beijing("2026-03-30T10:00")))
    assert m.id not in _ids(clocks.due_soon(_beijing("2026-03-31T10:00")))


def test_citizen_windows_are_never_overdue(make_message):
    """The rating window is the author's, not a unit's duty."""
    m = make_message("replied")
    assert _clocks(m)["rating_window"].state == "open"
    assert m.id not in _ids(clocks.overdue(_beijing("2026-06-01T10:00")))


# ---------------------------------------------------------------------------------------------
# CLI, API and pages


def test_calendar_import_command_from_the_package_and_from_a_file(runner, make_message, tmp_path):
    """`flask calendar import YEAR [--file CSV]` stores the year and recomputes open clocks."""
    m = make_message("assigned")
    result = runner.invoke(args=["calendar", "import", "2025"])
    assert result.exit_code == 0, result.output
    assert "calendar 2025" in result.output
    assert db.session.get(CalendarYear, 2025).source == "package"
    csv_file = tmp_path / "2026.csv"
    csv_file.write_text("date,is_workday,note\n2026-03-10,0,测试假日\n2026-03-14,1,调休上班\n")
    result = runner.invoke(args=["calendar", "import", "2026", "--file", str(csv_file)])
    assert result.exit_code == 0, result.output
    # One weekday off, one make-up Saturday on: the due date stays, the explanation changes.
    assert "open clocks with a new due date: 0" in result.output
    db.session.expire_all()
    reply = _clocks(m)["board_reply_long"]
    assert reply.due_on == date(2026, 3, 30)
    assert "2026-03-14（周六）为调休上班日，计为工作日" in reply.explanation_lines
    assert db.session.get(CalendarDay, date(2026, 3, 14)).is_workday is True


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2026-03-10,maybe,x\n", "is_workday"),
        ("2025-03-10,0,x\n", "not in 2026"),
        ("x\n", "line 1"),
    ],
)
def test_calendar_import_rejects_bad_files(runner, app, tmp_path, text, complaint):
    """A malformed CSV names its line and stores nothing."""
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(text)
    result = runner.invoke(args=["calendar", "import", "2026", "--file", str(csv_file)])
    assert result.exit_code != 0
    assert complaint in result.output
    assert db.session.get(CalendarYear, 2026) is None


def test_calendar_import_refuses_a_year_the_package_lacks(runner, app):
    """No package data for 2099 and no file: a clear error."""
    result = runner.invoke(args=["calendar", "import", "2099"])
    assert result.exit_code != 0
    assert "no holiday schedule for 2099" in result.output


def test_calc_api_explains_the_design_example(client, app):
    """GET /api/v1/deadlines/calc returns the due date and the explanation."""
    _load_2026()
    response = client.get("/api/v1/deadlines/calc?start=2026-09-28&policy=board_reply_long")
    assert response.status_code == 200
    data = response.get_json()
    assert data["policy"] == "board_reply_long"
    assert (data["start"], data["due_on"], data["unit"], data["days"]) == (
        "2026-09-28",
        "2026-10-30",
        "working",
        20,
    )
    assert "2026-10-10（周六）为调休上班日，计为工作日" in data["explanation"]
    assert (data["unknown_years"], data["provisional"]) == ([], False)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-02-30&policy=board_reply_long", "start"),
        ("start=tomorrow&policy=board_reply_long", "start"),
        ("policy=board_reply_long", "start"),
        ("start=2026-09-28&policy=no_such_policy", "policy"),
        ("start=2026-09-28", "policy"),
    ],
)
def test_calc_api_rejects_bad_dates_and_unknown_policies(client, app, query, field):
    """422 JSON naming the field."""
    response = client.get(f"/api/v1/deadlines/calc?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]


def test_calc_api_marks_an_unloaded_year_provisional(client, app):
    """2027 is counted by the law's holidays, listed as unknown and answered provisional."""
    response = client.get("/api/v1/deadlines/calc?start=2027-01-04&policy=board_moderation")
    data = response.get_json()
    assert (data["due_on"], data["unknown_years"], data["provisional"]) == (
        "2027-01-05",
        [2027],
        True,
    )


def test_calculator_page_shows_due_date_and_explanation(client, app):
    """The page works with a plain GET form."""
    _load_2026()
    empty = client.get("/deadlines")
    assert empty.status_code == 200
    assert "期限计算器" in empty.get_data(as_text=True)
    assert "到期日" not in empty.get_data(as_text=True)
    page = client.get("/deadlines?start=2026-09-16&policy=petition_acceptance")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "到期日：2026-10-08" in text
    assert "顺延至下一个工作日 2026-10-08" in text
    assert "暂定" not in text


def test_calculator_page_warns_for_an_unloaded_year_and_flags_bad_input(client, app):
    """A 2027 start is marked provisional; a bad date is a field error, not a crash."""
    text = client.get("/deadlines?start=2027-03-01&policy=board_reply_long").get_data(as_text=True)
    assert "暂定期限" in text and "2027 年的放假安排尚未由国务院办公厅公布" in text
    bad = client.get("/deadlines?start=2026-13-01&policy=board_reply_long")
    assert bad.status_code == 200
    assert "请输入有效的日期" in bad.get_data(as_text=True)
    assert "到期日：" not in bad.get_data(as_text=True)


def test_message_json_lists_open_deadlines(client, make_message):
    """The public JSON of an assigned complaint shows its clocks: the return window, the reply."""
    m = make_message("assigned")
    data = client.get(f"/api/v1/messages/{m.code}").get_json()
    assert [d["policy"] for d in data["deadlines"]] == ["board_return", "board_reply_long"]
    assert data["deadlines"][0]["due_on"] == "2026-03-09"  # 5 working days to return it
    deadline = data["deadlines"][1]
    assert deadline["due_on"] == "2026-03-30"
    assert deadline["state"] == "open" and deadline["started_on"] == "2026-03-02"
    assert deadline["explanation"][-1] == "→ 2026-03-30 24:00（北京时间）到期"


def test_message_page_shows_open_clocks_with_an_explanation(client, make_message, citizen):
    """The public page lists the due date with a <details> explanation."""
    m = make_message("assigned")
    text = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "办理期限" in text
    assert "2026-03-30 24:00 前" in text
    assert "<details>" in text and "20 个工作日，自 2026-03-02 起算" in text
    closed = make_message("closed")
    login(client, citizen)
    assert "办理期限" not in client.get(f"/m/{closed.code}").get_data(as_text=True)


def test_calc_api_explains_itself_in_the_requests_language(client, app):
    """Accept-Language: en gets the same explanation built in English from its pieces: the
    skipped National Day holidays, the make-up Saturday, Beijing time; no Chinese left."""
    _load_2026()
    response = client.get(
        "/api/v1/deadlines/calc?start=2026-09-28&policy=board_reply_long",
        headers={"Accept-Language": "en"},
    )
    lines = response.get_json()["explanation"]
    assert lines[0] == "20 working days, counted from 2026-09-28 (that day not included)"
    assert any(line.startswith("Holidays skipped (National Day") for line in lines), lines
    assert "2026-10-10 (Sat) is a make-up working day and counts as a working day" in lines
    assert lines[-1] == "→ due 2026-10-30 at 24:00 (Beijing time)"
    assert not any(re.search(r"[\u4e00-\u9fff]", line) for line in lines), lines


def test_a_clock_stores_its_explanation_as_pieces_and_reads_older_sentences_back(
    make_message, client
):
    """New clocks keep message ids and arguments (not sentences). A row an older version wrote as
    Chinese sentences is read back into pieces, so it too is shown in English; a sentence of no
    known kind stays as it is."""
    import json

    from flask_babel import refresh

    from board.deadlines import load_explanation

    message = make_message("received")
    clock = db.session.scalars(select(Clock).where(Clock.message_id == message.id)).first()
    stored = json.loads(clock.explanation)
    assert all(isinstance(item, dict) and "msg" in item for item in stored)
    assert str(clock.explanation_lines[-1]).endswith("24:00（北京时间）到期")

    older = [
        "20 个工作日，自 2026-09-28 起算（当日不计入）",
        "跳过节假日（中秋节、国庆节）：2026-10-01 … 2026-10-07",
        "2026-10-10（周六）为调休上班日，计为工作日",
        "延期：15 个工作日，自 2026-10-30 起算（当日不计入）",
        "→ 2026-11-20 24:00（北京时间）到期",
        "管理员手写的说明",
    ]
    lines = load_explanation(older)
    assert [str(line) for line in lines] == older  # the same Chinese, now from pieces
    with client.application.test_request_context(headers={"Accept-Language": "en"}):
        refresh()  # the test's app context may hold the Chinese locale of an earlier render
        english = [line.text for line in lines]
    assert english == [
        "20 working days, counted from 2026-09-28 (that day not included)",
        "Holidays skipped (Mid-Autumn Festival, National Day): 2026-10-01 … 2026-10-07",
        "2026-10-10 (Sat) is a make-up working day and counts as a working day",
        "Extension: 15 working days, counted from 2026-10-30 (that day not included)",
        "→ due 2026-11-20 at 24:00 (Beijing time)",
        "管理员手写的说明",
    ]
