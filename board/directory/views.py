"""The public front: home page, leader directory, region and board pages, language switch."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from ..auth.views import safe_next_url
from ..clock import utcnow
from ..extensions import db
from ..messages.services import public_messages_query
from ..models import DOMAIN_LABELS, KIND_LABELS, KINDS_BY_TRACK, TRACK_LABELS, Message
from . import services

bp = Blueprint("directory", __name__)

HOME_LIST_SIZE = 8
LANGUAGE_COOKIE_AGE = timedelta(days=365)


def _page() -> int:
    """The requested page number (1 when absent or malformed)."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _paginate(query):
    """One page of a query with the site's page size."""
    return db.paginate(
        query, page=_page(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )


@bp.route("/")
def home() -> ResponseReturnValue:
    """Counters, the latest replies and messages, search, and the way into the directory."""
    with_board = selectinload(Message.board)
    latest_replied = db.session.scalars(
        services.latest_replied_query()
        .options(with_board, selectinload(Message.replies))
        .limit(HOME_LIST_SIZE)
    ).all()
    latest = db.session.scalars(
        public_messages_query().options(with_board).limit(HOME_LIST_SIZE)
    ).all()
    return render_template(
        "directory/home.html",
        counters=services.counters(now=utcnow()),
        latest_replied=latest_replied,
        latest=latest,
        provinces=services.provinces(),
    )


@bp.route("/leaders")
def leaders() -> ResponseReturnValue:
    """Browse the leader boards: provinces, then a region's boards and the regions below it."""
    code = request.args.get("region", "").strip()
    if not code:
        return render_template(
            "directory/leaders.html", region=None, trail=[], children=services.provinces()
        )
    region = services.get_region(code)
    return render_template(
        "directory/leaders.html",
        region=region,
        trail=services.ancestors(region),
        children=region.children,
    )


@bp.route("/regions/<code>")
def region(code: str) -> ResponseReturnValue:
    """A region: its boards, the regions below it and the public messages about it."""
    region = services.get_region(code)
    return render_template(
        "directory/region.html",
        region=region,
        trail=services.ancestors(region),
        pagination=_paginate(
            services.region_messages_query(region).options(selectinload(Message.board))
        ),
    )


@bp.route("/boards/<code>")
def board(code: str) -> ResponseReturnValue:
    """A leader board: its public messages with their replies, filterable by kind, domain, state."""
    board = services.get_board(code)
    filters = {name: request.args.get(name, "").strip() for name in ("kind", "domain", "state")}
    return render_template(
        "directory/board.html",
        board=board,
        trail=services.ancestors(board.region) + [board.region],
        filters=filters,
        kind_groups=[
            (TRACK_LABELS[track], [(k.value, KIND_LABELS[k]) for k in kinds])
            for track, kinds in KINDS_BY_TRACK.items()
        ],
        domain_choices=[(d.value, label) for d, label in DOMAIN_LABELS.items()],
        state_choices=services.state_filter_choices(),
        pagination=_paginate(services.board_messages_query(board, **filters)),
    )


@bp.route("/lang/<lang>")
def set_language(lang: str) -> ResponseReturnValue:
    """Remember the chosen language in a cookie and go back to a page of this site."""
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    response = redirect(safe_next_url(request.args.get("next")) or url_for("directory.home"))
    response.set_cookie(
        "lang",
        lang,
        max_age=int(LANGUAGE_COOKIE_AGE.total_seconds()),
        samesite="Lax",
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response
