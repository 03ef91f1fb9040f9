"""Staff invitations: sent and withdrawn by the admin; the invitee's page (no account yet:
the link's token is the credential)."""

from __future__ import annotations

from flask import render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ...auth import services as auth_services
from ...auth.views import device, start_session
from ...clock import utcnow
from .. import services
from ..forms import AcceptInvitationForm, InviteForm
from . import bp, invite_bp
from .common import button, done, form_status, form_values, submit, submitted


@bp.post("/users/invite")
def invite() -> ResponseReturnValue:
    """Invite a staff member: a mail with a single-use link valid for seven days."""
    form = InviteForm()
    if sent := submitted(
        form, services.invite_staff, **form_values(form, "email", "role", unit_code="unit")
    ):
        return done(
            _("邀请已发往 %(email)s，链接 7 天内有效。", email=sent[0].email), "admin.users"
        )
    return render_template("admin/invite.html", invite_form=form), 422


@bp.post("/invitations/<id:invitation_id>/revoke")
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    """Withdraw an open invitation; its link stops working."""
    return button(
        services.revoke_invitation,
        invitation_id,
        success=_("邀请已撤回。"),
        back_to=url_for("admin.users"),
    )


@invite_bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str) -> ResponseReturnValue:
    """Set a password for the invited staff account, then sign in."""
    invitation = services.open_invitation(token, now=utcnow())
    form = AcceptInvitationForm()
    key = auth_services.new_session_key()
    user = submit(
        form,
        lambda: services.accept_invitation(
            token,
            password=form.password.data,
            pen_name=form.pen_name.data,
            now=utcnow(),
            session_key=key,
            **device(),
        ),
    )
    if user:
        start_session(user, key)
        return done(_("欢迎！账户已开通，您已登录。"), "directory.home")
    response = render_template("admin/accept_invitation.html", invitation=invitation, form=form)
    return response, form_status(), {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
