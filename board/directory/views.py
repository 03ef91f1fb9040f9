"""The public front: home page, leader directory, region and board pages, language switch."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import cache
from ..auth.views import safe_next_url
from ..clock import local_date, utcnow
from ..extensions import db
from ..messages.queries import public_messages_query
from ..models import DOMAIN_LABELS, Message, Reply
from ..paging import page_arg
from ..search.forms import state_groups
from ..search.topics import first_level_choices
from ..stats import listing
from ..stats import services as stats
from ..stats.views import chart_for, download_links, kind_groups
from . import services

bp = Blueprint("directory", __name__)

HOME_LIST_SIZE = 8
# What a message list shows besides the message: its board, its author (whose private details
# are masked out of the text) and its replies with their units, each in one query per list.
LIST_LOADS = (
    selectinload(Message.board),
    selectinload(Message.author),
    selectinload(Message.replies).selectinload(Reply.unit),
)
LANGUAGE_COOKIE_AGE = timedelta(days=365)


def _page() -> int:
    """The requested page number (1 when absent or malformed)."""
    return page_arg()


def _paginate(query, total: int | None = None):
    """One page of a query with the site's page size; the total (a count over every matching
    message, unless the caller knows it) is reused for a bounded time (`cache.recent`), the
    page's rows are current."""
    pagination = db.paginate(
        query,
        page=_page(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        count=False,
    )
    if total is not None:
        pagination.total = total
        return pagination
    compiled = query.compile()
    key = ("total", str(compiled), repr(sorted(compiled.params.items())))
    pagination.total = cache.recent(
        key,
        lambda: db.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery())
        ),
    )
    return pagination


@bp.route("/")
def home() -> ResponseReturnValue:
    """Counters, the latest replies and messages, search, and the way into the directory."""
    latest_replied = db.session.scalars(
        services.latest_replied_query().options(*LIST_LOADS).limit(HOME_LIST_SIZE)
    ).all()
    latest = db.session.scalars(
        public_messages_query().options(*LIST_LOADS).limit(HOME_LIST_SIZE)
    ).all()
    now = utcnow()
    return render_template(
        "directory/home.html",
        counters=stats.counters(now=now),  # exact: counts per day (board/stats/daily.py)
        cosigned=stats.most_cosigned(now=now, limit=HOME_LIST_SIZE),
        latest_replied=latest_replied,
        latest=latest,
        provinces=services.provinces(),
    )


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers ask for /favicon.ico before reading the page's icon link: send them to it."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.route("/leaders")
def leaders() -> ResponseReturnValue:
    """Browse the leader boards: provinces, then a region's boards and the regions below it."""
    code = request.args.get("region", "").strip()
    if not code:
        return render_template(
            "directory/leaders.html", region=None, trail=[], children=services.provinces()
        )
    region = services.get_region(code)
    if region.merged_into_code:  # a retired GB/T 2260 code: browse where it lives now
        return redirect(url_for("directory.leaders", region=region.merged_into_code), 301)
    return render_template(
        "directory/leaders.html",
        region=region,
        trail=services.ancestors(region),
        children=region.children,
    )


def _topic_choices(chosen) -> list[tuple[str, str]]:
    """The active first-level topics for the listing's topic select, plus the chosen one when
    it is retired (a shared link to old messages keeps showing what it filters by)."""
    choices = first_level_choices()
    if chosen is not None and str(chosen.id) not in {value for value, _name in choices}:
        choices.append((str(chosen.id), chosen.label))
    return choices


def _listing_page(what: str, entity, *, trail: list):
    """The page of a region, board or unit (`what` names which, `entity` is it): its filtered
    public messages, figures, chart, feeds and downloads, under the regions in `trail`."""
    template = f"directory/{what}.html"
    filters = listing.read(
        request.args, **{"region": None, "board": None, "unit": None, what: entity}
    )
    filters.q = ""
    scope = stats.Scope(
        **{what: entity},
        kind=filters.kind,
        domain=filters.domain,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    now = utcnow()
    figures = cache.recent(
        (
            "figures",
            template,
            request.view_args["code"],
            filters.kind,
            filters.domain,
            filters.date_from,
            filters.date_to,
            local_date(now),
        ),
        lambda: stats.figures(scope, now=now),
    )
    query = listing.query(filters).options(*LIST_LOADS)
    args = {k: v for k, v in filters.args().items()}
    return render_template(
        template,
        filters=filters,
        figures=figures,
        chart=chart_for(figures.series),
        links=download_links(args),
        kind_groups=kind_groups(),
        domain_choices=[(d.value, label) for d, label in DOMAIN_LABELS.items()],
        state_choices=state_groups(),
        topic_choices=_topic_choices(filters.topic),
        # Without a state or reply filter the listing holds exactly the cases the figures
        # count (public, in scope, kind, domain and period alike): no second count.
        pagination=_paginate(
            query, figures.messages if not filters.states and filters.replied is None else None
        ),
        trail=trail,
        **{what: entity},
    )


@bp.route("/regions/<code>")
def region(code: str) -> ResponseReturnValue:
    """A region: its boards, the regions below it, its figures and the public messages about it."""
    region = services.get_region(code)
    if region.merged_into_code:  # a retired GB/T 2260 code: its region lives on there
        return redirect(url_for("directory.region", code=region.merged_into_code), 301)
    return _listing_page("region", region, trail=services.ancestors(region))


@bp.route("/boards/<code>")
def board(code: str) -> ResponseReturnValue:
    """A leader board: its public messages with their replies, filters, figures and chart."""
    board = services.get_board(code)
    successor = services.successor_board(board) if board.region.merged_into_code else None
    if successor is not None:  # the post of a merged region: its messages are there now
        return redirect(url_for("directory.board", code=successor.code), 301)
    return _listing_page("board", board, trail=services.ancestors(board.region) + [board.region])


@bp.route("/units/<code>")
def unit(code: str) -> ResponseReturnValue:
    """A handling unit: the public messages it holds or answered, its figures and chart."""
    unit = services.get_unit(code)
    return _listing_page("unit", unit, trail=services.ancestors(unit.region) + [unit.region])


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
