"""Models as the API's JSON: what the public may read, and more for those in the message's scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..calendar.services import open_clocks
from ..clock import to_local
from ..models import (
    DOMAIN_LABELS,
    KIND_LABELS,
    STATE_LABELS,
    TRACK_LABELS,
    Board,
    Clock,
    Event,
    Message,
    Region,
    Reply,
    Role,
    Unit,
    User,
)
from ..privacy import mask_pen_name, public_text
from ..snapshots import attributes
from ..workflow import pending_request
from ..workflow.access import (
    can_see_private_fields,
    is_board_coordinator,
    is_review_coordinator,
    is_unit_handler,
)

# Facets whose values are codes with a human label.
FACET_LABELS = {
    "kind": KIND_LABELS,
    "domain": DOMAIN_LABELS,
    "state": STATE_LABELS,
    "track": TRACK_LABELS,
}


def iso(moment: datetime | None) -> str | None:
    """A stored naive-UTC datetime as ISO 8601 in Beijing time (`…+08:00`)."""
    return to_local(moment).isoformat(timespec="seconds") if moment else None


def region_json(region: Region) -> dict:
    """A region by its GB/T 2260 code; a code retired by a merge names the region that absorbed
    it (`merged_into`) and the day (`merged_on`), both null for a current region."""
    return attributes(region, "code", "name", "full_name", "level") | {
        "parent": region.parent_code,
        "merged_into": region.merged_into_code,
        "merged_on": region.merged_on.isoformat() if region.merged_on else None,
    }


def board_json(board: Board) -> dict:
    """A leader's board; `office_unit` is the code of the office that coordinates it."""
    return attributes(board, "code", "title", "post") | {
        "region": board.region_code,
        "holder_name": board.holder_name,
        "office_unit": board.office_unit.code,
    }


def unit_json(unit: Unit) -> dict:
    """A unit that answers messages (or a board's coordinator office)."""
    return attributes(unit, "code", "name") | {
        "region": unit.region_code,
        "parent": unit.parent.code if unit.parent else None,
        "is_office": bool(unit.is_office),
    }


def in_scope(user: User | None, message: Message) -> bool:
    """The author and the staff handling the message: they see its whole history."""
    if user is None:
        return False
    return (
        message.author_id == user.id
        or user.role in (Role.MODERATOR, Role.ADMIN)
        or is_board_coordinator(user, message.board)
        or is_unit_handler(user, message)
        or is_review_coordinator(user, message)
    )


def _rating_json(rating, text) -> dict:
    return {
        "round": rating.round,
        "resolution": rating.resolution,
        "attitude": rating.attitude,
        "speed": rating.speed,
        "composite": round(rating.composite, 2),
        "label": rating.satisfaction_label,
        "comment": text(rating.comment),
        "created_at": iso(rating.created_at),
    }


def _request_json(request) -> dict:
    return {
        "id": request.id,
        "kind": request.kind,
        "round": request.round,
        "reason_code": request.reason_code,
        "note": request.note,
        "requested_at": iso(request.requested_at),
    }


def _reply_json(reply: Reply, *, private: bool, scope: bool) -> dict:
    data = {
        "unit": reply.unit.code,
        "unit_name": reply.unit.name,
        "body": reply.body if private else public_text(reply.message, reply.body),
        "outcome": reply.outcome,
        "outcome_label": reply.outcome_label,
        "is_interim": bool(reply.is_interim),
        "published_at": iso(reply.published_at),
    }
    if scope:
        data["state"] = reply.state
    return data


def _event_json(event: Event, *, private: bool, scope: bool) -> dict:
    data = {
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note if private else public_text(event.message, event.note),
        "actor_role": event.actor.role if event.actor else None,
        "created_at": iso(event.created_at),
    }
    if scope:
        data["is_public"] = bool(event.is_public)
    return data


def _clock_json(clock: Clock) -> dict:
    return {
        "policy": clock.policy,
        "due_on": clock.due_on.isoformat(),
        "explanation": [line.text for line in clock.explanation_lines],
        "state": clock.state,
        "started_on": clock.started_on.isoformat(),
        "unit": clock.unit,
        "days": clock.days,
        "provisional": clock.is_provisional,
        "provisional_years": clock.provisional_year_list,
    }


# The fields that say where a message stands, in the API, its schema and the exports.
PLACE_FIELDS = ("board", "board_title", "region", "region_name", "unit", "unit_name")


def place_json(message: Message) -> dict:
    """Where a message stands: its board, region and handling unit, by code and by name."""
    return {
        "board": message.board.code,
        "board_title": message.board.title,
        "region": message.region_code,
        "region_name": message.region.full_name,
        "unit": message.unit.code if message.unit else None,
        "unit_name": message.unit.name if message.unit else None,
    }


def message_json(message: Message, viewer: User | None) -> dict:
    """A message as `viewer` may see it: masked for the public, whole for its private side."""
    private = can_see_private_fields(viewer, message)
    scope = in_scope(viewer, message)

    def text(value: str) -> str:
        return value if private else public_text(message, value)

    replies = message.replies if scope else message.published_replies
    events = message.events if scope else [e for e in message.events if e.is_public]
    rating = message.rating
    data: dict[str, Any] = {
        "code": message.code,
        "track": message.track,
        "track_label": message.track_label,
        "kind": message.kind,
        "kind_label": message.kind_label,
        "domain": message.domain,
        "domain_label": message.domain_label,
        "title": text(message.title),
        "body": text(message.body),
        "author_name": None
        if message.kind == "report" and not private
        else mask_pen_name(message.pen_name),
        "state": message.state,
        "public_state_label": message.public_state_label,
        "visibility": message.visibility,
        "is_hidden": bool(message.is_hidden),
        **place_json(message),
        "created_at": iso(message.created_at),
        "published_at": iso(message.published_at),
        "replied_at": iso(message.replied_at),
        "closed_at": iso(message.closed_at),
        "replies": [_reply_json(r, private=private, scope=scope) for r in replies],
        "deadlines": [_clock_json(c) for c in open_clocks(message)],
        "events": [_event_json(e, private=private, scope=scope) for e in events],
        "cosign_count": message.cosign_count or 0,
        "rating": None if rating is None else _rating_json(rating, text),
        "ratings": [_rating_json(r, text) for r in message.ratings],
        "handling_round": message.handling_round or 1,
        "review_unit": message.review_unit.code if message.review_unit else None,
        "review_unit_name": message.review_unit.name if message.review_unit else None,
    }
    if scope and viewer is not None and viewer.is_staff:
        request = pending_request(message)
        data["pending_request"] = None if request is None else _request_json(request)
    if private:
        data.update(
            private_note=message.private_note,
            wants_public=bool(message.wants_public),
            rejection_reason=message.rejection_reason,
            hidden_reason=message.hidden_reason,
        )
        if message.track == "petition":
            data.update(real_name=message.real_name, phone=message.phone, address=message.address)
    return data


def hit_json(hit: Any) -> dict:
    """A search hit: the message's public face, the score and a `<mark>`-highlighted snippet."""
    message = hit.message
    return {
        "code": message.code,
        "title": public_text(message, message.title),
        "snippet": hit.snippet,
        "state": message.state,
        "public_state_label": message.public_state_label,
        "score": hit.score,
        "track": message.track,
        "kind": message.kind,
        "kind_label": message.kind_label,
        "domain": message.domain,
        "domain_label": message.domain_label,
        "board": message.board.code,
        "board_title": message.board.title,
        "region": message.region_code,
        "region_name": message.region.full_name,
        "unit": message.unit.code if message.unit else None,
        "published_at": iso(message.published_at),
        "replied_at": iso(message.replied_at),
    }


def facets_json(
    facets: dict[str, list[tuple[str, int]]], labels_of: dict[str, dict[str, str]] | None = None
) -> dict[str, list[dict]]:
    """Facet counts as `{name: [{"value", "count", "label"?}]}`; `labels_of` names values that
    live in the database (a search's topics)."""
    out: dict[str, list[dict]] = {}
    for name, pairs in facets.items():
        labels = FACET_LABELS.get(name) or (labels_of or {}).get(name, {})
        rows = []
        for value, count in pairs:
            row: dict[str, Any] = {"value": value, "count": count}
            if value in labels:
                row["label"] = str(labels[value])
            rows.append(row)
        out[name] = rows
    return out


def page_json(items: list[dict], *, total: int, page: int, per_page: int) -> dict:
    """The envelope of every list: `total`, `page`, `per_page`, `items`."""
    return {"total": total, "page": page, "per_page": per_page, "items": items}


def follow_json(message: Message, viewer: User, *, following: bool, followed_at=None,
                last_change_at=None) -> dict:  # fmt: skip
    """A followed message as its follower may see it now: only the code once it is not public."""
    from ..messages.services import can_view

    visible = can_view(viewer, message)
    return {
        "code": message.code,
        "following": following,
        "is_public": message.is_public,
        "title": public_text(message, message.title) if visible else None,
        "state": message.state if visible else None,
        "public_state_label": message.public_state_label if visible else None,
        "followed_at": iso(followed_at),
        "last_change_at": iso(last_change_at) if visible else None,
    }
