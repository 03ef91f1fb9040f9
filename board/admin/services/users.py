"""Accounts: the list, a role and unit changed, an account disabled or signed out."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from ...audit import record_change
from ...errors import PermissionDenied, ValidationFailed
from ...extensions import db
from ...models import Role, Unit, User
from .common import SEARCH_MAX, found, require_admin

UNIT_ROLES = (Role.HANDLER, Role.COORDINATOR)
INVITABLE_ROLES = (Role.HANDLER, Role.COORDINATOR, Role.MODERATOR, Role.ADMIN)


def users_query(actor: User, *, q: str = "", role: str = "", status: str = "") -> Select:
    """Accounts for the admin's list, newest first: search by e-mail or pen name (part of it)."""
    require_admin(actor)
    query = select(User).order_by(User.id.desc())
    q = (q or "").strip()[:SEARCH_MAX]
    if q:
        query = query.where(
            func.lower(User.email).contains(q.lower(), autoescape=True)
            | func.lower(User.pen_name).contains(q.lower(), autoescape=True)
        )
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    if status == "disabled":
        query = query.where(User.is_active_account.is_(False))
    elif status == "active":
        query = query.where(User.is_active_account.is_(True))
    return query


def get_user(actor: User, user_id: int) -> User:
    """One account by id, or NotFound."""
    require_admin(actor)
    return found(db.session.get(User, user_id), _("没有这个账户。"))


def _require_live(user: User) -> None:
    """A deleted account (docs/accounts.md) is a tombstone: it gets no role and stays off."""
    if user.deleted_at is not None:
        raise PermissionDenied(_("该账户已注销，不能再修改。"))


def _unit_for_role(role: str, unit_code: str | None) -> Unit | None:
    """The unit a role needs (handlers and coordinators must have one; others have none)."""
    if role not in UNIT_ROLES:
        return None
    code = (unit_code or "").strip()
    if not code:
        raise ValidationFailed(fields={"unit": [_("承办人和交办员必须属于一个单位。")]})
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ValidationFailed(fields={"unit": [_("没有这个单位。")]})
    return unit


def change_role(actor: User, user: User, *, role: str, unit_code: str = "", now: datetime) -> User:
    """Give an account another role (and unit), logged; one transaction.

    Admins cannot change their own role (another admin must): so one admin always remains.
    """
    require_admin(actor)
    if role not in {r.value for r in Role}:
        raise ValidationFailed(fields={"role": [_("未知角色。")]})
    if user.id == actor.id:
        raise PermissionDenied(_("不能修改自己的角色，请由另一位管理员操作。"))
    _require_live(user)
    unit = _unit_for_role(role, unit_code)
    before = {"role": user.role, "unit": user.unit.code if user.unit else None}
    user.role, user.unit = role, unit
    record_change(
        actor, "user.role", user.email, before, {"role": role, "unit": unit.code if unit else None},
        now=now,
    )  # fmt: skip
    db.session.commit()
    return user


def set_active(actor: User, user: User, *, active: bool, now: datetime) -> User:
    """Disable an account (signed out everywhere, cannot sign in) or enable it again; logged."""
    require_admin(actor)
    if user.id == actor.id:
        raise PermissionDenied(_("不能停用自己的账户。"))
    _require_live(user)
    if user.is_active_account == active:
        return user
    user.is_active_account = active
    if not active:
        user.session_version = (user.session_version or 1) + 1
    record_change(
        actor,
        "user.enable" if active else "user.disable",
        user.email,
        {"active": not active},
        {"active": active},
        now=now,
    )
    db.session.commit()
    return user


def sign_out_everywhere(actor: User, user: User, *, now: datetime) -> User:
    """End every session of the account (it signs in again with its password), logged."""
    require_admin(actor)
    before = {"session_version": user.session_version}
    user.session_version = (user.session_version or 1) + 1
    record_change(
        actor, "user.sign_out", user.email, before, {"session_version": user.session_version},
        now=now,
    )  # fmt: skip
    db.session.commit()
    return user
