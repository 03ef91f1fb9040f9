"""Deadline policies: how long each clock runs (DESIGN §4)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from ...audit import record_change
from ...calendar import services as clocks
from ...deadlines import DayUnit
from ...errors import NotFound, ValidationFailed
from ...extensions import db
from ...models import DeadlinePolicy, User
from .common import require_admin

MAX_POLICY_DAYS = 730


def policies(actor: User) -> list:
    """Every policy with its current length (stored, or the DESIGN default)."""
    require_admin(actor)
    return clocks.policy_choices()


def get_policy(actor: User, name: str):
    """One policy by name, or NotFound."""
    require_admin(actor)
    try:
        return clocks.get_policy(name)
    except KeyError as error:
        raise NotFound(_("没有名为 %(name)s 的期限类型。", name=name)) from error


def update_policy(
    actor: User, name: str, *, days: int, unit: str, label: str, now: datetime
) -> DeadlinePolicy:
    """Change a policy's length, unit and label; clocks already running keep their own length."""
    get_policy(actor, name)
    errors: dict[str, list[str]] = {}
    if not isinstance(days, int) or not 1 <= days <= MAX_POLICY_DAYS:
        errors["days"] = [_("天数须在 1 到 %(max)d 之间。", max=MAX_POLICY_DAYS)]
    if unit not in {u.value for u in DayUnit}:
        errors["unit"] = [_("请选择工作日或自然日。")]
    label = (label or "").strip()
    if not label or len(label) > 80:
        errors["label"] = [_("名称须为 1 到 80 个字。")]
    if errors:
        raise ValidationFailed(fields=errors)
    row = db.session.get(DeadlinePolicy, name)
    current = clocks.get_policy(name)
    before = {"days": current.days, "unit": str(current.unit), "label": current.label}
    if row is None:
        row = DeadlinePolicy(name=name)
        db.session.add(row)
    row.days, row.unit, row.label = days, unit, label
    after = {"days": days, "unit": unit, "label": label}
    record_change(actor, "policy", name, before, after, now=now)
    db.session.commit()
    return row
