"""Regions: the searchable list, a region renamed or merged into another."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ...paging import paginate
from .. import services
from ..forms import RegionMergeForm, RegionRenameForm
from . import bp
from .common import done, form_status, form_values, submitted


@bp.get("/regions")
def regions() -> ResponseReturnValue:
    """Regions, searchable by code or name."""
    q = request.args.get("q", "")[: services.SEARCH_MAX]
    pagination = paginate(services.regions_query(current_user, q=q))
    return render_template("admin/regions.html", pagination=pagination, q=q)


@bp.route("/regions/<code>", methods=["GET", "POST"])
def region(code: str) -> ResponseReturnValue:
    """Rename a region after a GB/T 2260 change; its earlier names stay listed."""
    region = services.get_region(current_user, code)
    form = RegionRenameForm()
    if renamed := submitted(
        form, services.rename_region, code, **form_values(form, "name", "changed_on")
    ):
        return done(
            _("行政区划已改名为“%(name)s”。", name=renamed.name), "admin.region", code=renamed.code
        )
    return _region_page(region, form=form, status=form_status())


def _region_page(region, *, status: int = 200, **forms) -> ResponseReturnValue:
    """The region's admin page with its rename and merge forms."""
    forms.setdefault("form", RegionRenameForm(formdata=None))
    forms.setdefault("merge_form", RegionMergeForm(formdata=None))
    return render_template("admin/region.html", region=region, **forms), status


@bp.post("/regions/<code>/merge")
def merge_region(code: str) -> ResponseReturnValue:
    """Retire this region into another after a GB/T 2260 merge (services/region_merge.py)."""
    region = services.get_region(current_user, code)
    form = RegionMergeForm()
    if survivor := submitted(
        form, services.merge_region, code, **form_values(form, "into", "merged_on")
    ):
        message = _("%(old)s 已并入 %(new)s。", old=code, new=survivor.full_name)
        return done(message, "admin.region", code=survivor.code)
    return _region_page(region, merge_form=form, status=form_status())
