"""People: accounts and their API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .directory import Unit
from .vocab import ROLE_LABELS, STAFF_ROLES, Role


def _verified_at_creation(context) -> datetime | None:
    """Default for `email_verified_at`: the account's creation time."""
    return context.get_current_parameters().get("created_at")


class User(UserMixin, db.Model):
    """Anyone with an account: citizens, staff of units, moderators and admins."""

    __tablename__ = "user"
    # Handlers and coordinators answer for a unit: never one without it (the services check
    # first, with a clear message; this is the backstop on PostgreSQL).
    __table_args__ = (
        CheckConstraint(
            "role NOT IN ('handler', 'coordinator') OR unit_id IS NOT NULL",
            name="staff_has_unit",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    pen_name: Mapped[str] = mapped_column(String(40))
    real_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.CITIZEN, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Bumped on password change and logout-everywhere; part of the session identity.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # The language of the mail this person gets ('zh_CN' or 'en'): the interface language at
    # registration, changeable in the profile.
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN", server_default="zh_CN")
    # When the person opened the verification link sent to `email` (None: not verified yet).
    # Accounts made by the system (demo seed, importer, admins) are verified at creation;
    # self-registration clears it and waits for the link.
    email_verified_at: Mapped[datetime | None] = mapped_column(
        DateTime, default=_verified_at_creation
    )
    # When the person deleted the account (docs/accounts.md): the row stays as an anonymous
    # tombstone so the messages, events and co-signs that name it keep their meaning.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    unit: Mapped[Unit | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        """Disabled accounts cannot sign in."""
        return self.is_active_account

    def get_id(self) -> str:
        """Session identity: id and session version, so a password change ends old sessions."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_verified(self) -> bool:
        """The person has shown they read mail at their address."""
        return self.email_verified_at is not None

    @property
    def is_staff(self) -> bool:
        """Handlers, coordinators, moderators and admins."""
        return self.role in STAFF_ROLES

    @property
    def role_label(self) -> str:
        """The role's human label."""
        return str(ROLE_LABELS[Role(self.role)])


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class TokenPurpose(StrEnum):
    """What a mailed account link is for."""

    VERIFY = "verify"  # confirm the address after registering or changing it
    RESET = "reset"  # set a new password


class AccountToken(db.Model):
    """A single-use, expiring link mailed to a person; only the token's SHA-256 is stored."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address the link went to: a verification is good only while the account still has it.
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One signed-in browser: the key in its session cookie (stored hashed), device, last seen."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str | None] = mapped_column(String(64))  # truncated (privacy.truncate_ip)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
