"""Staff invitations: sent and withdrawn by the admin; the invitee's page (no account yet:
the link's token is the credential)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...auth import services as auth_services
from ...auth.views import start_session
from ...clock import utcnow
from ...privacy import truncate_ip
from .. import services
from ..forms import AcceptInvitationForm, InviteForm
from . import bp, invite_bp
from .common import button_pressed, form_status, save


@bp.post("/users/invite")
@login_required
def invite() -> ResponseReturnValue:
    """Invite a staff member: a mail with a single-use link valid for seven days."""
    services.require_admin(current_user)
    form = InviteForm()
    saved = save(
        form,
        lambda: services.invite_staff(
            current_user,
            email=form.email.data,
            role=form.role.data,
            unit_code=form.unit.data or "",
            now=utcnow(),
        ),
        lambda sent: (
            _("邀请已发往 %(email)s，链接 7 天内有效。", email=sent[0].email),
            url_for("admin.users"),
        ),
    )
    if saved is not None:
        return saved
    return render_template("admin/invite.html", invite_form=form), 422


@bp.post("/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    """Withdraw an open invitation; its link stops working."""
    services.require_admin(current_user)
    if button_pressed():
        services.revoke_invitation(current_user, invitation_id, now=utcnow())
        flash(_("邀请已撤回。"), "success")
    return redirect(url_for("admin.users"))


@invite_bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str) -> ResponseReturnValue:
    """Set a password for the invited staff account, then sign in."""
    invitation = services.open_invitation(token, now=utcnow())
    form = AcceptInvitationForm()
    key = auth_services.new_session_key()

    def signed_in(user) -> tuple[str, str]:
        start_session(user, key)
        return _("欢迎！账户已开通，您已登录。"), url_for("directory.home")

    saved = save(
        form,
        lambda: services.accept_invitation(
            token,
            password=form.password.data,
            pen_name=form.pen_name.data,
            now=utcnow(),
            session_key=key,
            user_agent=(request.headers.get("User-Agent") or "")[:200],
            ip=truncate_ip(request.remote_addr),
        ),
        signed_in,
    )
    if saved is not None:
        return saved
    response = render_template("admin/accept_invitation.html", invitation=invitation, form=form)
    return response, form_status(), {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
