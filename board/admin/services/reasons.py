"""Reason codes: the published reasons a decision gives, reworded, retired or restored."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ...audit import record_change
from ...errors import ValidationFailed
from ...extensions import db
from ...models import ReasonCode, ReasonUse, User
from ...snapshots import attributes
from .common import change_logged, clean_text, found, listed, require_admin

REASON_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def reason_codes(actor: User) -> list[ReasonCode]:
    """Every reason code, in use (decision kind) and published order, the retired included."""
    return listed(actor, select(ReasonCode).order_by(ReasonCode.use, ReasonCode.sort))


def get_reason_code(actor: User, code: str) -> ReasonCode:
    """One reason code, or NotFound."""
    require_admin(actor)
    return found(db.session.get(ReasonCode, code))


def _reason_snapshot(reason: ReasonCode) -> dict:
    fields = attributes(reason, "label", "label_en", "description", "sort")
    return fields | {"retired": reason.retired_at is not None}


def _reason_fields(
    *, label: str, label_en: str, description: str = "", sort: int | None = 0
) -> dict:
    """Checked values of the reason form."""
    if sort is None or not 0 <= sort <= 9999:
        raise ValidationFailed(fields={"sort": [_("排序须在 0 到 9999 之间。")]})
    text = (description or "").strip()
    if len(text) > 500 or any(unicodedata.category(c) == "Cc" and c not in "\r\n" for c in text):
        raise ValidationFailed(fields={"description": [_("说明不超过 500 个字，不含控制字符。")]})
    return {
        "label": clean_text(label, "label", most=120),
        "label_en": clean_text(label_en, "label_en", most=160),
        "description": text,
        "sort": sort,
    }


def create_reason_code(
    actor: User, *, use: str, slug: str, now: datetime, **fields: str | int | None
) -> ReasonCode:
    """Publish a new reason for one kind of decision (code `use:slug`; rejections: `slug`).

    `fields`: label, label_en, description and sort (`_reason_fields`).
    """
    require_admin(actor)
    if use not in {u.value for u in ReasonUse}:
        raise ValidationFailed(fields={"use": [_("请选择用途。")]})
    slug = (slug or "").strip().lower()
    if not REASON_SLUG.match(slug):
        raise ValidationFailed(fields={"slug": [_("代码为 2 到 31 个小写字母、数字或下划线。")]})
    code = slug if use == ReasonUse.REJECT else f"{use}:{slug}"
    if db.session.get(ReasonCode, code) is not None:
        raise ValidationFailed(fields={"slug": [_("这个代码已被使用。")]})
    reason = ReasonCode(code=code, use=use, **_reason_fields(**fields))
    db.session.add(reason)
    record_change(actor, "reason_code.create", code, None, _reason_snapshot(reason), now=now)
    db.session.commit()
    return reason


def update_reason_code(
    actor: User, code: str, *, now: datetime, **fields: str | int | None
) -> ReasonCode:
    """Reword a reason or change its place in the list; the code and its use never change.

    `fields` as for `create_reason_code`.
    """
    reason = get_reason_code(actor, code)
    values = _reason_fields(**fields)
    change_logged(actor, reason, values, _reason_snapshot, "reason_code.update", now=now)
    db.session.commit()
    return reason


def set_reason_retired(actor: User, code: str, *, retired: bool, now: datetime) -> ReasonCode:
    """Stop offering a reason (or offer it again). Codes are never deleted: decisions that gave
    one keep showing its label."""
    reason = get_reason_code(actor, code)
    if (reason.retired_at is not None) == retired:
        return reason
    before = _reason_snapshot(reason)
    reason.retired_at = now if retired else None
    record_change(
        actor,
        "reason_code.retire" if retired else "reason_code.restore",
        code,
        before,
        _reason_snapshot(reason),
        now=now,
    )
    db.session.commit()
    return reason
