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
from ...errors import ValidationFailed
from ...extensions import db
from ...privacy import truncate_ip
from .. import services
from ..forms import AcceptInvitationForm, ActionForm, InviteForm
from . import bp, invite_bp
from .common import attach_errors


@bp.post("/users/invite")
@login_required
def invite() -> ResponseReturnValue:
    """Invite a staff member: a mail with a single-use link valid for seven days."""
    services.require_admin(current_user)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation, _token = services.invite_staff(
                current_user,
                email=form.email.data,
                role=form.role.data,
                unit_code=form.unit.data or "",
                now=utcnow(),
            )
        except ValidationFailed as error:
            attach_errors(form, error)
        else:
            flash(_("邀请已发往 %(email)s，链接 7 天内有效。", email=invitation.email), "success")
            return redirect(url_for("admin.users"))
    db.session.rollback()
    return (
        render_template(
            "admin/invite.html",
            invite_form=form,
        ),
        422,
    )


@bp.post("/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    """Withdraw an open invitation; its link stops working."""
    services.require_admin(current_user)
    if ActionForm().validate_on_submit():
        services.revoke_invitation(current_user, invitation_id, now=utcnow())
        flash(_("邀请已撤回。"), "success")
    else:
        flash(_("请求已过期，请重试。"), "error")
    return redirect(url_for("admin.users"))


@invite_bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str) -> ResponseReturnValue:
    """Set a password for the invited staff account, then sign in."""
    invitation = services.open_invitation(token, now=utcnow())
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            key = auth_services.new_session_key()
            user = services.accept_invitation(
                token,
                password=form.password.data,
                pen_name=form.pen_name.data,
                now=utcnow(),
                session_key=key,
                user_agent=(request.headers.get("User-Agent") or "")[:200],
                ip=truncate_ip(request.remote_addr),
            )
        except ValidationFailed as error:
            db.session.rollback()
            attach_errors(form, error)
        else:
            start_session(user, key)
            flash(_("欢迎！账户已开通，您已登录。"), "success")
            return redirect(url_for("directory.home"))
    status = 422 if request.method == "POST" else 200
    response = render_template("admin/accept_invitation.html", invitation=invitation, form=form)
    return response, status, {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
