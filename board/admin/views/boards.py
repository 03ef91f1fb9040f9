"""Boards: the list with the new-board form, one board and its holders."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ...paging import paginate
from .. import services
from ..forms import BoardForm, HolderForm
from . import bp
from .common import done, form_status, form_values, submitted


@bp.get("/boards")
def boards() -> ResponseReturnValue:
    """Boards (of one region if asked), with the form to open a new one."""
    region = request.args.get("region", "").strip()[:6]
    pagination = paginate(services.boards_query(current_user, region_code=region))
    return render_template(
        "admin/boards.html", pagination=pagination, region=region, form=BoardForm(formdata=None)
    )


@bp.post("/boards")
def new_board() -> ResponseReturnValue:
    """Open a leader post or a department board with its office unit."""
    form = BoardForm()
    names = ("code", "post", "title", "holder_name", "started_on")
    values = form_values(form, *names, region_code="region", office_code="office")
    if board := submitted(form, services.create_board, **values):
        return done(
            _("留言板“%(title)s”已开通。", title=board.title), "admin.board", code=board.code
        )
    return render_template("admin/board_new.html", form=form), 422


@bp.route("/boards/<code>", methods=["GET", "POST"])
def board(code: str) -> ResponseReturnValue:
    """One board: its holders past and present, and the form to record a new holder."""
    board = services.get_board(current_user, code)
    form = HolderForm()
    values = form_values(form, "holder_name", "started_on")
    if saved := submitted(form, services.change_holder, board, **values):
        message = _("“%(title)s”的任职记录已保存。", title=saved.label)
        return done(message, "admin.board", code=saved.code)
    return render_template("admin/board.html", board=board, form=form), form_status()
