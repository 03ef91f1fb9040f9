"""What every admin page shares: the admin check, a row or 404, single-line text cleaning, the
change log."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import TypeVar

from flask_babel import gettext as _

from ...errors import NotFound, PermissionDenied, ValidationFailed
from ...extensions import db
from ...models import Role, User

SEARCH_MAX = 100

T = TypeVar("T")


def require_admin(actor: User | None) -> None:
    """Only admins use the admin pages; anyone else gets PermissionDenied."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role != Role.ADMIN:
        raise PermissionDenied()


def found(row: T | None, message: str = "") -> T:
    """The row a page asked for, or NotFound with `message` (the generic text when empty)."""
    if row is None:
        raise NotFound(message)
    return row


def listed(actor: User, query) -> list:
    """Every row of an admin list's `query` (admins only)."""
    require_admin(actor)
    return list(db.session.scalars(query))


def change_logged(actor: User, row, values: dict, snapshot, action: str, *, now: datetime) -> None:
    """Set checked `values` on `row` and log the change as `action` on the row's code, with the
    `snapshot(row)` before and after (the caller commits)."""
    from ...audit import record_change

    before = snapshot(row)
    for key, value in values.items():
        setattr(row, key, value)
    record_change(actor, action, row.code, before, snapshot(row), now=now)


def clean_text(value: str | None, field: str, *, most: int, required: bool = True) -> str:
    """Trimmed single-line text, refused when empty (if required), too long or with controls."""
    text = " ".join((value or "").split())
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        raise ValidationFailed(fields={field: [_("不能包含控制字符。")]})
    if (required and not text) or len(text) > most:
        raise ValidationFailed(fields={field: [_("请填写 1 到 %(n)d 个字。", n=most)]})
    return text


def changes_about(actor: User, target: str, *, limit: int = 20) -> list:
    """The latest admin changes made to one target (an account's e-mail, a unit's code)."""
    from ...audit import changes_query

    require_admin(actor)
    return list(db.session.scalars(changes_query(target=target).limit(limit)))
