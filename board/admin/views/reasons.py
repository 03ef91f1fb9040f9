"""Reason codes: the list with the form to add one, a reason reworded, retired or restored."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...clock import utcnow
from .. import services
from ..forms import ActionForm, ReasonCodeForm
from . import bp
from .common import button_pressed, form_status, save


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
    saved = save(
        form,
        lambda: services.create_reason_code(
            current_user,
            use=form.use.data,
            slug=form.slug.data or "",
            now=utcnow(),
            **_reason_values(form),
        ),
        lambda reason: (
            _("理由“%(label)s”已发布。", label=reason.label),
            url_for("admin.reason_codes"),
        ),
    )
    if saved is not None:
        return saved
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
@login_required
def edit_reason_code(code: str) -> ResponseReturnValue:
    """Reword a reason or move it in the list."""
    reason = services.get_reason_code(current_user, code)
    form = ReasonCodeForm(obj=reason if request.method == "GET" else None)
    saved = save(
        form,
        lambda: services.update_reason_code(
            current_user, code, now=utcnow(), **_reason_values(form)
        ),
        lambda reason: (
            _("理由“%(label)s”已保存。", label=reason.label),
            url_for("admin.reason_codes"),
        ),
    )
    if saved is not None:
        return saved
    page = render_template("admin/reason_code_edit.html", reason=reason, form=form)
    return page, form_status()


@bp.post("/reason-codes/<path:code>/<any(retire, restore):change>")
@login_required
def retire_reason_code(code: str, change: str) -> ResponseReturnValue:
    """Stop offering a reason, or offer it again (codes are never deleted)."""
    reason = services.get_reason_code(current_user, code)
    if button_pressed():
        services.set_reason_retired(current_user, code, retired=change == "retire", now=utcnow())
        flash(
            _("理由“%(label)s”已停用。", label=reason.label)
            if change == "retire"
            else _("理由“%(label)s”已恢复使用。", label=reason.label),
            "success",
        )
    return redirect(url_for("admin.reason_codes"))
