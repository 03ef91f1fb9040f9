"""PIPL art. 45: a person's own data, as one JSON document (`/account/export`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select

from ..extensions import db
from ..follow.models import Follow, SavedSearch
from ..models import Cosign, Event, Message, Rating, User
from ..models.accounts import UserSession
from ..notify.preferences import opted_out


def _when(value: date | datetime | None) -> str | None:
    """ISO 8601 (naive UTC for times, as stored)."""
    return value.isoformat() if value is not None else None


def export_data(user: User, *, now: datetime) -> dict[str, Any]:
    """Everything the platform keeps about `user` that is theirs to see: the profile, their
    messages (private parts included), the public history of those messages and their own
    actions on them, ratings, co-signs, follows, saved searches, mail choices and signed-in sessions. Staff's internal
    notes are not the person's data and stay out."""
    messages = db.session.scalars(
        select(Message).where(Message.author_id == user.id).order_by(Message.id)
    ).all()
    ids = [m.id for m in messages]
    events = db.session.scalars(
        select(Event)
        .where(
            Event.message_id.in_(ids) if ids else Event.id.is_(None),
            or_(Event.is_public.is_(True), Event.actor_id == user.id),
        )
        .order_by(Event.id)
    ).all()
    codes = {m.id: m.code for m in messages}
    ratings = db.session.scalars(
        select(Rating).where(Rating.author_id == user.id).order_by(Rating.id)
    ).all()
    cosigns = db.session.execute(
        select(Cosign.created_at, Message.code, Message.title)
        .join(Message, Message.id == Cosign.message_id)
        .where(Cosign.user_id == user.id)
        .order_by(Cosign.id)
    ).all()
    sessions = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
    ).all()
    return {
        "exported_at": _when(now),
        "profile": {
            "email": user.email,
            "email_verified_at": _when(user.email_verified_at),
            "pen_name": user.pen_name,
            "real_name": user.real_name,
            "phone": user.phone,
            "address": user.address,
            "mail_language": user.locale,
            "role": user.role,
            "created_at": _when(user.created_at),
        },
        "messages": [
            {
                "code": m.code,
                "track": m.track,
                "kind": m.kind,
                "title": m.title,
                "body": m.body,
                "private_note": m.private_note,
                "pen_name": m.pen_name,
                "real_name": m.real_name,
                "phone": m.phone,
                "address": m.address,
                "wants_public": m.wants_public,
                "state": m.state,
                "created_at": _when(m.created_at),
                "closed_at": _when(m.closed_at),
            }
            for m in messages
        ],
        "events": [
            {
                "message": codes[e.message_id],
                "action": e.action,
                "note": e.note,
                "due_on": _when(e.due_on),
                "created_at": _when(e.created_at),
                "by_me": e.actor_id == user.id,
            }
            for e in events
        ],
        "ratings": [
            {
                "message": r.message.code,
                "round": r.round,
                "resolution": r.resolution,
                "attitude": r.attitude,
                "speed": r.speed,
                "comment": r.comment,
                "created_at": _when(r.created_at),
            }
            for r in ratings
        ],
        "cosigns": [
            {"message": code, "title": title, "created_at": _when(created_at)}
            for created_at, code, title in cosigns
        ],
        "follows": [
            {"message": f.message.code, "followed_at": _when(f.created_at)}
            for f in db.session.scalars(
                select(Follow).where(Follow.user_id == user.id).order_by(Follow.id)
            )
        ],
        "saved_searches": [
            {
                "name": s.name,
                "query": s.query,
                "daily_mail": s.is_digest_on,
                "created_at": _when(s.created_at),
            }
            for s in db.session.scalars(
                select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.id)
            )
        ],
        "mail_turned_off": sorted(opted_out(user.email)),
        "sessions": [
            {
                "device": s.user_agent,
                "network": s.ip,
                "signed_in_at": _when(s.created_at),
                "last_seen_at": _when(s.last_seen_at),
                "ended_at": _when(s.ended_at),
            }
            for s in sessions
        ],
    }
