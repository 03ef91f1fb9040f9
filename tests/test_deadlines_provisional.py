"""Deadlines through a year without an official schedule: provisional, shown so, final on import.

The scene of issue #15: it is December 2026, 2026's schedule is loaded from the package, 2027's
is not. Clocks started on Monday 2026-12-07 run into 2027.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from conftest import login
from sqlalchemy import select

from board.admin import services as admin_services
from board.calendar import services as clocks
from board.extensions import db
from board.models import Clock, Event, Kind, Track
from board.notify.models import OutgoingMail

DEC_7 = datetime(2026, 12, 7, 1, 0)  # Monday 2026-12-07 09:00 Beijing
PETITION = {
    "track": Track.PETITION,
    "kind": Kind.CLAIM,
    "address": "浙江省杭州市西湖区文三路 1 号",
}


def _official_2027_invented() -> list[tuple[date, bool, str]]:
    """A 2027 schedule in the style of the State Council's notices (invented for the test):
    元旦 1/1, an eight-day 春节 2/5–2/12 with Saturday 2/20 worked."""
    rows = [(date(2027, 1, 1), False, "元旦")]
    rows += [(date(2027, 2, 5) + timedelta(days=i), False, "春节") for i in range(8)]
    rows.append((date(2027, 2, 20), True, "调休上班"))
    return rows


def _clock(message, policy: str) -> Clock:
    return db.session.scalar(
        select(Clock).where(Clock.message_id == message.id, Clock.policy == policy)
    )


@pytest.fixture
def december(app):
    """2026's official schedule loaded (as `flask seed regions` does); 2027 not."""
    clocks.load_calendar_year(2026, now=DEC_7)


def test_reply_clock_into_2027_skips_new_years_day_and_is_provisional(december, make_message):
    """20 working days from 2026-12-07: due 2027-01-05 (not 01-04), marked provisional."""
    m = make_message("assigned", now=DEC_7)
    reply = _clock(m, "board_reply_long")
    assert reply.due_on == date(2027, 1, 5)
    assert (reply.provisional_years, reply.is_provisional) == ("2027", True)
    assert "跳过节假日（元旦）：2027-01-01" in reply.explanation_lines
    assert any("2027 年的放假安排尚未导入" in line for line in reply.explanation_lines)
    # The return window ends inside 2026, whose schedule is official.
    assert not _clock(m, "board_return").is_provisional


def test_petition_clock_landing_on_the_eve_moves_past_the_spring_festival(december, make_message):
    """60 days from 2026-12-07 is 除夕 2027-02-05; 春节 and its make-up days → 2027-02-11."""
    m = make_message("in_progress", now=DEC_7, **PETITION)
    handling = _clock(m, "petition_handling")
    assert handling.due_on == date(2027, 2, 11)
    assert handling.is_provisional


def test_pages_and_the_api_say_provisional_with_the_reason(december, make_message, client, handler):
    """The public page, the handler's desk and the message JSON mark the 2027 due date."""
    m = make_message("assigned", now=DEC_7)
    page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "2027-01-05 24:00 前" in page
    assert 'class="badge provisional"' in page
    assert "暂定期限" in page and "2027 年的放假安排尚未由国务院办公厅公布" in page
    data = client.get(f"/api/v1/messages/{m.code}").get_json()
    reply = next(d for d in data["deadlines"] if d["policy"] == "board_reply_long")
    assert (reply["provisional"], reply["provisional_years"]) == (True, [2027])
    login(client, handler)
    desk = client.get(f"/desk/m/{m.code}").get_data(as_text=True)
    assert 'class="badge provisional"' in desk and "暂定期限" in desk
    queue = client.get("/desk/handler").get_data(as_text=True)
    assert "此期限为暂定" in queue


def test_official_deadlines_are_not_marked(december, make_message, client):
    """A clock inside 2026 (official) carries no provisional mark anywhere."""
    m = make_message("assigned", now=datetime(2026, 3, 2, 1, 0))
    assert not _clock(m, "board_reply_long").is_provisional
    page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "badge provisional" not in page and "暂定期限" not in page


def test_the_assignment_mail_says_the_due_date_is_provisional(december, make_message):
    """The author's and the handlers' mails carry the note with the year and what changes it."""
    make_message("assigned", now=DEC_7)
    mails = {
        mail.kind: mail.body
        for mail in db.session.scalars(
            select(OutgoingMail).where(OutgoingMail.kind.like("assign:%"))
        )
    }
    for kind in ("assign:author", "assign:handlers"):
        assert "2027-01-05" in mails[kind]
        assert "此期限为暂定。2027 年的放假安排尚未导入" in mails[kind]
        assert "导入后将重新计算" in mails[kind]


def test_calc_api_answers_provisional_true_for_2027_and_false_for_2026(december, client):
    """GET /api/v1/deadlines/calc: the issue's two examples, and an official span."""
    reply = client.get("/api/v1/deadlines/calc?start=2026-12-07&policy=board_reply_long")
    assert reply.get_json()["due_on"] == "2027-01-05"
    assert reply.get_json()["provisional"] is True
    assert reply.get_json()["unknown_years"] == [2027]
    handling = client.get("/api/v1/deadlines/calc?start=2026-12-07&policy=petition_handling")
    assert (handling.get_json()["due_on"], handling.get_json()["provisional"]) == (
        "2027-02-11",
        True,
    )
    official = client.get("/api/v1/deadlines/calc?start=2026-09-28&policy=board_reply_long")
    assert (official.get_json()["due_on"], official.get_json()["provisional"]) == (
        "2026-10-30",
        False,
    )


def test_calculator_page_explains_what_makes_a_date_provisional(december, client):
    """The public calculator shows the badge, the reason and what will change it."""
    text = client.get("/deadlines?start=2026-12-07&policy=board_reply_long").get_data(as_text=True)
    assert "到期日：2027-01-05" in text and "badge provisional" in text
    assert "全国年节及纪念日放假办法" in text and "安排导入后，此期限将重新计算" in text
    official = client.get("/deadlines?start=2026-09-28&policy=board_reply_long")
    assert "暂定" not in official.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# The official schedule arrives


def test_importing_2027_makes_open_clocks_final_logs_and_mails_the_moved_ones(
    december, make_message, handler, citizen
):
    """The reply clock keeps 01-05 (confirmed); the petition clock moves 02-11 → 02-15 (mailed)."""
    board_message = make_message("assigned", now=DEC_7)
    petition = make_message("in_progress", now=DEC_7, **PETITION)
    before = set(db.session.scalars(select(OutgoingMail.id)))
    stored, moved = clocks.load_calendar_year(
        2027, _official_2027_invented(), source="file", now=DEC_7 + timedelta(days=3)
    )
    assert (stored, moved) == (10, 1)

    reply = _clock(board_message, "board_reply_long")
    assert (reply.due_on, reply.is_provisional) == (date(2027, 1, 5), False)
    handling = _clock(petition, "petition_handling")
    assert (handling.due_on, handling.is_provisional) == (date(2027, 2, 15), False)
    assert not any("暂定" in line for line in handling.explanation_lines)

    events = {
        (e.message_id, e.action): e
        for e in db.session.scalars(
            select(Event).where(Event.action.in_(["clock_recomputed", "clock_confirmed"]))
        )
    }
    confirmed = events[(board_message.id, "clock_confirmed")]
    assert confirmed.note == (
        "答复（投诉、求助）：2027 年放假安排已导入，期限 2027-01-05 不变，不再是暂定"
    )
    recomputed = events[(petition.id, "clock_recomputed")]
    assert recomputed.due_on == date(2027, 2, 15) and not recomputed.is_public
    assert "期限由 2027-02-11 改为 2027-02-15，不再是暂定" in recomputed.note
    assert (board_message.id, "clock_recomputed") not in events

    new_mail = db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.id.not_in(before)).order_by(OutgoingMail.id)
    ).all()
    assert sorted((m.kind, m.recipient) for m in new_mail) == [
        ("clock_moved:author", citizen.email),
        ("clock_moved:handlers", handler.email),
    ]
    for mail in new_mail:
        assert mail.about_message_id == petition.id
        assert "2027-02-11 → 2027-02-15" in mail.subject
        assert "由 2027-02-11 调整为 2027-02-15" in mail.body
        assert "为正式期限" in mail.body
    # Importing the same schedule again changes nothing, logs nothing, mails nobody.
    count = db.session.scalar(select(db.func.count()).select_from(Event))
    assert (
        clocks.load_calendar_year(2027, _official_2027_invented(), source="file", now=DEC_7)[1] == 0
    )
    assert db.session.scalar(select(db.func.count()).select_from(Event)) == count


def test_the_cli_import_reports_what_stopped_being_provisional(
    december, make_message, runner, tmp_path
):
    """`flask calendar import 2027 --file` prints moved and confirmed counts."""
    make_message("in_progress", now=DEC_7, **PETITION)
    csv_file = tmp_path / "2027.csv"
    csv_file.write_text(
        "date,is_workday,note\n"
        + "".join(f"{d.isoformat()},{int(w)},{n}\n" for d, w, n in _official_2027_invented()),
        encoding="utf-8",
    )
    result = runner.invoke(args=["calendar", "import", "2027", "--file", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert "open clocks with a new due date: 1" in result.output
    assert "no longer provisional: 1" in result.output


def test_an_admin_day_edit_in_a_year_not_imported_keeps_it_provisional(
    december, make_message, admin
):
    """Making 2027-01-04 a day off moves the reply clock a day; 2027 is still not official."""
    m = make_message("assigned", now=DEC_7)
    admin_services.set_day(admin, date(2027, 1, 4), is_workday=False, note="", now=DEC_7)
    reply = _clock(m, "board_reply_long")
    assert (reply.due_on, reply.is_provisional) == (date(2027, 1, 6), True)
    event = db.session.scalar(
        select(Event).where(Event.message_id == m.id, Event.action == "clock_recomputed")
    )
    assert event.note.endswith("期限由 2027-01-05 改为 2027-01-06，仍为暂定")
    mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.kind == "clock_moved:author"))
    assert "此期限为暂定" in mail.body


def test_recompute_command_brings_clocks_of_the_old_fallback_up_to_the_rules(
    december, make_message, runner
):
    """After the upgrade: a clock stored by the old Monday–Friday fallback gets the law's date."""
    m = make_message("assigned", now=DEC_7)
    stale = _clock(m, "board_reply_long")
    stale.due_on, stale.provisional_years = date(2027, 1, 4), ""  # as the old engine stored it
    db.session.commit()
    result = runner.invoke(args=["calendar", "recompute"])
    assert result.exit_code == 0, result.output
    assert "open clocks with a new due date: 1" in result.output
    fresh = _clock(m, "board_reply_long")
    assert (fresh.due_on, fresh.is_provisional) == (date(2027, 1, 5), True)


# ---------------------------------------------------------------------------------------------
# Admin warnings


def _beijing(text: str) -> datetime:
    return datetime.fromisoformat(text) - timedelta(hours=8)


def test_admins_are_warned_about_next_year_from_october_first_beijing_time(
    december, make_message, admin
):
    """30 September 23:59 Beijing: nothing; 1 October 00:00: 2027, with its provisional clocks."""
    make_message("assigned", now=DEC_7)
    assert admin_services.missing_years(admin, now=_beijing("2026-09-30T23:59")) == []
    warned = admin_services.missing_years(admin, now=_beijing("2026-10-01T00:00"))
    assert warned == [admin_services.MissingYear(2027, 1)]
    clocks.load_calendar_year(2027, _official_2027_invented(), source="file", now=DEC_7)
    assert admin_services.missing_years(admin, now=_beijing("2026-12-06T12:00")) == []


def test_this_years_missing_schedule_is_always_warned(app, admin):
    """With nothing loaded, even in March the current year is missing."""
    assert admin_services.missing_years(admin, now=_beijing("2026-03-02T09:00")) == [
        admin_services.MissingYear(2026, 0)
    ]


def test_every_admin_page_carries_the_warning(app, admin, client):
    """The banner is in the admin navigation, so the policy and mail pages show it too."""
    login(client, admin)
    for path in ("/admin/deadlines", "/admin/calendar", "/admin/mail"):
        text = client.get(path).get_data(as_text=True)
        assert "年的放假安排尚未导入" in text, path
        assert "flask calendar import" in text


def test_month_view_of_a_year_not_imported_shows_the_law_s_days(app, admin, client):
    """February 2027: 春节 2/5–2/8 and the make-up days 2/9–2/10, marked as computed."""
    login(client, admin)
    page = client.get("/admin/calendar/2027/2").get_data(as_text=True)
    assert "本页的节假日按法定节假日（含补休）推算" in page
    row = page.split('datetime="2027-02-09"')[1].split("</tr>")[0]
    assert "春节补休" in row and "休息日" in row and "（法定节假日，推算）" in row
    row = page.split('datetime="2027-02-11"')[1].split("</tr>")[0]
    assert "工作日" in row and "推算" not in row


def test_the_admin_pages_warn_about_2027_from_the_first_of_october(
    december, admin, client, monkeypatch
):
    """The banner follows the time the admin pages see (set like the desk tests' `at`)."""
    login(client, admin)
    monkeypatch.setattr("board.admin.views.utcnow", lambda: _beijing("2026-09-30T23:59"))
    assert "2027 年的放假安排尚未导入" not in client.get("/admin/deadlines").get_data(as_text=True)
    monkeypatch.setattr("board.admin.views.utcnow", lambda: _beijing("2026-10-01T00:00"))
    assert "2027 年的放假安排尚未导入" in client.get("/admin/deadlines").get_data(as_text=True)
