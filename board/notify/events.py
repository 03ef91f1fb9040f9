"""Events → mails (DESIGN §8): who hears of which workflow event, queued in its transaction.

`queue_event_mail`, called by the workflow right before its commit, turns every Event new in the
transaction into mails. Events flushed early (autoflush) are remembered by session listeners,
which `install` puts on the app's session class from `create_app`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from .. import session_hooks
from ..extensions import db
from ..models import Event, Message, Rating, Role, User
from ..privacy import public_text
from .outbox import (
    Draft,
    _author_address,
    _cosigner_addresses,
    _office_of,
    enqueue,
    event_drafts,
    link,
    unit_addresses,
)

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
        drafts.extend(
            event_drafts(
                event,
                addresses,
                audience,
                kind=action,
                template=template,
                context={**context, **extra, "audience": audience},
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


def _is_handler(user: User | None) -> bool:
    return bool(user is not None and user.role == Role.HANDLER)


_PENDING = "notify_new_events"


def _remember_events(session: Session, _context) -> None:
    """Events flushed early (autoflush) leave `session.new`: remember them until the commit."""
    fresh = [o for o in session.new if isinstance(o, Event)]
    if fresh:
        session.info.setdefault(_PENDING, []).extend(fresh)


def _forget_committed(session: Session) -> None:
    """A committed transaction's events have had their mails queued."""
    session.info.pop(_PENDING, None)


def _forget_rolled_back(session: Session, previous_transaction) -> None:
    """A rolled-back transaction's events are gone; a savepoint's rollback keeps the outer's."""
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def install(session_class: type[Session]) -> None:
    """Remember early-flushed events in every session of this class (idempotent; create_app)."""
    session_hooks.listen(
        session_class,
        {
            "after_flush": _remember_events,
            "after_commit": _forget_committed,
            "after_soft_rollback": _forget_rolled_back,
        },
    )


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
