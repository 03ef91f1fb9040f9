"""Joining duplicates in one step (DESIGN: duplicates): the same person on the same matter is
merged — the later message is closed into the earlier one and its co-signs move over; many
people on one matter are linked — both stay in handling and their pages point at each other.

Both are workflow actions (`merge`, `link` in board/workflow/steps.py): the coordinator of the
message's board or an admin takes them; the events on both timelines and the `message_link` row
keep who did it and when."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select

from .. import workflow
from ..calendar import services as clocks
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..messages import services as msg
from ..messages.events import commit, record, transition
from ..models import PUBLIC_STATES, Cosign, Kind, Message, User
from ..search import outbox
from ..workflow import Action
from .models import LinkKind, MessageLink


def find_other(actor: User, code: str) -> Message:
    """The message named by `code`, if the actor may read it (else NotFound, as for a bad code)."""
    code = (code or "").strip().upper()
    found = db.session.scalar(select(Message).where(Message.code == code)) if code else None
    if found is None or not msg.can_view(actor, found):
        raise NotFound()
    return found


def links_of(message: Message) -> list[MessageLink]:
    """Every link the message has, in either direction, oldest first."""
    return list(
        db.session.scalars(
            select(MessageLink)
            .where(or_(MessageLink.message_id == message.id, MessageLink.other_id == message.id))
            .order_by(MessageLink.id)
        )
    )


def merged_into(message: Message) -> Message | None:
    """The message this one was merged into, if it was."""
    link = db.session.scalar(
        select(MessageLink).where(
            MessageLink.message_id == message.id, MessageLink.kind == LinkKind.MERGE
        )
    )
    return db.session.get(Message, link.other_id) if link is not None else None


def _refuse(text: str) -> None:
    raise ValidationFailed(fields={"other": [text]})


def _already_joined(a: Message, b: Message) -> bool:
    return (
        db.session.scalar(
            select(MessageLink.id).where(
                or_(
                    (MessageLink.message_id == a.id) & (MessageLink.other_id == b.id),
                    (MessageLink.message_id == b.id) & (MessageLink.other_id == a.id),
                )
            )
        )
        is not None
    )


def _later_first(a: Message, b: Message) -> tuple[Message, Message]:
    """The two messages, the later written first (ties: the higher id)."""
    return (a, b) if (a.created_at, a.id) > (b.created_at, b.id) else (b, a)


def _join(later: Message, earlier: Message, kind: LinkKind, actor: User, *, now: datetime) -> None:
    """Keep who joined the later message to the earlier one, how and when."""
    db.session.add(
        MessageLink(
            message_id=later.id, other_id=earlier.id, kind=kind, actor_id=actor.id, created_at=now
        )
    )


def merge_duplicate(message: Message, other: Message, actor: User, *, now: datetime) -> Message:
    """Merge two messages of the same author on the same board: the later one (which must not be
    assigned yet) is closed into the earlier one, which takes its co-signs. Returns the earlier."""
    later, earlier = _later_first(message, other)
    workflow.check(Action.MERGE, actor, later, now=now)
    if not msg.can_view(actor, earlier):
        raise NotFound()
    if message.id == other.id:
        _refuse(_("不能与自身合并。"))
    if later.author_id is None or later.author_id != earlier.author_id:
        _refuse(_("只能合并同一留言人反映同一事项的留言。"))
    if later.board_id != earlier.board_id or Kind.REPORT in (later.kind, earlier.kind):
        _refuse(_("只能合并同一留言板上的留言（检举控告不合并）。"))
    if earlier.state not in PUBLIC_STATES or merged_into(earlier) is not None:
        _refuse(_("要合并到的留言必须仍在办理或已办结，且本身没有被合并。"))
    if _already_joined(later, earlier):
        _refuse(_("这两条留言已经关联或合并过。"))
    note = _("同一留言人反映的同一事项，已合并到 %(code)s 一并办理。", code=earlier.code)
    event = transition(later, Action.MERGE, actor, now=now, note=note)
    clocks.advance(later, event, now=now, close=None)
    record(
        earlier,
        Action.MERGE,
        actor,
        now=now,
        note=_("%(code)s 与本留言是同一事项，已合并到本留言办理。", code=later.code),
        is_public=later.is_public,
    )
    signers = set(db.session.scalars(select(Cosign.user_id).where(Cosign.message_id == earlier.id)))
    for cosign in list(db.session.scalars(select(Cosign).where(Cosign.message_id == later.id))):
        if cosign.user_id in signers or cosign.user_id == earlier.author_id:
            db.session.delete(cosign)
        else:
            cosign.message_id = earlier.id
            signers.add(cosign.user_id)
            earlier.cosign_count = (earlier.cosign_count or 0) + 1
    later.cosign_count = 0
    _join(later, earlier, LinkKind.MERGE, actor, now=now)
    outbox.enqueue(later)
    outbox.enqueue(earlier)
    commit(later)
    return earlier


def link_duplicate(message: Message, other: Message, actor: User, *, now: datetime) -> Message:
    """Link a message to another one on the same matter (any author, any board the actor may
    read): both stay in handling; both timelines say so."""
    workflow.check(Action.LINK, actor, message, now=now)
    if not msg.can_view(actor, other):
        raise NotFound()
    if message.id == other.id:
        _refuse(_("不能与自身关联。"))
    if other.state not in PUBLIC_STATES or Kind.REPORT in (message.kind, other.kind):
        _refuse(_("只能关联已受理的留言（检举控告不关联）。"))
    if _already_joined(message, other):
        _refuse(_("这两条留言已经关联或合并过。"))
    later, earlier = _later_first(message, other)
    for one, two in ((message, other), (other, message)):
        note = _("与 %(code)s 反映的是同一事项。", code=two.code)
        record(
            one, Action.LINK, actor, now=now, note=note, is_public=one.is_public and two.is_public
        )
    _join(later, earlier, LinkKind.LINK, actor, now=now)
    return commit(message)
