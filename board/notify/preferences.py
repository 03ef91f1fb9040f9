"""Which mail a person may turn off, the one-click unsubscribe link every mail carries
(RFC 8058), and the notices that are always sent (docs/notifications.md)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select

from ..extensions import db
from .models import MailOptOut

# The optional categories, in the order the settings page lists them.
PROGRESS = "progress"  # news of one's own messages that carries no time limit or decision
COSIGNED = "cosigned"  # a reply to a message one co-signed
DIGESTS = "digests"  # staff's daily lists
FOLLOWING = "following"  # what one chose to hear of: followed messages, saved searches' digests
CATEGORIES = {
    PROGRESS: _l("我的留言的一般进展（审核通过、交办、延期、答复、评价提醒等）"),
    COSIGNED: _l("我附议的留言收到答复"),
    FOLLOWING: _l("我关注的留言的答复和办结、保存的搜索的每日提醒"),
    DIGESTS: _l("每日待办与超期汇总（工作人员）"),
}
ALL = "all"  # the link in a statutory notice turns off every optional category
# Author notices with a decision or a time limit the person must know of: always sent.
STATUTORY_AUTHOR_ACTIONS = frozenset(
    {"reject", "accept", "not_accept", "refuse_repeat", "decide_review", "decide_rereview",
     "hearing"}
)  # fmt: skip


def category_for(kind: str) -> str | None:
    """The optional category of a mail kind, or None for mail that is always sent (statutory
    notices to authors, staff duties, account links)."""
    action, _, audience = kind.partition(":")
    if kind in ("unit_digest", "overdue_digest"):
        return DIGESTS
    if audience == "cosigner":
        return COSIGNED
    if audience == "follower" or kind == "saved_search_digest":
        return FOLLOWING
    if kind == "rate_reminder" or kind == "clock_moved:author":
        return PROGRESS
    if audience == "author" and action not in STATUTORY_AUTHOR_ACTIONS:
        return PROGRESS
    return None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="mail-unsubscribe")


def unsubscribe_token(address: str, category: str | None) -> str:
    """A signed token naming the address and what it unsubscribes from (no expiry: a link in
    an old mail keeps working)."""
    return _serializer().dumps({"a": address.strip().lower(), "c": category or ALL})


def read_unsubscribe_token(token: str) -> tuple[str, str] | None:
    """(address, category) from a token, or None when it is forged or damaged."""
    try:
        data = _serializer().loads(token)
    except (BadSignature, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    address, category = data.get("a"), data.get("c")
    if not isinstance(address, str) or (category not in CATEGORIES and category != ALL):
        return None
    return address, category


def opted_out(address: str) -> set[str]:
    """The categories this address turned off."""
    return set(
        db.session.scalars(
            select(MailOptOut.category).where(MailOptOut.address == address.strip().lower())
        )
    )


def _set(address: str, turned_off: set[str], *, now: datetime) -> None:
    address = address.strip().lower()
    db.session.execute(delete(MailOptOut).where(MailOptOut.address == address))
    for category in sorted(turned_off & set(CATEGORIES)):
        db.session.add(MailOptOut(address=address, category=category, created_at=now))


def unsubscribe(token: str, *, now: datetime) -> tuple[str, str] | None:
    """Use a one-click link: turn off its category (every optional one for ALL); None when the
    token is not valid. Works without signing in: the signature is the proof."""
    found = read_unsubscribe_token(token)
    if found is None:
        return None
    address, category = found
    wanted = set(CATEGORIES) if category == ALL else {category}
    _set(address, opted_out(address) | wanted, now=now)
    db.session.commit()
    return found


def save_preferences(address: str, receive: set[str], *, now: datetime) -> None:
    """Keep exactly the optional categories in `receive` on for this address."""
    _set(address, set(CATEGORIES) - receive, now=now)
    db.session.commit()


def move_address(old: str, new: str) -> None:
    """Carry the choices to a new address (in the caller's transaction)."""
    new = new.strip().lower()
    db.session.execute(delete(MailOptOut).where(MailOptOut.address == new))
    for row in db.session.scalars(
        select(MailOptOut).where(MailOptOut.address == old.strip().lower())
    ):
        row.address = new
