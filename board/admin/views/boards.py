"""Boards: the list with the new-board form, one board and its holders."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...clock import utcnow
from .. import services
from ..forms import BoardForm, HolderForm
from . import bp
from .common import form_status, paginate, save


@bp.get("/boards")
@login_required
def boards() -> ResponseReturnValue:
    """Boards (of one region if asked), with the form to open a new one."""
    region = request.args.get("region", "").strip()[:6]
    pagination = paginate(services.boards_query(current_user, region_code=region))
    return render_template(
        "admin/boards.html", pagination=pagination, region=region, form=BoardForm(formdata=None)
    )


@bp.post("/boards")
@login_required
def new_board() -> ResponseReturnValue:
    """Open a leader post or a department board with its office unit."""
    services.require_admin(current_user)
    form = BoardForm()
    saved = save(
        form,
        lambda: services.create_board(
            current_user,
            code=form.code.data,
            region_code=form.region.data,
            post=form.post.data,
            title=form.title.data,
            office_code=form.office.data,
            holder_name=form.holder_name.data or "",
            started_on=form.started_on.data,
            now=utcnow(),
        ),
        lambda board: (
            _("留言板“%(title)s”已开通。", title=board.title),
            url_for("admin.board", code=board.code),
        ),
    )
    if saved is not None:
        return saved
    return render_template("admin/board_new.html", form=form), 422


@bp.route("/boards/<code>", methods=["GET", "POST"])
@login_required
def board(code: str) -> ResponseReturnValue:
    """One board: its holders past and present, and the form to record a new holder."""
    board = services.get_board(current_user, code)
    form = HolderForm()
    saved = save(
        form,
        lambda: services.change_holder(
            current_user,
            board,
            holder_name=form.holder_name.data or "",
            started_on=form.started_on.data,
            now=utcnow(),
        ),
        lambda board: (
            _("“%(title)s”的任职记录已保存。", title=board.label),
            url_for("admin.board", code=board.code),
        ),
    )
    if saved is not None:
        return saved
    return render_template("admin/board.html", board=board, form=form), form_status()
