"""Notifications: mails queued with their events, reminders by `flask deadlines tick`, delivery
through a real SMTP server (aiosmtpd) or to .eml files, exactly once and never lost."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import datetime, timedelta

import psycopg
import pytest
from aiosmtpd.controller import Controller
from conftest import T0, unit
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from board.calendar import services as clocks
from board.calendar.cli import parse_now, tick
from board.extensions import db
from board.messages import services as msg
from board.models import Clock, ClockState, Role, Unit
from board.notify import delivery
from board.notify import services as notify
from board.notify.models import MailState, OutgoingMail


def _mails(**filters) -> list[OutgoingMail]:
    query = select(OutgoingMail).order_by(OutgoingMail.id)
    for key, value in filters.items():
        query = query.where(getattr(OutgoingMail, key) == value)
    return list(db.session.scalars(query))


def _to(address: str) -> list[OutgoingMail]:
    return [m for m in _mails() if m.recipient == address]


def _beijing(text: str) -> datetime:
    return datetime.fromisoformat(text) - timedelta(hours=8)


class Sink:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        return "250 OK"

    def parsed(self):
        return [
            email.message_from_bytes(e.original_content, policy=email.policy.default)
            for e in self.envelopes
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free port, stopped at the end of the test."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, sink
    controller.stop()


def _quiet(*_args) -> None:
    pass


# ---------------------------------------------------------------------------------------------
# Events → outbox rows, in the event's transaction


def test_approval_queues_one_mail_to_the_author(make_message, citizen):
    """approve → the author is told; the row is queued, keyed on the event, with a link."""
    message = make_message("approved")
    mails = _to(citizen.email)
    kinds = [m.kind for m in mails]
    assert kinds == ["approve:author"]
    mail = mails[0]
    assert mail.state == MailState.QUEUED and mail.attempts == 0
    assert mail.subject.startswith("【民声】") and message.code in mail.subject
    assert f"http://127.0.0.1:8000/m/{message.code}" in mail.body
    assert mail.dedupe_key.startswith("event:") and mail.about_message_id == message.id
    assert mail.mail_id.startswith("<") and mail.mail_id.endswith(">")


def test_rejection_mail_names_the_reason(make_message, citizen):
    """reject → the author's mail carries the published reason."""
    make_message("rejected")
    (mail,) = _to(citizen.email)
    assert mail.kind == "reject:author"
    assert "原因" in mail.body and "未通过审核" in mail.subject


def test_assignment_tells_author_the_deadline_and_the_units_handlers(
    make_message, citizen, handler, make_user, app
):
    """assign → the author gets the due date; every handler of the unit and its address too."""
    other = make_user(Role.HANDLER, unit_code="330100-zj")
    make_user(Role.HANDLER, unit_code="330100-jt")  # another unit hears nothing
    zj = unit("330100-zj")
    zj.email = "office@zj.example.gov.cn"
    db.session.commit()
    app.config["BASE_URL"] = "https://ms.example.cn/"
    message = make_message("assigned")
    clock = db.session.scalar(
        select(Clock).where(Clock.message_id == message.id, Clock.policy == "board_reply_long")
    )
    (author_mail,) = [m for m in _to(citizen.email) if m.kind == "assign:author"]
    assert clock.due_on.isoformat() in author_mail.body
    assert "杭州市住房和城乡建设局" in author_mail.body
    staff = [m for m in _mails() if m.kind == "assign:handlers"]
    assert sorted(m.recipient for m in staff) == sorted(
        [handler.email, other.email, "office@zj.example.gov.cn"]
    )
    assert all(f"https://ms.example.cn/desk/m/{message.code}" in m.body for m in staff)


def test_staff_mails_mask_personal_data_the_author_sees_it(make_message, citizen, handler):
    """A phone number in the title is the author's to see; the unit's mail masks it."""
    message = make_message("assigned", title="请回电13912345678商量物业费")
    author_mail = next(m for m in _to(citizen.email) if m.kind == "assign:author")
    staff_mail = next(m for m in _to(handler.email) if m.kind == "assign:handlers")
    assert "13912345678" in author_mail.body
    assert "13912345678" not in staff_mail.body and "请回电" in staff_mail.body
    assert message.code in staff_mail.body


def test_a_rolled_back_service_queues_nothing(make_message, handler):
    """A refused action leaves no mail behind (the mail lives in the event's transaction)."""
    message = make_message("approved")
    before = len(_mails())
    with pytest.raises(Exception):  # noqa: B017,PT011 (PermissionDenied: a handler cannot assign)
        msg.assign_message(message, unit("330100-zj"), handler, now=T0 + timedelta(hours=5))
    db.session.rollback()
    assert len(_mails()) == before


def test_dissatisfied_rating_tells_the_coordinators(make_message, citizen, coordinator):
    """rate with a composite below 2.5 → the board's coordinators hear of it; a good one not."""
    good = make_message("closed")
    assert not [m for m in _to(coordinator.email) if m.kind == "rate:coordinators"]
    bad = make_message("replied")
    rate_at = T0 + timedelta(days=4)
    msg.rate_message(bad, citizen, resolution=1, attitude=2, speed=2, comment="没解决", now=rate_at)
    mails = [m for m in _to(coordinator.email) if m.kind == "rate:coordinators"]
    assert len(mails) == 1 and bad.code in mails[0].body and good.code not in mails[0].body
    assert "不满意" in mails[0].body


def test_queue_is_idempotent_per_dedupe_key(make_message, citizen):
    """Queuing a draft whose key exists adds nothing."""
    message = make_message("approved")
    draft = notify.Draft(
        recipient=citizen.email,
        kind="test",
        dedupe_key="test:once",
        template="rate_reminder",
        context={
            "message": message,
            "title": message.title,
            "clock": clocks.open_clocks(message)[0],
            "url": "x",
        },
        message=message,
    )
    assert notify.enqueue(draft, now=T0) is not None
    db.session.commit()
    assert notify.enqueue(draft, now=T0) is None
    db.session.commit()
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutgoingMail)
            .where(OutgoingMail.dedupe_key == "test:once")
        )
        == 1
    )


# ---------------------------------------------------------------------------------------------
# Reminders


def test_tick_queues_due_soon_then_overdue_once_each(make_message, handler, coordinator, app):
    """A 20-working-day reply clock: due soon in its last 3 working days, then overdue, once."""
    clocks.load_calendar_year(2026, now=T0)
    message = make_message("assigned")
    clock = db.session.scalar(
        select(Clock).where(Clock.message_id == message.id, Clock.policy == "board_reply_long")
    )
    # Assigned Monday 2026-03-02 (Beijing): 20 working days, no holiday in March → 2026-03-30.
    assert clock.due_on.isoformat() == "2026-03-30"
    early = notify.queue_reminders(now=_beijing("2026-03-20T09:00"))
    assert (early.due_soon, early.overdue, early.digests) == (0, 0, 1)  # the unit's daily list
    soon_at = _beijing("2026-03-26T09:00")  # Thu; Fri, Mon left → due soon
    first = notify.queue_reminders(now=soon_at)
    again = notify.queue_reminders(now=soon_at + timedelta(hours=3))
    assert (first.due_soon, again.due_soon) == (1, 0)
    (soon,) = [m for m in _to(handler.email) if m.kind == "due_soon"]
    assert "2026-03-30" in soon.subject
    late_at = _beijing("2026-03-31T08:00")
    late = notify.queue_reminders(now=late_at)
    assert (late.overdue, late.digests) == (1, 2)  # the office's overdue list, the unit's list
    assert notify.queue_reminders(now=late_at + timedelta(minutes=5)).total == 0
    (digest,) = [m for m in _to(coordinator.email) if m.kind == "overdue_digest"]
    assert message.code in digest.body and "超期 1 天" in digest.body
    # The next day brings a new digest, but no second overdue mail for the same clock.
    next_day = notify.queue_reminders(now=_beijing("2026-04-01T08:00"))
    assert (next_day.overdue, next_day.digests) == (0, 2)


def test_rate_reminder_goes_once_in_the_last_week_of_the_window(make_message, citizen):
    """The rating window (30 calendar days) reminds the author once, 7 days before it ends."""
    clocks.load_calendar_year(2026, now=T0)
    message = make_message("replied")
    window = db.session.scalar(
        select(Clock).where(
            Clock.message_id == message.id,
            Clock.policy == "rating_window",
            Clock.state == ClockState.OPEN,
        )
    )
    assert window is not None
    before = window.due_on - timedelta(days=8)
    assert notify.queue_reminders(now=_beijing(f"{before.isoformat()}T12:00")).rate == 0
    inside = window.due_on - timedelta(days=6)
    assert notify.queue_reminders(now=_beijing(f"{inside.isoformat()}T12:00")).rate == 1
    assert notify.queue_reminders(now=_beijing(f"{inside.isoformat()}T18:00")).rate == 0
    (mail,) = [m for m in _to(citizen.email) if m.kind == "rate_reminder"]
    assert window.due_on.isoformat() in mail.body and message.title in mail.body


# ---------------------------------------------------------------------------------------------
# Delivery


def test_tick_twice_at_the_same_now_sends_each_mail_once(make_message, app, smtp_server):
    """Real SMTP: every queued mail arrives once; a second tick at the same `now` sends nothing."""
    controller, sink = smtp_server
    app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}"
    clocks.load_calendar_year(2026, now=T0)
    make_message("assigned")
    now = _beijing("2026-03-31T08:00")
    first = tick(now, echo=_quiet)
    queued = len(_mails())
    assert first["sent"] == queued > 0 and first["deferred"] == first["failed"] == 0
    second = tick(now, echo=_quiet)
    assert second["sent"] == 0 and second["queued"] == 0
    assert len(sink.envelopes) == queued
    ids = [str(m["Message-ID"]).strip() for m in sink.parsed()]
    assert len(set(ids)) == len(ids)
    assert {m.mail_id for m in _mails()} == set(ids)
    assert all(m.state == MailState.SENT and m.sent_at == now for m in _mails())
    subjects = [m["Subject"] for m in sink.parsed()]
    assert any(s.startswith("【民声】已超期") for s in subjects)
    body = next(m for m in sink.parsed() if m["Subject"].startswith("【民声】已超期"))
    assert "请尽快办理" in body.get_content()


def test_server_down_keeps_mail_queued_and_the_next_tick_delivers(make_message, app, smtp_server):
    """Nothing listening: the mail stays queued with back-off; the server returns; all arrive."""
    controller, sink = smtp_server
    dead_port = _free_port()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{dead_port}?timeout=2"
    make_message("approved")
    queued = len(_mails())
    assert queued >= 1
    now = T0 + timedelta(hours=2)
    down = tick(now, echo=_quiet)
    assert down["sent"] == 0 and down["deferred"] == 1 and down["failed"] == 0
    rows = _mails()
    assert all(m.state == MailState.QUEUED for m in rows)
    # The server failed, not the mail: no attempt is counted and it stays due, with the error.
    (tried,) = [m for m in rows if m.last_error]
    assert "Connection" in tried.last_error or "refused" in tried.last_error.lower()
    assert all(m.attempts == 0 and m.next_attempt_at <= now for m in rows)
    # Still down: the next tick tries once more and stops again.
    assert tick(now + timedelta(minutes=1), echo=_quiet)["deferred"] == 1
    app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}"
    later = now + timedelta(minutes=2)  # the first tick after the server is back sends all
    up = tick(later, echo=_quiet)
    assert up["sent"] == queued
    assert len(sink.envelopes) == queued
    assert all(m.state == MailState.SENT for m in _mails())


class Deferring(Sink):
    """A server that accepts connections but refuses every mail for now (451)."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        return "451 4.3.0 Try again later"


def test_failed_after_max_attempts_and_admin_retry(make_message, app, admin, citizen):
    """Ten refused attempts make a mail `failed`; an admin's retry queues it again."""
    controller = Controller(Deferring(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}?timeout=5"
    make_message("approved")
    mail = _mails()[0]
    now = T0 + timedelta(hours=2)
    for _ in range(notify.MAX_ATTEMPTS):
        mail.next_attempt_at = now
        db.session.commit()
        notify.deliver(now=now)
        db.session.refresh(mail)
    controller.stop()
    assert mail.state == MailState.FAILED and mail.attempts == notify.MAX_ATTEMPTS
    assert "451" in mail.last_error
    with pytest.raises(Exception):  # noqa: B017,PT011 (PermissionDenied)
        notify.retry_mail(citizen, mail.id, now=now)
    notify.retry_mail(admin, mail.id, now=now)
    assert mail.state == MailState.QUEUED and mail.attempts == 0


def test_default_writes_eml_files(make_message, app, tmp_path, citizen):
    """Without MAIL_URL the tick writes one parseable UTF-8 .eml per mail to MAIL_DIR."""
    assert not app.config.get("MAIL_URL")
    message = make_message("approved")
    result = tick(T0 + timedelta(hours=2), echo=_quiet)
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert result["sent"] == len(files) == len(_mails()) >= 1
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    mine = [p for p in parsed if p["To"] == citizen.email]
    assert len(mine) == 1
    assert message.code in mine[0]["Subject"] and "已通过审核" in mine[0]["Subject"]
    assert message.title in mine[0].get_content()
    assert tick(T0 + timedelta(hours=3), echo=_quiet)["sent"] == 0
    assert len(list((tmp_path / "mail").glob("*.eml"))) == len(files)


def test_cli_tick_prints_a_summary(runner, make_message):
    """`flask deadlines tick --now …` runs and reports what it did; a bad --now is refused."""
    make_message("approved")
    result = runner.invoke(args=["deadlines", "tick", "--now", "2026-03-02T12:00"])
    assert result.exit_code == 0, result.output
    assert "tick at 2026-03-02T04:00:00 UTC" in result.output
    assert "reminders queued" in result.output and "sent" in result.output
    bad = runner.invoke(args=["deadlines", "tick", "--now", "yesterday"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output


def test_parse_now_reads_offsets_and_beijing_wall_time():
    """An explicit offset is honoured; a naive time is Beijing's."""
    assert parse_now("2026-03-02T09:00") == datetime(2026, 3, 2, 1, 0)
    assert parse_now("2026-03-02T01:00:00Z") == datetime(2026, 3, 2, 1, 0)
    assert parse_now("2026-03-02T03:00+02:00") == datetime(2026, 3, 2, 1, 0)


def test_smtp_url_with_credentials_and_starttls_is_parsed(app):
    """user:pass and ?starttls=1 are understood; the description hides the password."""
    app.config["MAIL_URL"] = "smtp://bot%40x.cn:s3cr%3At@mail.example.cn:587?starttls=1"
    sender = notify.transport()
    assert sender.describe() == "smtp://mail.example.cn:587"
    assert "s3cr" not in sender.describe()


def test_unit_addresses_skip_inactive_staff(make_user, directory):
    """Deactivated accounts get no mail; the unit's own address is added once."""
    active = make_user(Role.HANDLER, unit_code="330100-zj")
    gone = make_user(Role.HANDLER, unit_code="330100-zj", is_active_account=False)
    zj = db.session.scalar(select(Unit).where(Unit.code == "330100-zj"))
    zj.email = active.email.upper()
    db.session.commit()
    addresses = notify.unit_addresses(zj, Role.HANDLER)
    assert addresses == [active.email] and gone.email not in addresses


# ---------------------------------------------------------------------------------------------
# The rest of the workflow (WORKFLOW.md vocabulary)


def test_sign_off_tells_author_and_cosigners_but_not_the_draft(
    make_message, citizen, troll, coordinator, handler
):
    """reply (draft for sign-off) → the coordinators; sign_off → the author and co-signers."""
    message = make_message("in_progress")
    msg.cosign_message(message, troll, now=T0 + timedelta(days=1))
    msg.reply_message(
        message,
        handler,
        body="经核查，该小区停车收费未经备案，已责令物业公司退还多收费用。",
        now=T0 + timedelta(days=3),
    )
    awaiting = [m for m in _to(coordinator.email) if m.kind == "reply:coordinators"]
    assert len(awaiting) == 1 and "答复待签发" in awaiting[0].subject
    assert not [m for m in _mails() if m.kind.startswith("reply:") and m.recipient == citizen.email]
    msg.sign_off_reply(message, coordinator, now=T0 + timedelta(days=3, hours=1))
    (author_mail,) = [m for m in _to(citizen.email) if m.kind == "sign_off:author"]
    assert "已收到答复" in author_mail.subject
    (cosigner_mail,) = [m for m in _to(troll.email) if m.kind == "sign_off:cosigner"]
    assert message.code in cosigner_mail.body
    assert "陈明亮" not in cosigner_mail.body and "13912345678" not in cosigner_mail.body


def test_extension_request_goes_to_coordinators_approval_to_the_author(
    make_message, citizen, coordinator, handler
):
    """A handler's `extend` asks the office; the coordinator's `extend` tells the author."""
    message = make_message("in_progress")
    msg.request_extension(
        message, handler, reason="需要会同规划部门现场核查", now=T0 + timedelta(days=2)
    )
    (ask,) = [m for m in _to(coordinator.email) if m.kind == "extend:coordinators"]
    assert "延期申请" in ask.subject and "需要会同规划部门现场核查" in ask.body
    assert not [m for m in _to(citizen.email) if m.kind == "extend:author"]
    request = msg.pending_request(message)
    msg.approve_request(request, coordinator, now=T0 + timedelta(days=2, hours=2))
    (told,) = [m for m in _to(citizen.email) if m.kind == "extend:author"]
    clock = clocks.open_clock(message, clocks.ANSWER_CLOCKS)
    assert clock.due_on.isoformat() in told.body and "办理期限已延长" in told.subject


def test_return_request_and_urge(make_message, coordinator, handler):
    """`return` asks the office; `urge` presses the unit."""
    message = make_message("assigned")
    msg.request_return(
        message,
        handler,
        reason="return:not_our_duty",
        note="属规划局职责",
        now=T0 + timedelta(hours=5),
    )
    assert [m.kind for m in _to(coordinator.email)] == ["return:coordinators"]
    other = make_message("assigned")
    msg.urge_message(other, coordinator, note="请于本周内答复", now=T0 + timedelta(days=5))
    (urge,) = [m for m in _to(handler.email) if m.kind == "urge:handlers"]
    assert "督办" in urge.subject and "请于本周内答复" in urge.body


def test_tick_closes_lapsed_messages(make_message, app):
    """The tick closes a replied message whose rating window lapsed (core's service)."""
    message = make_message("replied")
    result = tick(T0 + timedelta(days=40), echo=_quiet)
    assert result["closed"] == 1
    db.session.refresh(message)
    assert message.state == "closed"
    assert tick(T0 + timedelta(days=40), echo=_quiet)["closed"] == 0


def test_review_request_goes_to_the_review_body_and_its_decision_to_the_author(
    make_message, make_user, citizen
):
    """request_review → coordinators of the review unit; decide_review → the petitioner."""
    from board.models import Track

    message = make_message(
        "replied", track=Track.PETITION, kind="claim", address="浙江省杭州市西湖区文三路 1 号"
    )
    review_unit = msg.review_unit_for(message)
    reviewer = make_user(Role.COORDINATOR, unit_code=review_unit.code)
    msg.request_review(
        message, citizen, body="处理意见未考虑小区业主大会的决议。", now=T0 + timedelta(days=5)
    )
    (asked,) = [m for m in _to(reviewer.email) if m.kind == "request_review:review"]
    assert "复查申请" in asked.subject and message.code in asked.body
    msg.decide_review(
        message,
        reviewer,
        body="经复查，原处理意见事实清楚，予以维持。",
        outcome="explained",
        now=T0 + timedelta(days=9),
    )
    (decided,) = [m for m in _to(citizen.email) if m.kind == "decide_review:author"]
    assert "复查意见已作出" in decided.subject


def test_a_claimed_mail_is_not_sent_twice_and_a_dead_senders_claim_expires(
    make_message, app, smtp_server
):
    """Two senders at once: the row one claimed is skipped by the other; after the lease, sent."""
    controller, sink = smtp_server
    app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}"
    make_message("approved")
    (mail,) = _mails()
    now = T0 + timedelta(hours=2)
    assert notify._claim(mail.id, now)  # another sender took it… and died
    assert not notify._claim(mail.id, now)
    assert notify.deliver(now=now).sent == 0
    assert notify.deliver(now=now + notify.CLAIM_LEASE).sent == 1
    assert len(sink.envelopes) == 1
    assert notify.deliver(now=now + 2 * notify.CLAIM_LEASE).sent == 0


def test_unit_digest_once_a_day_from_the_digest_hour(make_message, handler, coordinator):
    """Each unit gets one list of its running cases a day, not before 08:00 Beijing time."""
    clocks.load_calendar_year(2026, now=T0)
    message = make_message("assigned")
    assert notify.queue_reminders(now=_beijing("2026-03-27T07:59")).digests == 0
    assert notify.queue_reminders(now=_beijing("2026-03-27T08:00")).digests == 1
    assert notify.queue_reminders(now=_beijing("2026-03-27T17:00")).digests == 0
    (digest,) = [m for m in _to(handler.email) if m.kind == "unit_digest"]
    assert message.code in digest.body and "即将到期" in digest.body
    assert "2026-03-30" in digest.body and "/desk/handler" in digest.body
    assert not [m for m in _to(coordinator.email) if m.kind == "unit_digest"]


class RefusingSink(Sink):
    """Refuses one address, accepts the others."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("nobody"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_address_fails_alone_and_the_rest_is_sent(make_message, app, make_user):
    """550 for one recipient: that mail is `failed` at once; the next one in the run arrives."""
    sink = RefusingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}"
        nobody = make_user(Role.CITIZEN, email="nobody@example.org")
        make_message("approved", author=nobody)
        make_message("approved")
        result = notify.deliver(now=T0 + timedelta(hours=2))
    finally:
        controller.stop()
    assert (result.sent, result.failed) == (1, 1)
    (refused,) = _to("nobody@example.org")
    assert refused.state == MailState.FAILED and "550" in refused.last_error
    assert len(sink.envelopes) == 1


def test_a_misconfigured_mail_url_defers_instead_of_failing(make_message, app):
    """An unknown scheme is an operator's mistake: the mail waits, and is sent once it is fixed."""
    app.config["MAIL_URL"] = "smtpx://mail.example.cn"
    make_message("approved")
    result = notify.deliver(now=T0 + timedelta(hours=2))
    assert (result.sent, result.deferred, result.failed) == (0, 1, 0)
    (mail,) = _mails()
    assert mail.state == MailState.QUEUED and "smtp:// or smtps://" in mail.last_error
    app.config["MAIL_URL"] = None
    assert notify.deliver(now=T0 + timedelta(hours=3)).sent == 1


# ---------------------------------------------------------------------------------------------
# At most once where SMTP allows it: the journal of accepted mails


class Crash(BaseException):
    """The process dies here (not an Exception: nothing in the app catches it)."""


def test_a_crash_after_the_server_accepted_a_mail_does_not_send_it_again(
    make_message, app, smtp_server, monkeypatch
):
    """The sender dies between the server's 250 and recording the send: the row stays
    queued under its claim, but the journal names it; the next run records it and does not
    send it again, even once the claim has run out."""
    controller, sink = smtp_server
    app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}"
    make_message("approved")
    (mail,) = _mails()
    now = T0 + timedelta(hours=2)

    def die(*_args, **_kwargs):
        raise Crash()

    monkeypatch.setattr(delivery, "_record_sent", die)
    with pytest.raises(Crash):
        notify.deliver(now=now)
    monkeypatch.undo()
    assert len(sink.envelopes) == 1
    db.session.rollback()
    db.session.refresh(mail)
    assert mail.state == MailState.QUEUED  # the database never heard of the send
    assert [e[0] for e in notify.journal().entries()] == [mail.id]
    later = notify.deliver(now=now + notify.CLAIM_LEASE)
    assert later.recovered == 1 and later.sent == 0
    db.session.refresh(mail)
    assert mail.state == MailState.SENT and mail.sent_at == now
    assert len(sink.envelopes) == 1
    assert notify.journal().entries() == []


def test_a_database_gone_after_acceptance_does_not_send_the_mail_again(
    make_message, app, smtp_server, monkeypatch
):
    """The database stays unreachable after the server accepted a mail: the run ends with the
    error, the journal keeps the mail, and the run after records it without sending."""
    controller, sink = smtp_server
    app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}"
    make_message("approved")
    (mail,) = _mails()
    now = T0 + timedelta(hours=2)
    original = notify._record_sent

    def unreachable(mail_id, at, tries=3):
        raise OperationalError("UPDATE mail_outbox", {}, Exception("server closed the connection"))

    monkeypatch.setattr(delivery, "_record_sent", unreachable)
    with pytest.raises(OperationalError):
        notify.deliver(now=now)
    monkeypatch.setattr(delivery, "_record_sent", original)
    db.session.rollback()
    assert notify.deliver(now=now + notify.CLAIM_LEASE).recovered == 1
    assert len(sink.envelopes) == 1
    db.session.refresh(mail)
    assert mail.state == MailState.SENT


@pytest.mark.postgres
def test_connections_dropped_as_the_server_accepts_are_survived(make_message, app, database):
    """The database terminates our connections at the moment the SMTP server accepts: the
    send is recorded on a fresh connection, once."""
    if not database.startswith("postgresql"):
        pytest.skip("terminating connections is a PostgreSQL fault")
    name = database.rsplit("/", 1)[1]
    admin_url = database.replace("postgresql+psycopg://", "postgresql://", 1)

    class Dropping(Sink):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
            return await super().handle_DATA(server, session, envelope)

    sink = Dropping()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        app.config["MAIL_URL"] = f"smtp://{controller.hostname}:{controller.port}"
        make_message("approved")
        now = T0 + timedelta(hours=2)
        assert notify.deliver(now=now).sent == 1
        db.session.rollback()
        assert [m.state for m in _mails()] == [MailState.SENT]
        assert notify.deliver(now=now + notify.CLAIM_LEASE).sent == 0
        assert len(sink.envelopes) == 1
    finally:
        controller.stop()


def test_one_delivery_run_per_node_at_a_time(make_message, app):
    """A second tick of the same node while one delivers does nothing (the journal has one
    writer); rows of other nodes are kept apart by their claims."""
    make_message("approved")
    with notify.delivery_lock() as held:
        assert held
        busy = notify.deliver(now=T0 + timedelta(hours=2))
        assert busy.busy and busy.sent == 0
    assert notify.deliver(now=T0 + timedelta(hours=2)).sent == 1


def test_tick_every_runs_on_the_real_clock_only(runner):
    """`flask deadlines tick --every N` (make run) refuses a pretended --now."""
    result = runner.invoke(args=["deadlines", "tick", "--every", "5", "--now", "2026-03-02T09:00"])
    assert result.exit_code != 0 and "--every runs on the real clock" in result.output


def test_event_listeners_are_installed_by_create_app_not_at_import(app):
    """Importing the notify package changes no session class; create_app installs the hooks on
    the app's own session class (once, however often it is called)."""
    from sqlalchemy import event as sa_event
    from sqlalchemy.orm import Session

    from board.notify import events

    session_class = db.session.session_factory.class_
    assert session_class is not Session
    assert not sa_event.contains(Session, "after_flush", events._remember_events)
    assert sa_event.contains(session_class, "after_flush", events._remember_events)
    assert sa_event.contains(session_class, "after_soft_rollback", events._forget_rolled_back)
    events.install(session_class)  # idempotent
    assert sa_event.contains(session_class, "after_commit", events._forget_committed)
