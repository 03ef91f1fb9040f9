"""Accounts: the searchable list, one account's role and unit, disable / enable / sign out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...clock import utcnow
from ...errors import ValidationFailed
from ...models import Role
from .. import services
from ..forms import ActionForm, InviteForm, RoleForm
from . import bp
from .common import button_pressed, flash_errors, form_status, paginate, save


@bp.get("/users")
@login_required
def users() -> ResponseReturnValue:
    """Accounts, searchable by e-mail or pen name, with open invitations and the invite form."""
    q = request.args.get("q", "")[: services.SEARCH_MAX]
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    pagination = paginate(services.users_query(current_user, q=q, role=role, status=status))
    return render_template(
        "admin/users.html",
        pagination=pagination,
        q=q,
        role=role,
        status=status,
        roles=list(Role),
        invitations=services.invitations(current_user, now=utcnow()),
        invite_form=InviteForm(formdata=None),
        form=ActionForm(),
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user(user_id: int) -> ResponseReturnValue:
    """One account: change its role and unit, disable or enable it, sign it out everywhere."""
    account = services.get_user(current_user, user_id)
    form = RoleForm(
        data={"role": account.role, "unit": account.unit.code if account.unit else ""}
        if request.method == "GET"
        else None
    )
    saved = save(
        form,
        lambda: services.change_role(
            current_user, account, role=form.role.data, unit_code=form.unit.data or "", now=utcnow()
        ),
        lambda user: (
            _("%(email)s 的角色已保存。", email=user.email),
            url_for("admin.user", user_id=user.id),
        ),
    )
    if saved is not None:
        return saved
    return (
        render_template(
            "admin/user.html",
            account=account,
            form=form,
            action_form=ActionForm(),
            changes=services.changes_about(current_user, account.email),
        ),
        form_status(),
    )


@bp.post("/users/<int:user_id>/<any(disable, enable, 'sign-out'):action>")
@login_required
def user_action(user_id: int, action: str) -> ResponseReturnValue:
    """Disable, enable or sign out everywhere one account."""
    account = services.get_user(current_user, user_id)
    if not button_pressed():
        return redirect(url_for("admin.user", user_id=account.id))
    try:
        if action == "sign-out":
            services.sign_out_everywhere(current_user, account, now=utcnow())
            flash(_("%(email)s 的所有会话已结束。", email=account.email), "success")
        else:
            services.set_active(current_user, account, active=action == "enable", now=utcnow())
            flash(
                _("%(email)s 已启用。", email=account.email)
                if action == "enable"
                else _("%(email)s 已停用，所有会话已结束。", email=account.email),
                "success",
            )
    except ValidationFailed as error:
        flash_errors(error)
    return redirect(url_for("admin.user", user_id=account.id))
