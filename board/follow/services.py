"""Following messages and saving searches: the use cases, the follower mails and the digest.

A follower hears of a message's reply (and review decisions) and of its closing, once per event,
while the message is public; never the person who acted, never the author (who has mail of
their own), and never twice when they also co-signed. A saved search is stored in the public
listing's parameters, so its feed, its digest and the search page read it the same way; it only
ever finds public messages, through the same public listing code as the open-data feeds.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from ..clock import local_date, to_local
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import (
    DOMAIN_LABELS,
    KIND_LABELS,
    STATE_LABELS,
    Domain,
    Event,
    Kind,
    Message,
    State,
    User,
)
from ..notify import services as notify
from ..privacy import public_text
from ..stats import listing
from .models import Follow, SavedSearch

MAX_FOLLOWS = 500  # per user: a list anyone can read through, and a bound on follower mail
MAX_SAVED_SEARCHES = 20
QUERY_MAX = 1000  # the stored query string (URL-encoded: a Chinese character takes 9)
DIGEST_SIZE = 50  # messages listed in one digest mail (the rest behind the search link)
# Event actions a follower hears of: a published answer, or the case closing.
ANSWER_ACTIONS = frozenset({"sign_off", "decide_review", "decide_rereview"})


# ---------------------------------------------------------------------------------------------
# Following


def _require_user(user: User | None) -> User:
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("请先登录。"))
    return user


def find_follow(user: User | None, message: Message) -> Follow | None:
    """The user's follow of the message, if any."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Follow).where(Follow.user_id == user.id, Follow.message_id == message.id)
    )


def follow_message(message: Message, user: User, *, now: datetime) -> Follow:
    """Follow a public message (关注); following it again changes nothing.

    A message that is not public cannot be followed, and says so exactly as a missing one does.
    """
    user = _require_user(user)
    if not message.is_public:
        raise NotFound(_("没有编号为 %(code)s 的留言。", code=message.code))
    existing = find_follow(user, message)
    if existing is not None:
        return existing
    count = db.session.scalar(select(func.count(Follow.id)).where(Follow.user_id == user.id))
    if count >= MAX_FOLLOWS:
        raise ValidationFailed(
            _("您关注的留言已达 %(n)d 条上限，请先取消一些关注。", n=MAX_FOLLOWS)
        )
    follow = Follow(user=user, message=message, created_at=now)
    db.session.add(follow)
    db.session.commit()
    return follow


def unfollow_message(message: Message, user: User) -> bool:
    """Stop following; True if there was a follow to end."""
    follow = find_follow(_require_user(user), message)
    if follow is None:
        return False
    db.session.delete(follow)
    db.session.commit()
    return True


@dataclass
class FollowRow:
    """One line of "我的关注": the message as the follower may see it now."""

    follow: Follow
    message: Message
    is_visible: bool
    last_change_at: datetime | None


def follows_query(user: User) -> Select:
    """The user's follows with their messages and last public change, newest change first."""
    last_change = (
        select(Event.message_id, func.max(Event.created_at).label("last_at"))
        .where(Event.is_public.is_(True))
        .group_by(Event.message_id)
        .subquery()
    )
    return (
        select(Follow, Message, last_change.c.last_at)
        .join(Message, Message.id == Follow.message_id)
        .outerjoin(last_change, last_change.c.message_id == Message.id)
        .where(Follow.user_id == user.id)
        .order_by(last_change.c.last_at.desc(), Follow.id.desc())
    )


def follow_rows(user: User, *, page: int, per_page: int = 30) -> tuple[list[FollowRow], int]:
    """A page of the user's follows and how many there are.

    A message that is no longer public shows only its code to a follower who may not read it.
    """
    from ..messages.services import can_view

    total = db.session.scalar(select(func.count(Follow.id)).where(Follow.user_id == user.id))
    rows = db.session.execute(
        follows_query(user).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return [
        FollowRow(follow, message, can_view(user, message), last_at)
        for follow, message, last_at in rows
    ], int(total or 0)


def _follower_addresses(message: Message, event: Event) -> list[tuple[int, str]]:
    """(user id, e-mail) of the active followers to tell of `event`."""
    skip = {message.author_id or 0, event.actor_id or 0}
    rows = db.session.execute(
        select(User.id, User.email)
        .join(Follow, Follow.user_id == User.id)
        .where(Follow.message_id == message.id, User.is_active_account.is_(True))
        .order_by(Follow.id)
    ).all()
    return [(uid, email) for uid, email in rows if uid not in skip and email]


def follower_drafts(event: Event, already: set[str]) -> list[notify.Draft]:
    """Mails to a message's followers for an answer or a closing (called by notify).

    Only while the message is public: once hidden or made private its followers hear nothing
    more. `already` holds the addresses the event mails anyway (co-signers): one mail each.
    """
    message = event.message
    closed = event.to_state == State.CLOSED and event.from_state != State.CLOSED
    answered = event.action in ANSWER_ACTIONS
    if not (closed or answered) or not message.is_public:
        return []
    what = "closed" if closed and not answered else "answered"
    drafts = []
    for _uid, address in _follower_addresses(message, event):
        if address.strip().lower() in already:
            continue
        drafts.append(
            notify.Draft(
                recipient=address,
                kind=f"{event.action}:follower",
                dedupe_key=f"event:{event.id}:follower:{address.lower()}",
                template="follower_event",
                context={
                    "message": message,
                    "title": public_text(message, message.title),
                    "what": what,
                    "state_label": STATE_LABELS[State(message.state)],  # translated when rendered
                    "url": notify.link(f"/m/{message.code}"),
                    "follows_url": notify.link("/account/follows"),
                },
                message=message,
            )
        )
    return drafts


# ---------------------------------------------------------------------------------------------
# Saved searches


def _normalized(args: Mapping[str, str]) -> str:
    """The search's query string in a fixed order, unknown codes dropped."""
    filters = listing.read(args)
    return urlencode(sorted(filters.args().items()))


def filters_of(saved: SavedSearch) -> listing.Filters:
    """The saved search as public listing filters."""
    return listing.read(dict(parse_qsl(saved.query)))


def describe(args: Mapping[str, str]) -> str:
    """A short default name for a search: its words, or its filters."""
    filters = listing.read(args)
    parts = (
        filters.q,
        filters.board and filters.board.label,
        filters.unit and filters.unit.name,
        filters.region and filters.region.full_label,
        filters.kind and str(KIND_LABELS[Kind(filters.kind)]),
        filters.domain and str(DOMAIN_LABELS[Domain(filters.domain)]),
        filters.topic and _("主题：%(name)s", name=filters.topic.name),
    )
    return (" · ".join(part for part in parts if part) or _("全部公开留言"))[:120]


def save_search(
    user: User, args: Mapping[str, str], *, name: str = "", now: datetime
) -> SavedSearch:
    """Keep a public search (words and filters) for the daily digest and its own Atom feed."""
    user = _require_user(user)
    query = _normalized(args)
    if not query:
        raise ValidationFailed(_("请先输入关键词或选择筛选条件，再保存搜索。"), {"q": []})
    if len(query) > QUERY_MAX:
        raise ValidationFailed(_("搜索条件太长，无法保存。请减少关键词。"), {"q": []})
    existing = db.session.scalar(
        select(SavedSearch).where(SavedSearch.user_id == user.id, SavedSearch.query == query)
    )
    if existing is not None:
        return existing
    count = db.session.scalar(
        select(func.count(SavedSearch.id)).where(SavedSearch.user_id == user.id)
    )
    if count >= MAX_SAVED_SEARCHES:
        raise ValidationFailed(
            _("最多可保存 %(n)d 个搜索，请先删除不再需要的。", n=MAX_SAVED_SEARCHES)
        )
    saved = SavedSearch(
        user=user,
        name=(name.strip() or describe(args))[:120],
        query=query,
        feed_token=secrets.token_urlsafe(24),
        is_digest_on=True,
        created_at=now,
        checked_at=now,
        last_digest_on=None,
    )
    db.session.add(saved)
    db.session.commit()
    return saved


def saved_searches_query(user: User) -> Select:
    """The user's saved searches, newest first."""
    return (
        select(SavedSearch)
        .where(SavedSearch.user_id == user.id)
        .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())
    )


def get_saved_search(user: User, search_id: int) -> SavedSearch:
    """The user's own saved search; anyone else's is reported missing."""
    # Beyond a 32-bit id nothing exists (PostgreSQL would refuse the comparison itself).
    saved = db.session.get(SavedSearch, search_id) if 0 < search_id < 2**31 else None
    if saved is None or saved.user_id != _require_user(user).id:
        raise NotFound(_("没有这个保存的搜索。"))
    return saved


def delete_saved_search(user: User, search_id: int) -> None:
    """Forget a saved search: no more digests, and its feed URL stops working."""
    db.session.delete(get_saved_search(user, search_id))
    db.session.commit()


def saved_search_by_token(token: str) -> SavedSearch:
    """The saved search a feed URL names; NotFound for any other string."""
    token = (token or "").strip()
    if not (20 <= len(token) <= 64):
        raise NotFound(_("没有这个订阅。"))
    saved = db.session.scalar(select(SavedSearch).where(SavedSearch.feed_token == token))
    if saved is None or not secrets.compare_digest(saved.feed_token, token):
        raise NotFound(_("没有这个订阅。"))
    return saved


def new_matches(saved: SavedSearch, *, now: datetime, limit: int = DIGEST_SIZE) -> list[Message]:
    """Public messages matching the search published after its last check, newest first."""
    filters = filters_of(saved)
    found: list[Message] = []
    for batch in listing.batches(listing.matching_ids(filters, limit=2000), size=200):
        for message in batch:
            published = message.published_at
            if published is None or published > now:
                continue
            if published <= saved.checked_at:
                if not filters.q:
                    return found  # newest first in time: nothing newer follows
                continue
            found.append(message)
            if len(found) >= limit:
                return found
    return found


@dataclass
class DigestCounts:
    """What one digest run did."""

    checked: int = 0
    mailed: int = 0


def queue_digests(*, now: datetime) -> DigestCounts:
    """Queue today's digest of each saved search with new public matches; once a Beijing day.

    A search already checked today is skipped; the mail's dedupe key holds the date too, so two
    runs at once still queue one mail. One transaction per saved search.
    """
    today = local_date(now)
    counts = DigestCounts()
    ids = db.session.scalars(
        select(SavedSearch.id)
        .join(User, User.id == SavedSearch.user_id)
        .where(
            SavedSearch.is_digest_on.is_(True),
            User.is_active_account.is_(True),
            (SavedSearch.last_digest_on.is_(None)) | (SavedSearch.last_digest_on < today),
        )
        .order_by(SavedSearch.id)
    ).all()
    for search_id in ids:
        saved = db.session.get(SavedSearch, search_id)
        if saved is None or (saved.last_digest_on is not None and saved.last_digest_on >= today):
            continue
        counts.checked += 1
        matches = new_matches(saved, now=now)
        if matches:
            draft = notify.Draft(
                recipient=saved.user.email,
                kind="saved_search_digest",
                dedupe_key=f"saved_search:{saved.id}:{today.isoformat()}",
                template="saved_search_digest",
                context={
                    "saved": saved,
                    "today": today,
                    "items": [
                        {
                            "code": m.code,
                            "title": public_text(m, m.title),
                            "state": STATE_LABELS[State(m.state)],
                            "published_on": to_local(m.published_at).date(),
                            "url": notify.link(f"/m/{m.code}"),
                        }
                        for m in matches
                    ],
                    "more": len(matches) >= DIGEST_SIZE,
                    "search_url": notify.link(f"/search?{saved.query}"),
                    "manage_url": notify.link("/account/searches"),
                },
            )
            if notify.enqueue(draft, now=now) is not None:
                counts.mailed += 1
        saved.checked_at = now
        saved.last_digest_on = today
        db.session.commit()
    return counts


def tick_digests(*, now: datetime) -> DigestCounts | None:
    """The deadline tick's share: run the digests from MAIL_DIGEST_HOUR (Beijing time) on."""
    if to_local(now).hour < int(current_app.config.get("MAIL_DIGEST_HOUR", 8)):
        return None
    return queue_digests(now=now)
