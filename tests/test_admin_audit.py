"""/admin/audit: every admin change, from the web or the command line, with who, when, before and
after; the helpers add to the caller's transaction and never commit."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from conftest import T0, login
from sqlalchemy import select

from board.admin import services
from board.admin.models import AdminChange
from board.audit import change_diff, cli_actor, record_change
from board.extensions import db
from board.models import CalendarYear, User
from board.moderation import words
from board.moderation.models import SensitiveWord
from board.notify.models import MailState, OutgoingMail


def _all() -> list[AdminChange]:
    return list(db.session.scalars(select(AdminChange).order_by(AdminChange.id)))


def test_record_change_joins_the_callers_transaction(app, admin):
    """A rolled-back change leaves no log row; nothing is logged when nothing changed."""
    record_change(admin, "unit.update", "330100-zj", {"a": 1}, {"a": 2}, now=T0)
    db.session.rollback()
    assert _all() == []
    assert record_change(admin, "unit.update", "330100-zj", {"a": 1}, {"a": 1}, now=T0) is None
    row = record_change("cli:ops", "user.create", "x@example.org", None, {"role": "admin"}, now=T0)
    db.session.commit()
    assert row.actor_id is None and row.actor_label == "cli:ops"
    assert change_diff(row) == [("role", None, "admin")]
    assert cli_actor().startswith("cli")


def test_every_web_admin_change_is_logged_with_before_and_after(client, admin, make_message):
    """Policies, calendar days and years, sensitive words, mail retries: one row each, by admin."""
    make_message("approved")
    login(client, admin)
    client.post(
        "/admin/deadlines/board_reply_long",
        data={"label": "答复（投诉、求助）", "days": "25", "unit": "working"},
    )
    client.post(
        "/admin/calendar/day", data={"day": "2030-01-02", "is_workday": "0", "note": "测试"}
    )
    client.post(
        "/admin/calendar/import",
        data={
            "year": "2027",
            "source": "file",
            "file": (io.BytesIO("2027-02-06,0,春节\n".encode()), "2027.csv"),
        },
        content_type="multipart/form-data",
    )
    client.post("/moderation/words", data={"words": "办证\n代开发票"})
    word = db.session.scalar(select(SensitiveWord).where(SensitiveWord.word == "办证"))
    client.post(f"/moderation/words/{word.id}/delete")
    mail = db.session.scalar(select(OutgoingMail))
    mail.state, mail.attempts = MailState.FAILED, 10
    db.session.commit()
    client.post(f"/admin/mail/{mail.id}/retry")

    rows = {(r.kind, r.target): r for r in _all()}
    assert set(rows) == {
        ("policy", "board_reply_long"),
        ("calendar.day", "2030-01-02"),
        ("calendar.import", "2027"),
        ("sensitive_word.add", "办证"),
        ("sensitive_word.add", "代开发票"),
        ("sensitive_word.delete", "办证"),
        ("mail.retry", str(mail.id)),
    }
    assert all(r.actor_id == admin.id and r.actor_label == admin.email for r in rows.values())
    policy = rows[("policy", "board_reply_long")]
    assert policy.before["days"] != 25 and policy.after["days"] == 25
    assert rows[("calendar.day", "2030-01-02")].before is None
    assert rows[("calendar.import", "2027")].after == {"source": "file", "days": 1}
    assert rows[("mail.retry", str(mail.id))].before == {"state": "failed", "attempts": 10}
    # The page shows them, newest first, with the diff.
    page = client.get("/admin/audit").get_data(as_text=True)
    assert page.index("<code>mail.retry</code>") < page.index("<code>policy</code>")
    assert "<ins>25</ins>" in page


def test_cli_changes_are_logged_with_the_os_user(app, runner, directory, tmp_path):
    """`flask users create` and `flask calendar import` log as `cli:<user>`, no account."""
    result = runner.invoke(
        args=["users", "create", "ops@example.org", "--role", "handler", "--unit", "330100-zj"]
    )
    assert result.exit_code == 0, result.output
    csv = tmp_path / "2028.csv"
    csv.write_text("2028-01-03,0,元旦补休\n", encoding="utf-8")
    result = runner.invoke(args=["calendar", "import", "2028", "--file", str(csv)])
    assert result.exit_code == 0, result.output
    assert db.session.get(CalendarYear, 2028).source == "file"
    rows = _all()
    assert [(r.kind, r.target) for r in rows] == [
        ("user.create", "ops@example.org"),
        ("calendar.import", "2028"),
    ]
    assert all(r.actor_id is None and r.actor_label.startswith("cli") for r in rows)
    # A refused command logs nothing.
    result = runner.invoke(args=["users", "create", "x@example.org", "--role", "handler"])
    assert result.exit_code != 0
    assert len(_all()) == 2
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_audit_page_filters_and_pages(client, admin, handler, app):
    """By family of kind, by actor, by target; paginated; junk filters are ignored safely."""
    app.config["PAGE_SIZE"] = 5
    for n in range(7):
        record_change(
            admin, "unit.update", f"unit-{n}", {"n": n}, {"n": n + 1}, now=T0 + timedelta(minutes=n)
        )
    record_change("cli:ops", "user.create", "ops@example.org", None, {"role": "admin"}, now=T0)
    db.session.commit()
    login(client, admin)
    first = client.get("/admin/audit?kind=unit").get_data(as_text=True)
    assert "unit-6" in first and "unit-1" not in first and "ops@example.org" not in first
    second = client.get("/admin/audit?kind=unit&page=2").get_data(as_text=True)
    assert "unit-1" in second and "unit-0" in second
    by_actor = client.get("/admin/audit", query_string={"actor": "CLI:OPS"}).get_data(as_text=True)
    assert "ops@example.org" in by_actor and "unit-3" not in by_actor
    by_target = client.get("/admin/audit", query_string={"target": "unit-3"}).get_data(as_text=True)
    assert "unit-3" in by_target and "unit-4" not in by_target
    for junk in ({"kind": "unit%"}, {"page": "-3"}, {"actor": "x" * 5000}, {"target": "'; --"}):
        assert client.get("/admin/audit", query_string=junk).status_code == 200


@pytest.mark.parametrize("who", ["citizen", "handler", "coordinator", "moderator"])
def test_audit_page_is_for_admins_only(client, request, who):
    """Everyone but admins gets 403; visitors are sent to sign in."""
    assert "/login" in client.get("/admin/audit").headers["Location"]
    login(client, request.getfixturevalue(who))
    assert client.get("/admin/audit").status_code == 403


def test_services_refuse_non_admins_before_logging(app, moderator):
    """The change services check the role themselves: no row for a refused attempt."""
    from board.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.set_day(moderator, date(2030, 1, 2), is_workday=False, note="", now=T0)
    with pytest.raises(PermissionDenied):
        words.add_words("办证", moderator, now=T0)
    assert _all() == []
