"""Regions: the searchable list, a region renamed."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...clock import utcnow
from ...errors import ValidationFailed
from ...extensions import db
from .. import services
from ..forms import RegionRenameForm
from . import bp
from .common import attach_errors, paginate


@bp.get("/regions")
@login_required
def regions() -> ResponseReturnValue:
    """Regions, searchable by code or name."""
    q = request.args.get("q", "")[: services.SEARCH_MAX]
    pagination = paginate(services.regions_query(current_user, q=q))
    return render_template("admin/regions.html", pagination=pagination, q=q)


@bp.route("/regions/<code>", methods=["GET", "POST"])
@login_required
def region(code: str) -> ResponseReturnValue:
    """Rename a region after a GB/T 2260 change; its earlier names stay listed."""
    region = services.get_region(current_user, code)
    form = RegionRenameForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.rename_region(
                    current_user,
                    code,
                    name=form.name.data,
                    changed_on=form.changed_on.data,
                    now=utcnow(),
                )
            except ValidationFailed as error:
                attach_errors(form, error)
            else:
                flash(_("行政区划已改名为“%(name)s”。", name=region.name), "success")
                return redirect(url_for("admin.region", code=region.code))
        db.session.rollback()
        status = 422
    return render_template("admin/region.html", region=region, form=form), status
