"""Reason codes: the list with the form to add one, a reason reworded, retired or restored."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...clock import utcnow
from ...errors import ValidationFailed
from ...extensions import db
from .. import services
from ..forms import ActionForm, ReasonCodeForm
from . import bp
from .common import attach_errors


def _reason_values(form: ReasonCodeForm) -> dict:
    return {
        "label": form.label.data or "",
        "label_en": form.label_en.data or "",
        "description": form.description.data or "",
        "sort": form.sort.data,
    }


@bp.route("/reason-codes", methods=["GET", "POST"])
@login_required
def reason_codes() -> ResponseReturnValue:
    """The published reasons by use, the retired marked, with the form to add one."""
    services.require_admin(current_user)
    form = ReasonCodeForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                reason = services.create_reason_code(
                    current_user,
                    use=form.use.data,
                    slug=form.slug.data or "",
                    now=utcnow(),
                    **_reason_values(form),
                )
            except ValidationFailed as error:
                attach_errors(form, error)
            else:
                flash(_("理由“%(label)s”已发布。", label=reason.label), "success")
                return redirect(url_for("admin.reason_codes"))
        db.session.rollback()
        status = 422
    return (
        render_template(
            "admin/reason_codes.html",
            reasons=services.reason_codes(current_user),
            form=form,
            action_form=ActionForm(),
        ),
        status,
    )


@bp.route("/reason-codes/<path:code>", methods=["GET", "POST"])
@login_required
def edit_reason_code(code: str) -> ResponseReturnValue:
    """Reword a reason or move it in the list."""
    reason = services.get_reason_code(current_user, code)
    form = ReasonCodeForm(obj=reason if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.update_reason_code(current_user, code, now=utcnow(), **_reason_values(form))
        except ValidationFailed as error:
            attach_errors(form, error)
        else:
            flash(_("理由“%(label)s”已保存。", label=reason.label), "success")
            return redirect(url_for("admin.reason_codes"))
    status = 422 if request.method == "POST" else 200
    if status == 422:
        db.session.rollback()
    return render_template("admin/reason_code_edit.html", reason=reason, form=form), status


@bp.post("/reason-codes/<path:code>/<any(retire, restore):change>")
@login_required
def retire_reason_code(code: str, change: str) -> ResponseReturnValue:
    """Stop offering a reason, or offer it again (codes are never deleted)."""
    reason = services.get_reason_code(current_user, code)
    if ActionForm().validate_on_submit():
        services.set_reason_retired(current_user, code, retired=change == "retire", now=utcnow())
        flash(
            _("理由“%(label)s”已停用。", label=reason.label)
            if change == "retire"
            else _("理由“%(label)s”已恢复使用。", label=reason.label),
            "success",
        )
    else:
        flash(_("请求已过期，请重试。"), "error")
    return redirect(url_for("admin.reason_codes"))
