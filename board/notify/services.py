"""Notifications (DESIGN §8): who hears of which event, the mail outbox, and its delivery.

Mail rows are queued in the transaction that writes the event (`queue_event_mail`, called by the
workflow's `_commit`), so a notification exists exactly when its event does. Reminders come from
`flask deadlines tick` with dedupe keys such as `overdue:{clock_id}:{due_on}`. Delivery claims a
row before sending it, so several ticks running at once never send a mail twice, and a failed
attempt leaves the row queued with a growing back-off: nothing is lost.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import smtplib
import ssl
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from sqlalchemy import Select, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ..clock import local_date, to_local
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..models import Board, Clock, ClockState, Cosign, Event, Message, Rating, Role, Unit, User
from ..privacy import mask_pen_name, public_text
from .models import MailState, OutgoingMail

MAX_ATTEMPTS = 10  # then the mail is `failed` and waits for an admin's retry
MAX_BACKOFF = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=10)  # a sender that died mid-send frees its rows after this
RATE_REMINDER_DAYS = 7  # remind the author this many days before the rating window ends
WINDOW_NOTICE_DAYS = 7  # …and before a review / re-review request window ends
HANDLER_DUTIES = frozenset(
    {"board_reply_short", "board_reply_long", "petition_acceptance", "petition_handling"}
)
REVIEW_WINDOWS = frozenset({"petition_review_request", "petition_rereview_request"})
# Clocks whose moved due date a unit's handlers hear of (their own duties), and clocks only the
# handling side watches (the author is not told when these move).
CLOCK_HANDLER_POLICIES = HANDLER_DUTIES | {"board_return"}
STAFF_ONLY_CLOCKS = frozenset({"board_moderation", "board_assignment", "board_return"})

# Event action → who hears of it. Audience names: author, cosigners, handlers, coordinators,
# review (coordinators of the message's review unit).
AUTHOR_ACTIONS = frozenset(
    {
        "approve",
        "reject",
        "assign",
        "accept",
        "not_accept",
        "sign_off",
        "decide_review",
        "decide_rereview",
        "refuse_repeat",
        "hearing",
    }
)
HANDLER_ACTIONS = frozenset(
    {
        "assign",
        "transfer",
        "urge",
        "reopen",
        "follow_up",
        # the unit's own draft and requests, decided by the office
        "decline_sign_off",
        "return_declined",
        "extension_declined",
    }
)
COORDINATOR_ACTIONS = frozenset({"return", "reply"})
REVIEW_ACTIONS = frozenset({"request_review", "request_rereview"})


# ---------------------------------------------------------------------------------------------
# Addresses


def unit_addresses(unit: Unit | None, role: str) -> list[str]:
    """The active staff of a unit with the role, and the unit's own address if it has one."""
    if unit is None:
        return []
    emails = db.session.scalars(
        select(User.email)
        .where(User.unit_id == unit.id, User.role == role, User.is_active_account.is_(True))
        .order_by(User.id)
    ).all()
    if unit.email:
        emails.append(unit.email)
    return _unique(emails)


def _unique(emails: Iterable[str | None]) -> list[str]:
    seen: dict[str, str] = {}
    for email in emails:
        if email and email.strip() and email.strip().lower() not in seen:
            seen[email.strip().lower()] = email.strip()
    return list(seen.values())


def _author_address(message: Message) -> list[str]:
    author = message.author
    if author is None or not author.is_active_account:
        return []
    return [author.email]


def _cosigner_addresses(message: Message) -> list[str]:
    return _unique(
        db.session.scalars(
            select(User.email)
            .join(Cosign, Cosign.user_id == User.id)
            .where(
                Cosign.message_id == message.id,
                User.is_active_account.is_(True),
                User.id != (message.author_id or 0),
            )
            .order_by(Cosign.id)
        )
    )


def _office_of(message: Message) -> Unit | None:
    board: Board | None = message.board
    return board.office_unit if board is not None else None


# ---------------------------------------------------------------------------------------------
# Rendering


def _base_url() -> str:
    return str(current_app.config.get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/")


def link(path: str) -> str:
    """An absolute link for a mail (mails leave the request, so url_for cannot know the host)."""
    return _base_url() + path


@dataclass
class Draft:
    """A mail about to be queued."""

    recipient: str
    kind: str
    dedupe_key: str
    template: str
    context: dict
    message: Message | None = None


def render(template: str, **context) -> tuple[str, str]:
    """(subject, body) from `mail/<template>.txt`: the first line is the subject."""
    text = render_template(f"mail/{template}.txt", base_url=_base_url(), **context)
    subject, _, body = text.lstrip("\n").partition("\n")
    return subject.strip()[:200], body.strip("\n") + "\n"


def _domain() -> str:
    sender = str(current_app.config.get("MAIL_SENDER") or "")
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rpartition("@")[2] or "minsheng.local"


def enqueue(draft: Draft, *, now: datetime) -> OutgoingMail | None:
    """Add a mail to the outbox unless one with its dedupe key exists; in the caller's transaction.

    A concurrent insert of the same key (another tick) loses on the unique constraint inside a
    savepoint, so the caller's transaction carries on.
    """
    exists = db.session.scalar(
        select(OutgoingMail.id).where(OutgoingMail.dedupe_key == draft.dedupe_key)
    )
    if exists is not None or any(
        isinstance(o, OutgoingMail) and o.dedupe_key == draft.dedupe_key for o in db.session.new
    ):
        return None
    subject, body = render(draft.template, **draft.context)
    mail = OutgoingMail(
        recipient=draft.recipient,
        subject=subject,
        body=body,
        mail_id=make_msgid(idstring=secrets.token_hex(6), domain=_domain()),
        kind=draft.kind,
        dedupe_key=draft.dedupe_key[:200],
        about_message=draft.message,
        state=MailState.QUEUED,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(mail)
    except IntegrityError:
        return None
    return mail


# ---------------------------------------------------------------------------------------------
# Events → mails (called inside the workflow's transaction)


def _latest_rating(message: Message) -> Rating | None:
    fresh = [o for o in db.session.new if isinstance(o, Rating) and o.message is message]
    if fresh:
        return fresh[-1]
    rating = getattr(message, "rating", None)
    return rating


def _provisional_years(event: Event) -> list[int]:
    """The years without an official schedule that the due date an event set rests on."""
    if event.due_on is None:
        return []
    from ..calendar import services as clocks

    for clock in clocks.open_clocks(event.message):
        if clock.due_on == event.due_on:
            return clock.provisional_year_list
    return []


def _drafts_for(event: Event) -> list[Draft]:
    """The mails an event causes (DESIGN §8)."""
    message = event.message
    action = event.action
    actor = event.actor
    drafts: list[Draft] = []
    title_public = public_text(message, message.title)
    context = {
        "event": event,
        "message": message,
        "title": title_public,
        "due_on": event.due_on,
        "note": event.note or "",
        "provisional_years": _provisional_years(event),
    }

    def add(addresses: Iterable[str], audience: str, template: str, **extra) -> None:
        for address in addresses:
            drafts.append(
                Draft(
                    recipient=address,
                    kind=f"{action}:{audience}",
                    dedupe_key=f"event:{event.id}:{audience}:{address.lower()}",
                    template=template,
                    context={**context, **extra, "audience": audience},
                    message=message,
                )
            )

    staff_link = link(f"/desk/m/{message.code}")
    author_link = link(f"/m/{message.code}")
    # The author reads their own words unmasked; everybody else gets the public text.
    author_ctx = {"title": message.title, "url": author_link}
    if action in AUTHOR_ACTIONS or (action == "extend" and not _is_handler(actor)):
        add(_author_address(message), "author", "author_event", **author_ctx)
    if action == "sign_off":
        add(_cosigner_addresses(message), "cosigner", "cosigner_replied", url=author_link)
    if action in HANDLER_ACTIONS:
        add(unit_addresses(message.unit, Role.HANDLER), "handlers", "staff_event", url=staff_link)
    coordinators = False
    if action in COORDINATOR_ACTIONS or (action == "extend" and _is_handler(actor)):
        coordinators = True
    if action == "rate":
        rating = _latest_rating(message)
        coordinators = bool(rating is not None and rating.is_dissatisfied)
        context["rating"] = rating
    if coordinators:
        add(
            unit_addresses(_office_of(message), Role.COORDINATOR),
            "coordinators",
            "staff_event",
            url=staff_link,
        )
    if action in REVIEW_ACTIONS:
        add(
            unit_addresses(getattr(message, "review_unit", None), Role.COORDINATOR),
            "review",
            "staff_event",
            url=staff_link,
        )
    from ..follow import services as follow_hooks  # followers (关注) hear of answers and closing

    drafts += follow_hooks.follower_drafts(event, {d.recipient.strip().lower() for d in drafts})
    return drafts


def queue_clock_moved_mail(event: Event, clock: Clock, *, previous_on: date) -> int:
    """Tell the author and the unit's handlers that a calendar change moved a due date.

    In the caller's transaction (the recompute that wrote `event`, already flushed). The author
    hears of the clocks that bind the handling side to them and of their own windows; handlers
    of their unit's duties. Returns how many mails were queued.
    """
    from ..calendar import services as clocks

    message = clock.message
    drafts: list[Draft] = []

    def add(addresses: Iterable[str], audience: str, title: str, path: str) -> None:
        for address in addresses:
            drafts.append(
                Draft(
                    recipient=address,
                    kind=f"clock_moved:{audience}",
                    dedupe_key=f"event:{event.id}:{audience}:{address.lower()}",
                    template="clock_moved",
                    context={
                        "message": message,
                        "clock": clock,
                        "policy_label": clocks.label_for(clock.policy),
                        "previous_on": previous_on,
                        "provisional_years": clock.provisional_year_list,
                        "audience": audience,
                        "title": title,
                        "url": link(path),
                    },
                    message=message,
                )
            )

    if clock.policy not in STAFF_ONLY_CLOCKS:
        # The author reads their own words unmasked.
        add(_author_address(message), "author", message.title, f"/m/{message.code}")
    if clock.policy in CLOCK_HANDLER_POLICIES:
        add(
            unit_addresses(message.unit, Role.HANDLER),
            "handlers",
            public_text(message, message.title),
            f"/desk/m/{message.code}",
        )
    return sum(1 for draft in drafts if enqueue(draft, now=event.created_at) is not None)


def _is_handler(user: User | None) -> bool:
    return bool(user is not None and user.role == Role.HANDLER)


_PENDING = "notify_new_events"


@sa_event.listens_for(Session, "after_flush")
def _remember_events(session: Session, _context) -> None:
    """Events flushed early (autoflush) leave `session.new`: remember them until the commit."""
    fresh = [o for o in session.new if isinstance(o, Event)]
    if fresh:
        session.info.setdefault(_PENDING, []).extend(fresh)


@sa_event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    session.info.pop(_PENDING, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    """A rolled-back transaction's events are gone; a savepoint's rollback keeps the outer's."""
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def queue_event_mail() -> int:
    """Queue the mails of every Event new in this transaction; call right before the commit."""
    session = db.session()
    pending = [o for o in session.new if isinstance(o, Event)]
    if not pending and not session.info.get(_PENDING):
        return 0
    session.flush()  # event ids for the dedupe keys
    events = {id(e): e for e in session.info.pop(_PENDING, []) if e.id is not None}
    if not events:
        return 0
    queued = 0
    for event in sorted(events.values(), key=lambda e: e.id):
        for draft in _drafts_for(event):
            if enqueue(draft, now=event.created_at) is not None:
                queued += 1
    return queued


# ---------------------------------------------------------------------------------------------
# Reminders (flask deadlines tick)


@dataclass
class ReminderCounts:
    """What one tick queued."""

    due_soon: int = 0
    overdue: int = 0
    rate: int = 0
    window: int = 0
    digests: int = 0

    @property
    def total(self) -> int:
        """All mails queued."""
        return self.due_soon + self.overdue + self.rate + self.window + self.digests


def _open_clocks(query: Select) -> list[Clock]:
    return list(db.session.scalars(query))


def queue_reminders(*, now: datetime) -> ReminderCounts:
    """Queue due-soon, overdue, rating and window reminders, and the daily digests.

    Digests (the coordinators' overdue list, each unit's running cases) go out once a day, from
    MAIL_DIGEST_HOUR (Beijing time, default 8) on.

    Each is keyed on the clock and its current due date, so however often this runs a reminder
    goes out once — and once more only if an extension or a calendar change moved the date.
    Commits.
    """
    from ..calendar import services as clocks

    counts = ReminderCounts()
    today = local_date(now)
    for clock in _open_clocks(clocks.due_soon(now)):
        if clock.policy in HANDLER_DUTIES and clock.message.unit is not None:
            counts.due_soon += _queue_clock(clock, "due_soon", now, today)
    overdue_clocks = _open_clocks(clocks.overdue(now))
    for clock in overdue_clocks:
        if clock.policy in HANDLER_DUTIES and clock.message.unit is not None:
            counts.overdue += _queue_clock(clock, "overdue", now, today)
    window_start = today + timedelta(days=RATE_REMINDER_DAYS)
    citizen_windows = select(Clock).where(
        Clock.state == ClockState.OPEN,
        Clock.policy.in_({"rating_window"} | REVIEW_WINDOWS),
        Clock.due_on >= today,
        Clock.due_on <= window_start,
    )
    for clock in _open_clocks(citizen_windows.order_by(Clock.due_on, Clock.id)):
        kind = "rate_reminder" if clock.policy == "rating_window" else "window_closing"
        added = _queue_clock(clock, kind, now, today)
        if kind == "rate_reminder":
            counts.rate += added
        else:
            counts.window += added
    if to_local(now).hour >= int(current_app.config.get("MAIL_DIGEST_HOUR", 8)):
        counts.digests += _queue_digests(overdue_clocks, now, today)
        counts.digests += _queue_unit_digests(now, today)
    db.session.commit()
    return counts


def _queue_unit_digests(now: datetime, today: date) -> int:
    """Each unit's daily list of its running answer clocks, soonest first (DESIGN §8)."""
    from ..calendar import services as clocks

    soon_before = clocks.due_soon_before(now)
    rows = db.session.scalars(
        select(Clock)
        .join(Message, Clock.message_id == Message.id)
        .where(
            Clock.state == ClockState.OPEN,
            Clock.policy.in_(HANDLER_DUTIES),
            Message.unit_id.is_not(None),
        )
        .order_by(Clock.due_on, Clock.id)
    ).all()
    by_unit: dict[int, list[Clock]] = defaultdict(list)
    for clock in rows:
        by_unit[clock.message.unit_id].append(clock)
    added = 0
    for unit_id, unit_clocks in sorted(by_unit.items()):
        unit = unit_clocks[0].message.unit
        items = [
            {
                "code": c.message.code,
                "title": public_text(c.message, c.message.title),
                "policy": (
                    clocks.get_policy(c.policy).label
                    if c.policy in clocks.DEFAULT_POLICIES
                    else c.policy
                ),
                "due_on": c.due_on,
                "overdue": c.due_on < today,
                "due_soon": today <= c.due_on < soon_before,
                "provisional": c.is_provisional,
            }
            for c in unit_clocks
        ]
        for address in unit_addresses(unit, Role.HANDLER):
            draft = Draft(
                recipient=address,
                kind="unit_digest",
                dedupe_key=f"unit_digest:{unit_id}:{today.isoformat()}:{address.lower()}",
                template="unit_digest",
                context={"unit": unit, "items": items, "today": today,
                         "url": link("/desk/handler")},
            )  # fmt: skip
            if enqueue(draft, now=now) is not None:
                added += 1
    return added


def _queue_clock(clock: Clock, kind: str, now: datetime, today: date) -> int:
    message = clock.message
    if kind in ("due_soon", "overdue"):
        addresses, url = unit_addresses(message.unit, Role.HANDLER), f"/desk/m/{message.code}"
        title = public_text(message, message.title)
    else:
        addresses, url, title = _author_address(message), f"/m/{message.code}", message.title
    from ..calendar import services as clocks

    policy = clocks.get_policy(clock.policy) if clock.policy in clocks.DEFAULT_POLICIES else None
    added = 0
    for address in addresses:
        draft = Draft(
            recipient=address,
            kind=kind,
            dedupe_key=f"{kind}:{clock.id}:{clock.due_on.isoformat()}:{address.lower()}",
            template=kind,
            context={
                "message": message,
                "clock": clock,
                "title": title,
                "url": link(url),
                "policy_label": (policy.label if policy else "") or clock.policy,
                "days_left": (clock.due_on - today).days,
                "days_late": (today - clock.due_on).days,
                "provisional_years": clock.provisional_year_list,
            },
            message=message,
        )
        if enqueue(draft, now=now) is not None:
            added += 1
    return added


def _queue_digests(overdue_clocks: list[Clock], now: datetime, today: date) -> int:
    """One overdue digest a day for each office whose boards have overdue clocks."""
    by_office: dict[int, list[Clock]] = defaultdict(list)
    offices: dict[int, Unit] = {}
    for clock in overdue_clocks:
        office = _office_of(clock.message)
        if office is None:
            continue
        by_office[office.id].append(clock)
        offices[office.id] = office
    from ..calendar import services as clocks

    added = 0
    for office_id, rows in sorted(by_office.items()):
        items = [
            {
                "code": c.message.code,
                "title": public_text(c.message, c.message.title),
                "unit": c.message.unit.name if c.message.unit else "",
                "policy": (
                    clocks.get_policy(c.policy).label
                    if c.policy in clocks.DEFAULT_POLICIES
                    else c.policy
                ),
                "due_on": c.due_on,
                "days_late": (today - c.due_on).days,
                "seriously": c.double_due_on < today,
            }
            for c in rows
        ]
        for address in unit_addresses(offices[office_id], Role.COORDINATOR):
            draft = Draft(
                recipient=address,
                kind="overdue_digest",
                dedupe_key=f"digest:{office_id}:{today.isoformat()}:{address.lower()}",
                template="overdue_digest",
                context={
                    "office": offices[office_id],
                    "items": items,
                    "today": today,
                    "url": link("/desk/coordinator"),
                },
            )
            if enqueue(draft, now=now) is not None:
                added += 1
    return added


# ---------------------------------------------------------------------------------------------
# Delivery


class Transport:
    """Sends EmailMessages: an SMTP connection (opened lazily) or a folder of .eml files."""

    def __init__(self, url: str | None, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self._smtp: smtplib.SMTP | None = None

    def describe(self) -> str:
        """Where mail goes, without the password."""
        if not self.url:
            return f"files in {self.folder}"
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"

    def _connect(self) -> smtplib.SMTP:
        parts = urlsplit(self.url or "")
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"MAIL_URL must be smtp:// or smtps://, not {parts.scheme}://")
        query = parse_qs(parts.query)
        timeout = float(query.get("timeout", ["10"])[0])
        host = parts.hostname or "localhost"
        if parts.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, parts.port or 465, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
            if query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes"):
                smtp.starttls(context=ssl.create_default_context())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        return smtp

    def open(self) -> None:
        """Connect (and log in) to the SMTP server if not connected yet; raises when it cannot."""
        if self.url and self._smtp is None:
            self._smtp = self._connect()

    def send(self, mail: EmailMessage, name: str) -> None:
        """Deliver one message; raises on failure."""
        if not self.url:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{name}.eml"
            partial = target.with_suffix(".eml.tmp")
            partial.write_bytes(bytes(mail))
            partial.replace(target)
            return
        if self._smtp is None:
            self._smtp = self._connect()
        self._smtp.send_message(mail)

    def close(self) -> None:
        """Say goodbye to the server, if one was used."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None


def transport() -> Transport:
    """The configured transport: SMTP when MAIL_URL is set, else .eml files in instance/mail/."""
    folder = current_app.config.get("MAIL_DIR") or str(Path(current_app.instance_path) / "mail")
    return Transport(current_app.config.get("MAIL_URL") or None, Path(folder))


def build(mail: OutgoingMail, *, now: datetime) -> EmailMessage:
    """The outbox row as an RFC 5322 message (UTF-8 plain text)."""
    message = EmailMessage()
    message["From"] = current_app.config.get("MAIL_SENDER") or "noreply@minsheng.local"
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.mail_id
    message["Date"] = format_datetime(to_local(mail.created_at or now))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Minsheng-Kind"] = mail.kind
    message.set_content(mail.body, charset="utf-8")
    return message


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes (MAIL_RETRY_SECONDS doubled) after each failed attempt, at most six
    hours."""
    base = float(current_app.config.get("MAIL_RETRY_SECONDS") or 60)
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim_lease() -> timedelta:
    """How long a claimed row stays with its sender (MAIL_CLAIM_SECONDS): a sender that died
    mid-send frees its row after this."""
    seconds = current_app.config.get("MAIL_CLAIM_SECONDS")
    return CLAIM_LEASE if seconds is None else timedelta(seconds=float(seconds))


@dataclass
class DeliveryCounts:
    """What one delivery run did."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    recovered: int = 0  # sent by an earlier run that died before recording it (the journal)
    busy: bool = False  # another delivery run of this node was under way: this one did nothing


class SentJournal:
    """A local file naming each mail the SMTP server accepted, written the moment it did.

    The outbox row is marked sent right after, in a short transaction of its own. If the
    process dies in between, or the database is unreachable then, the row would stay queued
    and be sent again once its lease ran out; the next delivery run reads the journal first
    and marks those rows sent instead. One line per mail: outbox id, Message-ID, time (UTC).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, mail: OutgoingMail, now: datetime) -> None:
        """Append one accepted mail and force it to disk before anything else happens."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = f"{mail.id}\t{mail.mail_id}\t{now.isoformat()}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> list[tuple[int, str, datetime]]:
        """The mails recorded since the journal was last cleared (a torn last line is skipped:
        its mail is the one whose acceptance was not recorded)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found = []
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[0].isdigit():
                try:
                    found.append((int(parts[0]), parts[1], datetime.fromisoformat(parts[2])))
                except ValueError:
                    continue
        return found

    def clear(self) -> None:
        """Forget every entry (all of them are recorded in the database now)."""
        self.path.unlink(missing_ok=True)


def journal() -> SentJournal:
    """This node's journal of accepted mails, in the instance folder."""
    return SentJournal(Path(current_app.instance_path) / "mail-sent.journal")


def recover_sent(sent: SentJournal) -> int:
    """Mark sent the queued rows the journal names (matched by id and Message-ID, so a
    restored database's reused ids are left alone); clears the journal; how many."""
    entries = sent.entries()
    recovered = 0
    for mail_id, message_id, sent_at in entries:
        result = db.session.execute(
            update(OutgoingMail)
            .where(
                OutgoingMail.id == mail_id,
                OutgoingMail.mail_id == message_id,
                OutgoingMail.state != MailState.SENT,
            )
            .values(
                state=MailState.SENT,
                sent_at=sent_at,
                attempts=OutgoingMail.attempts + 1,
                last_error="",
            )
        )
        recovered += result.rowcount
    db.session.commit()
    sent.clear()
    return recovered


def _record_sent(mail_id: int, now: datetime, tries: int = 3) -> None:
    """Mark one accepted mail sent in its own short transaction; a lost connection is retried
    at once on a fresh one (pre-ping). If the database stays away, the error ends the run and
    the journal names the mail for the next one, so it is not sent again."""
    for attempt in range(tries):
        try:
            db.session.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id == mail_id)
                .values(
                    state=MailState.SENT,
                    sent_at=now,
                    attempts=OutgoingMail.attempts + 1,
                    last_error="",
                )
            )
            db.session.commit()
            return
        except DBAPIError:
            db.session.rollback()
            if attempt == tries - 1:
                raise  # the journal still names it: the next run records it


@contextmanager
def delivery_lock() -> Iterator[bool]:
    """One delivery run per node at a time (the journal has one writer); False when another
    run holds it. Runs on other nodes are kept apart by the claims on the rows."""
    path = Path(current_app.instance_path) / "mail-delivery.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def due_mail_query(now: datetime) -> Select:
    """Queued mails whose next attempt is due, oldest first."""
    return (
        select(OutgoingMail.id)
        .where(OutgoingMail.state == MailState.QUEUED, OutgoingMail.next_attempt_at <= now)
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
    )


def _claim(mail_id: int, now: datetime) -> bool:
    """Take a row for this sender (a lease on next_attempt_at); False if another sender has it."""
    result = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.state == MailState.QUEUED,
            OutgoingMail.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + claim_lease())
    )
    db.session.commit()
    return result.rowcount == 1


def deliver(*, now: datetime, limit: int = 500) -> DeliveryCounts:
    """Send the due mails; a failure keeps the row queued with back-off (failed after 10 tries).

    A refused connection stops the run: the rest stay queued, untouched, for the next tick.
    At most once where SMTP allows it: the journal records each acceptance at once (see
    `SentJournal`); only a crash between the server's acceptance and the journal's write —
    or an answer lost on the way back — can send a mail twice (docs/notifications.md).
    """
    with delivery_lock() as held:
        if not held:
            return DeliveryCounts(busy=True)
        sent = journal()
        counts = DeliveryCounts(recovered=recover_sent(sent))
        _deliver(sent, counts, now=now, limit=limit)
        sent.clear()  # every acceptance of this run is recorded in the database now
        return counts


def _deliver(sent: SentJournal, counts: DeliveryCounts, *, now: datetime, limit: int) -> None:
    """The delivery loop of one run (see `deliver`)."""
    sender = transport()
    try:
        for mail_id in db.session.scalars(due_mail_query(now).limit(limit)).all():
            if not _claim(mail_id, now):
                continue
            mail = db.session.get(OutgoingMail, mail_id)
            try:
                sender.open()
            except (smtplib.SMTPException, OSError, ValueError) as error:
                # The server (or MAIL_URL) failed, not this mail: it stays due, without an
                # attempt counted, so everything goes at the first tick after the server is back.
                mail.next_attempt_at = now
                mail.last_error = f"{type(error).__name__}: {error}"[:2000]
                db.session.commit()
                counts.deferred += 1
                break
            try:
                sender.send(build(mail, now=now), f"{now:%Y%m%dT%H%M%S}-{mail.id:08d}")
            except (smtplib.SMTPException, OSError, ValueError) as error:
                mail.attempts += 1
                mail.last_error = f"{type(error).__name__}: {error}"[:2000]
                # A refused address will not start working; anything else (a temporary
                # refusal, a server that hung up on this mail) is retried with back-off.
                permanent = isinstance(error, smtplib.SMTPRecipientsRefused)
                if permanent or mail.attempts >= MAX_ATTEMPTS:
                    mail.state = MailState.FAILED
                    counts.failed += 1
                else:
                    mail.next_attempt_at = now + backoff(mail.attempts)
                    counts.deferred += 1
                db.session.commit()
                if not isinstance(error, smtplib.SMTPRecipientsRefused):
                    sender.close()
                    break  # the server is unreachable or misconfigured: try again next tick
                continue
            sent.record(mail, now)  # accepted: on disk before anything else can fail
            _record_sent(mail.id, now)
            counts.sent += 1
    finally:
        sender.close()


# ---------------------------------------------------------------------------------------------
# The admin's outbox page


def _require_admin(actor: User | None) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role != Role.ADMIN:
        raise PermissionDenied()


def outbox_query(actor: User, *, state: str = "") -> Select:
    """Mails for the admin page, the undelivered first (admins only)."""
    _require_admin(actor)
    query = select(OutgoingMail).order_by(OutgoingMail.id.desc())
    if state in set(MailState):
        query = query.where(OutgoingMail.state == state)
    else:
        query = query.where(OutgoingMail.state != MailState.SENT)
    return query


def outbox_counts(actor: User) -> dict[str, int]:
    """How many mails are in each state."""
    _require_admin(actor)
    from sqlalchemy import func

    rows = db.session.execute(
        select(OutgoingMail.state, func.count()).group_by(OutgoingMail.state)
    ).all()
    counts = {state.value: 0 for state in MailState}
    counts.update({state: n for state, n in rows})
    return counts


def retry_mail(actor: User, mail_id: int, *, now: datetime) -> OutgoingMail:
    """Put a failed (or waiting) mail back in the queue for the next tick; commits."""
    _require_admin(actor)
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None or mail.state == MailState.SENT:
        raise NotFound()
    mail.state = MailState.QUEUED
    mail.next_attempt_at = now
    if mail.attempts >= MAX_ATTEMPTS:
        mail.attempts = 0
    db.session.commit()
    return mail


def masked_author(message: Message) -> str:
    """The author's pen name as third parties see it."""
    return mask_pen_name(message.pen_name)
