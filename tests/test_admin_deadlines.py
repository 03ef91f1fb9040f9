"""Admin pages: deadline policies, the holiday calendar (month view, toggles, imports), mail outbox."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from conftest import T0, login
from sqlalchemy import select

from board.calendar import services as clocks
from board.clock import local_date, utcnow
from board.extensions import db
from board.models import CalendarDay, CalendarYear, Clock, DeadlinePolicy, Event
from board.notify.models import MailState, OutgoingMail

PAGES = [
    "/admin/deadlines",
    "/admin/deadlines/board_reply_long",
    "/admin/calendar",
    "/admin/calendar/2026/10",
    "/admin/mail",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_for_admins_only(client, make_user, coordinator, moderator, admin, path):
    """Anonymous → login; staff who are not admins → 403; admins → 200."""
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for user in (coordinator, moderator):
        other = client.application.test_client()
        login(other, user)
        assert other.get(path).status_code == 403
    login(client, admin)
    assert client.get(path).status_code == 200


def test_posts_are_for_admins_only(client, coordinator):
    """The changing routes refuse a coordinator and change nothing."""
    login(client, coordinator)
    assert (
        client.post(
            "/admin/deadlines/board_reply_long", data={"label": "x", "days": "3", "unit": "working"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/admin/calendar/day", data={"day": "2026-03-27", "is_workday": "0"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/admin/calendar/import", data={"year": "2026", "source": "package"}
        ).status_code
        == 403
    )
    assert client.post("/admin/mail/1/retry").status_code == 403
    assert db.session.get(DeadlinePolicy, "board_reply_long") is None
    assert db.session.get(CalendarDay, date(2026, 3, 27)) is None


def test_policy_list_and_edit_keeps_running_clocks(client, admin, make_message):
    """Editing a policy changes new clocks only: a running 20-day clock stays 20 days."""
    clocks.seed_policies()
    running = make_message("assigned")
    login(client, admin)
    page = client.get("/admin/deadlines").get_data(as_text=True)
    assert "board_reply_long" in page and "20 个工作日" in page and "petition_handling" in page
    form = client.get("/admin/deadlines/board_reply_long").get_data(as_text=True)
    assert "已经开始的期限不受影响" in form
    response = client.post(
        "/admin/deadlines/board_reply_long",
        data={"label": "答复（投诉、求助）", "days": "25", "unit": "working"},
    )
    assert response.status_code == 302
    assert db.session.get(DeadlinePolicy, "board_reply_long").days == 25
    old = db.session.scalar(
        select(Clock).where(Clock.message_id == running.id, Clock.policy == "board_reply_long")
    )
    assert old.days == 20
    fresh = make_message("assigned")
    new = db.session.scalar(
        select(Clock).where(Clock.message_id == fresh.id, Clock.policy == "board_reply_long")
    )
    assert new.days == 25


@pytest.mark.parametrize("days", ["0", "-3", "abc", "731", ""])
def test_policy_edit_rejects_bad_lengths(client, admin, days):
    """A bad length is a 422 with the form again, never a 500, and nothing is stored."""
    login(client, admin)
    response = client.post(
        "/admin/deadlines/board_reply_long", data={"label": "答复", "days": days, "unit": "working"}
    )
    assert response.status_code == 422
    assert db.session.get(DeadlinePolicy, "board_reply_long") is None


def test_unknown_policy_is_404(client, admin):
    """A policy name that does not exist is not found."""
    login(client, admin)
    assert client.get("/admin/deadlines/no_such_policy").status_code == 404
    assert client.get("/admin/calendar/2026/13").status_code == 404


def test_calendar_warns_about_a_missing_current_year(client, admin):
    """This year without an official schedule gets a banner; importing it removes the banner."""
    this_year = local_date(utcnow()).year
    login(client, admin)
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert f"{this_year} 年的放假安排尚未导入" in page
    db.session.add(CalendarYear(year=this_year, source="file", loaded_at=T0))
    db.session.commit()
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert f"{this_year} 年的放假安排尚未导入" not in page
    assert "上传的文件" in page


def test_month_view_shows_holidays_and_makeup_days(client, admin):
    """October 2026: National Day off, Saturday 10/10 a make-up working day."""
    clocks.load_calendar_year(2026, now=T0)
    login(client, admin)
    page = client.get("/admin/calendar/2026/10").get_data(as_text=True)
    assert "2026-10-01" in page and "国庆节" in page and "2026-10-31" in page
    assert "2026-09-30" not in page  # only the month's own days
    row = page.split('datetime="2026-10-10"')[1].split("</tr>")[0]
    assert "工作日" in row and "调休" in row and "设为休息日" in row


def test_toggling_a_day_recomputes_open_clocks_with_an_event(client, admin, make_message):
    """Friday 2026-03-27 made a holiday: the 20-working-day clock due 3/30 moves to 3/31."""
    clocks.load_calendar_year(2026, now=T0)
    message = make_message("assigned")
    clock = db.session.scalar(
        select(Clock).where(Clock.message_id == message.id, Clock.policy == "board_reply_long")
    )
    assert clock.due_on == date(2026, 3, 30)
    login(client, admin)
    response = client.post(
        "/admin/calendar/day", data={"day": "2026-03-27", "is_workday": "0", "note": "临时休假"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/2026/3")
    db.session.expire_all()
    row = db.session.get(CalendarDay, date(2026, 3, 27))
    assert (row.is_workday, row.note, row.source) == (False, "临时休假", "admin")
    assert db.session.get(Clock, clock.id).due_on == date(2026, 3, 31)
    events = db.session.scalars(
        select(Event).where(Event.message_id == message.id, Event.action == "clock_recomputed")
    ).all()
    assert len(events) >= 1 and "2026-03-31" in events[-1].note
    # And back: the day works again, the clock returns to 3/30.
    client.post("/admin/calendar/day", data={"day": "2026-03-27", "is_workday": "1", "note": ""})
    db.session.expire_all()
    assert db.session.get(Clock, clock.id).due_on == date(2026, 3, 30)


def test_toggle_with_a_bad_date_is_refused_politely(client, admin):
    """A malformed date or a too-long note redirects with a message; nothing is stored."""
    login(client, admin)
    bad = client.post("/admin/calendar/day", data={"day": "2026-02-30", "is_workday": "0"})
    assert bad.status_code == 302
    long_note = client.post(
        "/admin/calendar/day", data={"day": "2026-03-27", "is_workday": "0", "note": "长" * 81}
    )
    assert long_note.status_code == 302
    assert db.session.scalar(select(CalendarDay)) is None


def test_import_from_the_package_and_from_a_csv(client, admin):
    """The package loads 2025; a CSV loads 2027 as `flask calendar import --file` would."""
    login(client, admin)
    response = client.post("/admin/calendar/import", data={"year": "2025", "source": "package"})
    assert response.status_code == 302
    assert db.session.get(CalendarYear, 2025).source == "package"
    assert db.session.get(CalendarDay, date(2025, 1, 28)).is_workday is False
    csv = "date,is_workday,note\n2027-02-06,0,春节\n2027-02-20,1,调休上班\n".encode()
    response = client.post(
        "/admin/calendar/import",
        data={"year": "2027", "source": "file", "file": (io.BytesIO(csv), "2027.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert db.session.get(CalendarYear, 2027).source == "file"
    assert db.session.get(CalendarDay, date(2027, 2, 20)).is_workday is True


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"2027-02-06,maybe,x\n", "line 1"),
        (b"2026-02-06,0,x\n", "is not in 2027"),
        (b"\xff\xfe\x00bad", "UTF-8"),
    ],
)
def test_bad_csv_is_a_field_error(client, admin, payload, message):
    """A broken upload is shown next to the file field with the line; nothing is loaded."""
    login(client, admin)
    response = client.post(
        "/admin/calendar/import",
        data={"year": "2027", "source": "file", "file": (io.BytesIO(payload), "bad.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.get(CalendarYear, 2027) is None


def test_import_without_a_file_or_an_uncovered_year(client, admin):
    """Choosing a file but sending none, or a year the package lacks, is a 422."""
    login(client, admin)
    assert (
        client.post("/admin/calendar/import", data={"year": "2027", "source": "file"}).status_code
        == 422
    )
    assert (
        client.post(
            "/admin/calendar/import", data={"year": "1950", "source": "package"}
        ).status_code
        == 422
    )


def test_outbox_lists_undelivered_mail_and_retries(client, admin, make_message):
    """Queued and failed mails are listed; retry puts a failed one back in the queue."""
    make_message("approved")
    mail = db.session.scalar(select(OutgoingMail))
    mail.state, mail.attempts, mail.last_error = MailState.FAILED, 10, "ConnectionRefusedError"
    db.session.commit()
    login(client, admin)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert mail.subject in page and "ConnectionRefusedError" in page and "重新发送" in page
    response = client.post(f"/admin/mail/{mail.id}/retry")
    assert response.status_code == 302
    db.session.expire_all()
    again = db.session.get(OutgoingMail, mail.id)
    assert again.state == MailState.QUEUED and again.attempts == 0
    assert client.post("/admin/mail/999999/retry").status_code == 404
    assert client.get("/admin/mail?state=sent").status_code == 200
    assert client.get("/admin/mail?state=nonsense&page=-4").status_code == 200


def test_forms_need_the_csrf_token(client, admin, app):
    """With CSRF on, a POST without the token changes nothing."""
    app.config["WTF_CSRF_ENABLED"] = True
    login_page = client.get("/login")  # noqa: F841 (a session for the token)
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, admin)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/admin/calendar/day", data={"day": "2026-03-27", "is_workday": "0"})
        assert response.status_code in (302, 400)
        assert db.session.get(CalendarDay, date(2026, 3, 27)) is None
        response = client.post(
            "/admin/deadlines/board_reply_long",
            data={"label": "x", "days": "3", "unit": "working"},
        )
        assert response.status_code in (400, 422)
        assert db.session.get(DeadlinePolicy, "board_reply_long") is None
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_explanation_after_toggle_is_fresh_in_the_same_request_context(admin, make_message):
    """The service drops the per-request calendar cache, so the recompute sees the change."""
    from board.admin import services

    clocks.load_calendar_year(2026, now=T0)
    message = make_message("assigned")
    clocks.db_calendar()  # warm the cache
    changed = services.set_day(
        admin, date(2026, 3, 27), is_workday=False, note="", now=T0 + timedelta(days=1)
    )
    assert changed >= 1
    clock = db.session.scalar(
        select(Clock).where(Clock.message_id == message.id, Clock.policy == "board_reply_long")
    )
    assert clock.due_on == date(2026, 3, 31)
