"""Units: the list, a new unit, one unit with its staff, a staff member moved."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ...clock import utcnow
from ...errors import NotFound, ValidationFailed, flash_errors
from .. import services
from ..forms import MoveStaffForm, UnitForm
from . import bp
from .common import done, form_status, form_values, submitted


@bp.get("/units")
def units() -> ResponseReturnValue:
    """Every unit with its region, parent and published contact phone."""
    return render_template("admin/units.html", units=services.units(current_user))


def _unit_values(form: UnitForm, *names: str) -> dict:
    """The unit's fields as the services' keywords (and `names`, such as the new unit's code)."""
    renamed = {"region_code": "region", "parent_code": "parent"}
    return form_values(form, "name", "email", *names, contact_phone_text="contact_phone", **renamed)


@bp.route("/units/new", methods=["GET", "POST"])
def new_unit() -> ResponseReturnValue:
    """Add a unit."""
    form = UnitForm()
    if unit := submitted(form, services.create_unit, **_unit_values(form, "code")):
        return done(_("单位“%(name)s”已添加。", name=unit.name), "admin.edit_unit", code=unit.code)
    return render_template("admin/unit_edit.html", unit=None, form=form), form_status()


@bp.route("/units/<code>", methods=["GET", "POST"])
def edit_unit(code: str) -> ResponseReturnValue:
    """Change a unit's name, region, parent, e-mail and published phone; list and move its staff."""
    unit = services.get_unit(current_user, code)
    form = UnitForm(
        data={
            "name": unit.name,
            "region": unit.region_code,
            "parent": unit.parent.code if unit.parent else "",
            "email": unit.email or "",
            "contact_phone": unit.contact_phone or "",
        }
        if request.method == "GET"
        else None
    )
    if saved := submitted(form, services.update_unit, code, **_unit_values(form)):
        return done(_("“%(name)s”已保存。", name=saved.name), "admin.units")
    return (
        render_template(
            "admin/unit_edit.html",
            unit=unit,
            form=form,
            staff=services.unit_staff(current_user, unit),
            move_form=MoveStaffForm(formdata=None),
        ),
        form_status(),
    )


@bp.post("/units/<code>/staff/<id:user_id>")
def move_staff(code: str, user_id: int) -> ResponseReturnValue:
    """Move a handler or coordinator of this unit to another unit."""
    unit = services.get_unit(current_user, code)
    user = services.get_user(current_user, user_id)
    if user.unit_id != unit.id:
        raise NotFound()
    form = MoveStaffForm()
    if not form.validate_on_submit():
        flash(_("请填写要调往的单位代码。"), "error")
        return redirect(url_for("admin.edit_unit", code=unit.code))
    try:
        services.move_staff(current_user, user, form.unit.data, now=utcnow())
    except ValidationFailed as error:
        flash_errors(error)
    else:
        flash(_("%(email)s 已调往 %(unit)s。", email=user.email, unit=user.unit.name), "success")
    return redirect(url_for("admin.edit_unit", code=unit.code))
