"""Accounts and API tokens: registration, sign-in checks, staff creation, bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import ApiToken, Role, Unit, User

PASSWORD_MIN = 8


def hash_password(password: str) -> str:
    """Hash with the configured method (scrypt by default; tests configure a cheap one)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    """A hash to check against for unknown e-mails, so they cost the same as a wrong password."""
    key = "_board_dummy_password_hash"
    if key not in current_app.extensions:
        current_app.extensions[key] = hash_password("minsheng-timing-equaliser")
    return current_app.extensions[key]


def normalize_email(email: str) -> str:
    """Check an address's syntax and return it in canonical, lower-cased form."""
    try:
        return validate_email(email or "", check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationFailed(fields={"email": [_("邮箱地址无效。")]}) from error


def check_password_rules(password: str) -> None:
    """Refuse passwords that are too short."""
    if len(password or "") < PASSWORD_MIN:
        raise ValidationFailed(fields={"password": [_("密码至少 %(n)d 位。", n=PASSWORD_MIN)]})


def find_user(email: str) -> User | None:
    """The user with this e-mail (case-insensitive), if any."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def _new_user(
    email: str, password: str, pen_name: str, role: Role, *, now: datetime, **extra
) -> User:
    email = normalize_email(email)
    check_password_rules(password)
    pen_name = (pen_name or "").strip()
    if not pen_name or len(pen_name) > 40:
        raise ValidationFailed(fields={"pen_name": [_("请填写 1 到 40 个字的网名。")]})
    if find_user(email) is not None:
        raise ValidationFailed(fields={"email": [_("该邮箱已注册。")]})
    user = User(
        email=email,
        password_hash=hash_password(password),
        pen_name=pen_name,
        role=role,
        created_at=now,
        **extra,
    )
    db.session.add(user)
    return user


def register_citizen(
    email: str, password: str, pen_name: str, *, phone: str | None = None, now: datetime
) -> User:
    """Open a citizen account."""
    user = _new_user(email, password, pen_name, Role.CITIZEN, now=now, phone=phone or None)
    db.session.commit()
    return user


def create_user(
    email: str,
    role: str,
    *,
    password: str,
    pen_name: str | None = None,
    unit_code: str | None = None,
    now: datetime,
) -> User:
    """Create an account of any role (CLI and admin); staff of units must name their unit."""
    if role not in Role.__members__.values():
        raise ValidationFailed(fields={"role": [_("未知角色：%(role)s", role=role)]})
    unit = None
    if role in (Role.HANDLER, Role.COORDINATOR):
        if not unit_code:
            raise ValidationFailed(fields={"unit": [_("承办人和交办员必须属于一个单位。")]})
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise NotFound(_("没有代码为 %(code)s 的单位。", code=unit_code))
    user = _new_user(
        email, password, pen_name or email.split("@")[0], Role(role), now=now, unit=unit
    )
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user if the e-mail and password match an active account, else None."""
    user = find_user(email or "")
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.is_active:
        return None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, *, name: str = "", now: datetime) -> str:
    """Create an API token for `user`; the plain token is returned once and stored hashed."""
    token = "ms_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_token_hash(token), name=name, created_at=now))
    db.session.commit()
    return token


def user_for_token(token: str, *, now: datetime) -> User | None:
    """The active user a bearer token belongs to, or None if unknown or revoked."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    row.last_used_at = now
    db.session.commit()
    return row.user


def revoke_token(token_id: int, owner: User, *, now: datetime) -> None:
    """Revoke one of the owner's tokens."""
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != owner.id:
        raise PermissionDenied()
    row.revoked_at = now
    db.session.commit()
