"""`/desk/search`: staff search their own scope, private cases and internal notes included."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..paging import page_arg
from . import services
from .forms import CaseSearchForm

bp = Blueprint("casesearch", __name__)


@bp.get("/desk/search")
@login_required
def search() -> ResponseReturnValue:
    """Search the cases the signed-in staff member may read; the service enforces the scope."""
    user = current_user._get_current_object()
    services.require_searcher(user)
    form = CaseSearchForm(request.args)
    form.validate()
    q = (form.q.data or "").strip() if not form.q.errors else ""
    page = page_arg()
    result = services.search_cases(user, q, page=page) if q else None
    page_html = render_template("casesearch/search.html", form=form, q=q, result=result)
    # Private cases and originals: no shared cache may keep this page.
    return page_html, 422 if form.errors else 200, {"Cache-Control": "no-store"}
