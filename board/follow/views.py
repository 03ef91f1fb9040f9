"""Follow buttons, "我的关注", saved searches in the account area, and their Atom feeds."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..clock import utcnow
from ..errors import NotFound, ValidationFailed, flash_outcome
from ..extensions import db
from ..messages import services as msg
from ..models import Message, User
from ..paging import page_arg
from ..stats import feeds
from . import cli, services
from .forms import ButtonForm, SaveSearchForm

bp = Blueprint("follow", __name__, cli_group="alerts")  # `flask alerts …` (cli.py)

PER_PAGE = 30
cli.init_blueprint(bp)


def _me() -> User:
    return current_user._get_current_object()


def _message(code: str) -> Message:
    """The message if the signed-in user may read it, else the usual 404."""
    message = db.session.scalar(select(Message).where(Message.code == code.strip().upper()))
    if message is None or not msg.can_view(_me(), message):
        raise NotFound(_("没有编号为 %(code)s 的留言。", code=code))
    return message


def _back(message: Message) -> ResponseReturnValue:
    """Back to where the button was pressed: the message page or the follows list."""
    if request.form.get("next") == "follows":
        return redirect(url_for("follow.follows"))
    return redirect(url_for("messages.show", code=message.code))


@bp.app_context_processor
def _follow_helpers() -> dict:
    """`is_following(m)` for the follow button on the message page."""

    def is_following(message: Message) -> bool:
        if not current_user.is_authenticated:
            return False
        return services.find_follow(_me(), message) is not None

    return {"is_following": is_following}


@bp.post("/m/<code>/follow")
@login_required
def follow(code: str) -> ResponseReturnValue:
    """Follow a public message (关注): mail when it is answered or closed."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    message = _message(code)
    flash_outcome(
        lambda: services.follow_message(message, _me(), now=utcnow()),
        _("已关注。留言有答复或办结时，我们会发邮件告诉您。"),
    )
    return _back(message)


@bp.post("/m/<code>/unfollow")
@login_required
def unfollow(code: str) -> ResponseReturnValue:
    """Stop following a message; possible also after it stopped being public."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    message = db.session.scalar(select(Message).where(Message.code == code.strip().upper()))
    if message is None or not (
        msg.can_view(_me(), message) or services.find_follow(_me(), message) is not None
    ):
        raise NotFound(_("没有编号为 %(code)s 的留言。", code=code))
    services.unfollow_message(message, _me())
    flash(_("已取消关注。"), "success")
    return _back(message)


@bp.get("/account/follows")
@login_required
def follows() -> ResponseReturnValue:
    """我的关注: the followed messages with their state and last public change."""
    page = page_arg()
    rows, total = services.follow_rows(_me(), page=page, per_page=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return render_template("follow/follows.html", rows=rows, total=total, page=page, pages=pages)


@bp.get("/account/searches")
@login_required
def searches() -> ResponseReturnValue:
    """The user's saved searches, each with its search link, feed and a delete button."""
    rows = db.session.scalars(services.saved_searches_query(_me())).all()
    page = render_template("follow/searches.html", searches=rows, form=ButtonForm())
    # The page shows feed URLs with their secret tokens: no shared cache may keep it.
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/account/searches")
@login_required
def save_search() -> ResponseReturnValue:
    """Save the search the search page shows (its words and filters)."""
    form = SaveSearchForm()
    if not form.validate_on_submit():
        flash(_("无法保存这个搜索，请重试。"), "error")
        return redirect(url_for("search.search"))
    try:
        saved = services.save_search(
            _me(), form.search_args(), name=form.name.data or "", now=utcnow()
        )
    except ValidationFailed as error:
        flash(error.message, "error")
        return redirect(url_for("search.search", **form.search_args()))
    flash(_("已保存搜索“%(name)s”：有新的公开留言时，每天最多发一封提醒邮件。", name=saved.name),
          "success")  # fmt: skip
    return redirect(url_for("follow.searches"))


@bp.post("/account/searches/<id:search_id>/delete")
@login_required
def delete_search(search_id: int) -> ResponseReturnValue:
    """Delete one of the user's saved searches (its feed stops working too)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    services.delete_saved_search(_me(), search_id)
    flash(_("已删除保存的搜索。"), "success")
    return redirect(url_for("follow.searches"))


@bp.get("/feeds/saved/<token>.atom")
def saved_feed(token: str) -> ResponseReturnValue:
    """A saved search's Atom feed, addressed by its unguessable token (no sign-in needed)."""
    saved = services.saved_search_by_token(token)
    filters = services.filters_of(saved)
    body = feeds.messages_feed(
        filters,
        title=_("%(name)s · 民声", name=saved.name),
        self_url=request.base_url,
        alternate=url_for("search.search", _external=True, **filters.args()),
        now=utcnow(),
    )
    return Response(
        body,
        content_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"},
    )
