"""Units: the offices that answer messages, their published contacts and their staff."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ...audit import record_change
from ...errors import ValidationFailed
from ...extensions import db
from ...models import Region, Role, Unit, User
from ...phones import normalize_cn_phone
from .common import change_logged, clean_text, found, listed, require_admin

CONTACT_PHONE_MAX = 40
UNIT_NAME_MAX = 120
UNIT_CODE = re.compile(r"^[0-9]{6}-[a-z0-9][a-z0-9-]{0,32}$")
# Numbers libphonenumber does not know as a mainland line but citizens can call: 3–6 digit
# hotlines (12345, 95598), 400/800 service numbers; digits with spaces, dashes and brackets.
_SERVICE_PHONE = re.compile(r"^(?:1[0-9]{2,5}|9[0-9]{4}|[48]00[0-9 \-]{7,9})$")


def units(actor: User) -> list[Unit]:
    """Every unit, by region then code."""
    return listed(actor, select(Unit).order_by(Unit.region_code, Unit.code))


def get_unit(actor: User, code: str) -> Unit:
    """One unit by code, or NotFound."""
    require_admin(actor)
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    return found(unit, _("没有代码为 %(code)s 的单位。", code=code))


def _phone(value: str | None) -> str | None:
    """The published phone in its canonical spelling (phones.py), or a hotline / 95xxx / 400
    number as written; None when empty. Raises ValidationFailed when it is neither."""
    phone = " ".join(unicodedata.normalize("NFKC", value or "").split())
    if not phone:
        return None
    canonical = normalize_cn_phone(phone) if len(phone) <= CONTACT_PHONE_MAX else None
    if canonical:
        return canonical
    if len(phone) <= CONTACT_PHONE_MAX and _SERVICE_PHONE.match(phone):
        return phone
    raise ValidationFailed(
        fields={
            "contact_phone": [
                _("请填写有效的电话号码，如 0571-87654321、12345 或 0571-87654321 转 802。")
            ]
        }
    )


def _unit_snapshot(unit: Unit) -> dict:
    return {
        "name": unit.name,
        "region": unit.region_code,
        "parent": unit.parent.code if unit.parent else None,
        "email": unit.email,
        "contact_phone": unit.contact_phone,
    }


def _unit_fields(
    actor: User,
    unit: Unit | None,
    *,
    name: str,
    region_code: str,
    parent_code: str = "",
    email: str = "",
    contact_phone_text: str = "",
) -> dict:
    """Checked values of the unit form (a unit cannot be its own ancestor)."""
    from ...auth.services import normalize_email

    values: dict = {"name": clean_text(name, "name", most=UNIT_NAME_MAX)}
    region = db.session.get(Region, (region_code or "").strip())
    if region is None:
        raise ValidationFailed(fields={"region": [_("没有这个行政区划代码。")]})
    values["region_code"] = region.code
    parent = None
    if (parent_code or "").strip():
        parent = db.session.scalar(select(Unit).where(Unit.code == parent_code.strip()))
        if parent is None:
            raise ValidationFailed(fields={"parent": [_("没有这个上级单位。")]})
        ancestor = parent
        while ancestor is not None:
            if unit is not None and ancestor.id == unit.id:
                raise ValidationFailed(fields={"parent": [_("上级单位不能是本单位或其下级。")]})
            ancestor = ancestor.parent
    values["parent"] = parent
    values["email"] = None
    if (email or "").strip():
        try:
            values["email"] = normalize_email(email)
        except ValidationFailed as error:
            raise ValidationFailed(fields={"email": error.fields["email"]}) from error
    values["contact_phone"] = _phone(contact_phone_text)
    return values


def create_unit(actor: User, *, code: str, now: datetime, **fields: str) -> Unit:
    """Add a unit (code `<region>-<letters>`, e.g. 330100-wj), logged; one transaction.

    `fields`: name, region_code, parent_code, email and contact_phone_text (`_unit_fields`).
    """
    require_admin(actor)
    code = (code or "").strip().lower()
    if not UNIT_CODE.match(code):
        raise ValidationFailed(
            fields={"code": [_("代码格式为“行政区划代码-小写字母”，如 330100-wj。")]}
        )
    if db.session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise ValidationFailed(fields={"code": [_("这个代码已被使用。")]})
    unit = Unit(code=code, **_unit_fields(actor, None, **fields))
    db.session.add(unit)
    record_change(actor, "unit.create", code, None, _unit_snapshot(unit), now=now)
    db.session.commit()
    return unit


def update_unit(actor: User, code: str, *, now: datetime, **fields: str) -> Unit:
    """Change a unit's name, region, parent, e-mail and published phone, logged; one transaction.

    The published phone shows on the unit's page and stays readable in public texts. `fields`
    as for `create_unit`.
    """
    unit = get_unit(actor, code)
    values = _unit_fields(actor, unit, **fields)
    change_logged(actor, unit, values, _unit_snapshot, "unit.update", now=now)
    db.session.commit()
    return unit


def unit_staff(actor: User, unit: Unit) -> list[User]:
    """The unit's staff accounts, by role then e-mail."""
    return listed(
        actor, select(User).where(User.unit_id == unit.id).order_by(User.role, User.email)
    )


def move_staff(actor: User, user: User, to_code: str, *, now: datetime) -> User:
    """Move a handler or coordinator to another unit, logged; one transaction."""
    require_admin(actor)
    if user.role not in (Role.HANDLER, Role.COORDINATOR):
        raise ValidationFailed(fields={"unit": [_("只有承办人和交办员属于单位。")]})
    target = db.session.scalar(select(Unit).where(Unit.code == (to_code or "").strip()))
    if target is None:
        raise ValidationFailed(fields={"unit": [_("没有这个单位。")]})
    before = {"unit": user.unit.code if user.unit else None}
    user.unit = target
    record_change(actor, "user.unit", user.email, before, {"unit": target.code}, now=now)
    db.session.commit()
    return user
