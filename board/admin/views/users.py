"""Accounts: the searchable list, one account's role and unit, disable / enable / sign out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ...clock import utcnow
from ...errors import ValidationFailed, flash_errors
from ...models import Role
from ...paging import paginate
from .. import services
from ..forms import ActionForm, InviteForm, RoleForm
from . import bp
from .common import (
    button_pressed,
    done,
    form_status,
    form_values,
    submitted,
)


@bp.get("/users")
def users() -> ResponseReturnValue:
    """Accounts, searchable by e-mail or pen name, with open invitations and the invite form."""
    filters = {
        "q": request.args.get("q", "")[: services.SEARCH_MAX],
        "role": request.args.get("role", ""),
        "status": request.args.get("status", ""),
    }
    pagination = paginate(services.users_query(current_user, **filters))
    return render_template(
        "admin/users.html",
        pagination=pagination,
        roles=list(Role),
        invitations=services.invitations(current_user, now=utcnow()),
        invite_form=InviteForm(formdata=None),
        form=ActionForm(),
        **filters,
    )


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> ResponseReturnValue:
    """One account: change its role and unit, disable or enable it, sign it out everywhere."""
    account = services.get_user(current_user, user_id)
    form = RoleForm(
        data={"role": account.role, "unit": account.unit.code if account.unit else ""}
        if request.method == "GET"
        else None
    )
    if user := submitted(
        form, services.change_role, account, **form_values(form, "role", unit_code="unit")
    ):
        return done(_("%(email)s 的角色已保存。", email=user.email), "admin.user", user_id=user.id)
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


@bp.post("/users/<id:user_id>/<any(disable, enable, 'sign-out'):action>")
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
