"""Delivery of the outbox: SMTP or .eml files, claimed rows, back-off, and a journal of sends.

Delivery claims a row before sending it, so several ticks running at once never send a mail
twice, and a failed attempt leaves the row queued with a growing back-off: nothing is lost.
"""

from __future__ import annotations

import fcntl
import os
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.exc import DBAPIError

from ..clock import to_local
from ..extensions import db
from .models import MailState, OutgoingMail
from .outbox import unsubscribe_link

MAX_ATTEMPTS = 10  # then the mail is `failed` and waits for an admin's retry
MAX_BACKOFF = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=10)  # a sender that died mid-send frees its rows after this

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
    # RFC 2369 / RFC 8058: mail clients offer a one-click unsubscribe that POSTs to the link.
    message["List-Unsubscribe"] = f"<{unsubscribe_link(mail.recipient, mail.kind)}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
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


# Mail to the address of an account being deleted (the confirmation that it is): once the
# server accepted it, the row keeps neither the address nor the text (docs/accounts.md).
ERASE_WHEN_SENT = frozenset({"account_deleted"})


def _forget_erased_recipient(mail_id: int) -> None:
    """Blank the address and text of a sent mail of an ERASE_WHEN_SENT kind (the caller's
    transaction)."""
    db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.kind.in_(ERASE_WHEN_SENT),
            OutgoingMail.state == MailState.SENT,
        )
        .values(recipient="", body="")
    )


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
        _forget_erased_recipient(mail_id)
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
            _forget_erased_recipient(mail_id)
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
