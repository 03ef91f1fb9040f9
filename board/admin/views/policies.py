"""Deadline policies: the list and one policy's length, unit and label."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from .. import services
from ..forms import PolicyForm
from . import bp
from .common import done, form_status, form_values, submitted


@bp.get("/deadlines")
def policies() -> ResponseReturnValue:
    """Every deadline policy with its length."""
    return render_template("admin/policies.html", policies=services.policies(current_user))


@bp.route("/deadlines/<name>", methods=["GET", "POST"])
def edit_policy(name: str) -> ResponseReturnValue:
    """Change a policy; running clocks keep the length they started with."""
    policy = services.get_policy(current_user, name)
    form = PolicyForm(
        data={"label": policy.label, "days": policy.days, "unit": str(policy.unit)}
        if request.method == "GET"
        else None
    )
    if submitted(form, services.update_policy, name, **form_values(form, "days", "unit", "label")):
        message = _("期限“%(label)s”已保存；新开始的期限按新设置计算。", label=form.label.data)
        return done(message, "admin.policies")
    return render_template("admin/policy_edit.html", policy=policy, form=form), form_status()
