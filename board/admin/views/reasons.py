"""Reason codes: the list with the form to add one, a reason reworded, retired or restored."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from .. import services
from ..forms import ActionForm, ReasonCodeForm
from . import bp
from .common import button, done, form_status, form_values, submitted

# What a reason's form gives both when it is published and when it is reworded.
REASON_FIELDS = ("label", "label_en", "description", "sort")


@bp.route("/reason-codes", methods=["GET", "POST"])
def reason_codes() -> ResponseReturnValue:
    """The published reasons by use, the retired marked, with the form to add one."""
    form = ReasonCodeForm()
    values = form_values(form, "use", "slug", *REASON_FIELDS)
    if reason := submitted(form, services.create_reason_code, **values):
        return done(_("理由“%(label)s”已发布。", label=reason.label), "admin.reason_codes")
    return (
        render_template(
            "admin/reason_codes.html",
            reasons=services.reason_codes(current_user),
            form=form,
            action_form=ActionForm(),
        ),
        form_status(),
    )


@bp.route("/reason-codes/<path:code>", methods=["GET", "POST"])
def edit_reason_code(code: str) -> ResponseReturnValue:
    """Reword a reason or move it in the list."""
    reason = services.get_reason_code(current_user, code)
    form = ReasonCodeForm(obj=reason if request.method == "GET" else None)
    values = form_values(form, *REASON_FIELDS)
    if saved := submitted(form, services.update_reason_code, code, **values):
        return done(_("理由“%(label)s”已保存。", label=saved.label), "admin.reason_codes")
    page = render_template("admin/reason_code_edit.html", reason=reason, form=form)
    return page, form_status()


@bp.post("/reason-codes/<path:code>/<any(retire, restore):change>")
def retire_reason_code(code: str, change: str) -> ResponseReturnValue:
    """Stop offering a reason, or offer it again (codes are never deleted)."""
    label = services.get_reason_code(current_user, code).label
    retire = change == "retire"
    return button(
        services.set_reason_retired,
        code,
        retired=retire,
        success=_("理由“%(label)s”已停用。", label=label)
        if retire
        else _("理由“%(label)s”已恢复使用。", label=label),
        back_to=url_for("admin.reason_codes"),
    )
