"""Staff invitations: sent by an admin, withdrawn, opened and accepted by the invitee."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...audit import record_change
from ...errors import NotFound, ValidationFailed
from ...extensions import db
from ...models import ROLE_LABELS, Role, User
from ...notify import services as notify
from ..models import Invitation
from .common import clean_text, require_admin
from .users import INVITABLE_ROLES, UNIT_ROLES, _unit_for_role

INVITATION_LIFETIME = timedelta(days=7)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def invite_staff(
    actor: User, *, email: str, role: str, unit_code: str = "", now: datetime
) -> tuple[Invitation, str]:
    """Invite a staff member by e-mail: the mail's link lets them set a password and sign in.

    Returns the invitation and its token (only its hash is stored). An earlier open invitation
    to the same address is revoked. One transaction: the row, the mail and the log entry.
    """
    from ...auth.services import find_user, normalize_email

    require_admin(actor)
    email = normalize_email(email)
    if role not in {r.value for r in INVITABLE_ROLES}:
        raise ValidationFailed(fields={"role": [_("只能邀请工作人员角色。")]})
    unit = _unit_for_role(role, unit_code)
    if find_user(email) is not None:
        raise ValidationFailed(fields={"email": [_("该邮箱已有账户，请在列表中修改其角色。")]})
    for earlier in db.session.scalars(
        select(Invitation).where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        earlier.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        role=role,
        unit=unit,
        token_hash=_token_hash(token),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    notify.enqueue(
        notify.Draft(
            recipient=email,
            kind="invitation",
            dedupe_key=f"invitation:{invitation.id}",
            template="invitation",
            context={
                "role_label": ROLE_LABELS[Role(role)],  # translated in the mail's language
                "unit": unit,
                "url": notify.link(f"/invite/{token}"),
                "expires_at": invitation.expires_at,
            },
        ),
        now=now,
    )
    record_change(
        actor,
        "invitation.create",
        email,
        None,
        {"role": role, "unit": unit.code if unit else None, "expires_at": invitation.expires_at},
        now=now,
    )
    db.session.commit()
    return invitation, token


def invitations(actor: User, *, now: datetime) -> list[Invitation]:
    """Invitations not yet used, revoked or expired, newest first."""
    require_admin(actor)
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.id.desc())
        )
    )


def revoke_invitation(actor: User, invitation_id: int, *, now: datetime) -> Invitation:
    """Withdraw an open invitation: its link stops working; logged."""
    require_admin(actor)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not invitation.is_open(now):
        raise NotFound(_("这个邀请不存在或已失效。"))
    invitation.revoked_at = now
    record_change(
        actor, "invitation.revoke", invitation.email, {"open": True}, {"open": False}, now=now
    )
    db.session.commit()
    return invitation


class InvitationInvalid(
    NotFound,
    code="invitation_invalid",
    default=_l("邀请链接无效、已使用或已过期。请联系管理员重新邀请。"),
):
    """The link's invitation does not exist, was used or withdrawn, or has expired."""


def open_invitation(token: str, *, now: datetime) -> Invitation:
    """The open invitation of a link's token, or InvitationInvalid (404)."""
    if not token or len(token) > 200:
        raise InvitationInvalid()
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _token_hash(token))
    )
    if invitation is None or not invitation.is_open(now):
        raise InvitationInvalid()
    return invitation


def accept_invitation(
    token: str,
    *,
    password: str,
    pen_name: str,
    now: datetime,
    session_key: str | None = None,
    user_agent: str = "",
    ip: str | None = None,
) -> User:
    """Open the invited account with the password the invitee chose; the link is then used up.

    One transaction: the account, the used invitation and the log entry.
    """
    from ...auth.services import check_password_rules, find_user, hash_password

    invitation = open_invitation(token, now=now)
    check_password_rules(password)
    pen_name = clean_text(pen_name, "pen_name", most=40)
    if find_user(invitation.email) is not None:
        raise InvitationInvalid()
    if invitation.role in UNIT_ROLES and invitation.unit is None:
        raise InvitationInvalid()
    user = User(
        email=invitation.email,
        password_hash=hash_password(password),
        pen_name=pen_name,
        role=invitation.role,
        unit=invitation.unit if invitation.role in UNIT_ROLES else None,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    invitation.accepted_at, invitation.user_id = now, user.id
    record_change(
        user,
        "invitation.accept",
        invitation.email,
        {"open": True},
        {
            "open": False,
            "role": user.role,
            "unit": invitation.unit.code if invitation.unit else None,
        },
        now=now,
    )
    from ...auth.services import _open_session  # the browser that accepted is signed in

    _open_session(user, session_key, user_agent=user_agent, ip=ip, now=now)
    db.session.commit()
    return user
