"""Open data pages: rankings (排行), the periodic report, Atom feeds, CSV / JSON Lines downloads."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..clock import local_date, utcnow
from ..errors import NotFound
from ..extensions import db
from ..models import (
    DOMAIN_LABELS,
    KIND_LABELS,
    KINDS_BY_TRACK,
    LEVEL_LABELS,
    TRACK_LABELS,
    Post,
    Region,
    RegionLevel,
)
from ..security import limit_search
from . import exports, feeds, listing, services
from . import models as _indexes  # noqa: F401 (registers the indexes with the schema)
from .charts import month_chart
from .topics import by_topic

bp = Blueprint("opendata", __name__)

GROUP_LABELS = {"region": _l("地区"), "board": _l("留言板"), "unit": _l("办理单位")}
SORT_LABELS = {
    "on_time": _l("按期答复率（区间下限）"),
    "reply_rate": _l("答复率（区间下限）"),
    "speed": _l("答复用时中位数"),
}
POST_LABELS = {Post.SECRETARY: _l("书记"), Post.GOVERNOR: _l("省长、市长、县长")}
# The rankings form's choices, by argument.
RANKING_LABELS = {
    "group": GROUP_LABELS,
    "level": LEVEL_LABELS,
    "sort": SORT_LABELS,
    "post": POST_LABELS,
}


def kind_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The kinds grouped by track, labelled, for a kind menu's optgroups."""
    return [
        (TRACK_LABELS[track], [(k.value, KIND_LABELS[k]) for k in kinds])
        for track, kinds in KINDS_BY_TRACK.items()
    ]


def chart_for(points) -> str:
    """The month chart of a series, labelled in the current language."""
    return month_chart(
        points,
        messages_label=_("留言"),
        replies_label=_("答复"),
        count_label=_("条数"),
        month_label=_("月份（年-月）"),
    )


def _provinces() -> list[Region]:
    return list(
        db.session.scalars(
            select(Region).where(Region.level == RegionLevel.PROVINCE).order_by(Region.code)
        )
    )


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat((request.args.get(name) or "").strip()[:10])
    except ValueError:
        return None


def _choice(name: str, allowed, default=None):
    value = (request.args.get(name) or "").strip()
    return value if value in allowed else default


# ---------------------------------------------------------------------------------------------
# Rankings


@bp.get("/rankings")
def rankings() -> ResponseReturnValue:
    """Regions by level, boards and units ranked over a period, with Wilson intervals."""
    now = utcnow()
    today = local_date(now)
    group = _choice("group", services.GROUPS, "board")
    level = _choice("level", [lv.value for lv in RegionLevel], None)
    if group == "region" and level is None:
        level = RegionLevel.CITY.value
    sort = _choice("sort", services.SORTS, "on_time")
    kind = _choice("kind", KIND_LABELS, None)
    post = _choice("post", [p.value for p in POST_LABELS], None) if group == "board" else None
    date_from = _date_arg("from") or today.replace(month=1, day=1)
    date_to = _date_arg("to") or today
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    region_code = (request.args.get("region") or "").strip()[:6]
    region = db.session.get(Region, region_code) if region_code else None
    min_cases = int(current_app.config.get("RANKING_MIN_CASES", 20))
    scope = services.Scope(region=region, kind=kind, date_from=date_from, date_to=date_to)
    result = services.ranking(
        group, scope, now=now, min_cases=min_cases, level=level, post=post, sort=sort
    )
    download = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    if kind:
        download["kind"] = kind
    return render_template(
        "stats/rankings.html",
        ranking=result,
        scope=scope,
        provinces=_provinces(),
        labels=RANKING_LABELS,
        kind_groups=kind_groups(),
        download=download,
    )


# ---------------------------------------------------------------------------------------------
# Periodic report


@bp.get("/reports")
def report() -> ResponseReturnValue:
    """A region's report for a month, quarter or year (信访工作条例 Art. 41)."""
    now = utcnow()
    today = local_date(now)
    period_text = (request.args.get("period") or "").strip()[:10]
    period = services.parse_period(period_text) or services.parse_period(str(today.year))
    region_code = (request.args.get("region") or "").strip()[:6]
    region = db.session.get(Region, region_code) if region_code else None
    if region_code and region is None:
        raise NotFound()
    result = services.report(region, period, now=now) if region is not None else None
    topics = (
        by_topic(services.Scope(region=region, date_from=period.first, date_to=period.last))
        if region is not None
        else []
    )
    years = list(range(today.year, today.year - 6, -1))
    return render_template(
        "stats/report.html",
        report=result,
        topics=topics,
        region=region,
        period=period,
        periods=_period_choices(years),
        provinces=_provinces(),
        chart=chart_for(result.figures.series) if result else "",
        kind_labels=KIND_LABELS,
        domain_labels=DOMAIN_LABELS,
        invalid_period=bool(period_text) and services.parse_period(period_text) is None,
    )


def _period_choices(years: list[int]) -> list[tuple[str, str]]:
    choices = []
    for year in years:
        choices.append((str(year), _("%(y)d 年", y=year)))
        for q in range(1, 5):
            choices.append((f"{year}-Q{q}", _("%(y)d 年第 %(q)d 季度", y=year, q=q)))
        for month in range(1, 13):
            choices.append((f"{year}-{month:02d}", _("%(y)d 年 %(m)d 月", y=year, m=month)))
    return choices


# ---------------------------------------------------------------------------------------------
# Feeds and downloads


def _feed_title(filters: listing.Filters, what: str) -> str:
    """The feed's board, unit, region, topic and words, then what it lists:
    杭州市委书记 · 主题：城乡建设 · 最新答复 · 民声."""
    parts = [
        entity.full_label if isinstance(entity, Region) else entity.label
        for entity in (filters.board, filters.unit, filters.region)
        if entity is not None
    ]
    if filters.topic is not None:
        parts.append(_("主题：%(name)s", name=filters.topic.label))
    if filters.q:
        parts.append(_("“%(q)s”", q=filters.q))
    return " · ".join([*parts, what, _("民声")])


def _atom(build, what: str, alternate) -> Response:
    """An Atom feed of a listing (the request's filters): `build` writes it, `what` names it in
    the title, `alternate(filters)` is its page on the site."""
    filters = listing.read(request.args, strict=True)
    body = build(
        filters,
        title=_feed_title(filters, what),
        self_url=request.url,
        alternate=alternate(filters),
        now=utcnow(),
    )
    return Response(
        body, mimetype="application/atom+xml", content_type="application/atom+xml; charset=utf-8"
    )


@bp.get("/feeds/replies.atom")
def replies_feed() -> ResponseReturnValue:
    """Latest replies, for everything or a board / unit / region / search (same parameters)."""
    return _atom(
        feeds.replies_feed, _("最新答复"), lambda _f: url_for("directory.home", _external=True)
    )


@bp.get("/feeds/messages.atom")
def messages_feed() -> ResponseReturnValue:
    """Newest public messages for any listing or search (the search page's parameters)."""
    return _atom(
        feeds.messages_feed,
        _("最新留言"),
        lambda filters: url_for("search.search", _external=True, **filters.args()),
    )


EXPORTS = {
    "csv": ("text/csv; charset=utf-8", exports.csv_lines),
    "jsonl": ("application/x-ndjson; charset=utf-8", exports.jsonl_lines),
}


@bp.get("/export/messages.<fmt>")
@limit_search
def export(fmt: str) -> ResponseReturnValue:
    """Every public case of a listing or search as CSV or JSON Lines, streamed."""
    if fmt not in EXPORTS:
        raise NotFound()
    filters = listing.read(request.args, strict=True)
    mimetype, lines = EXPORTS[fmt]
    name = f"minsheng-{local_date(utcnow()).isoformat()}.{fmt}"
    response = Response(stream_with_context(lines(filters)), content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def download_links(args: dict) -> dict[str, str]:
    """Feed and download URLs for a listing with these arguments (for templates)."""
    return {
        "replies_feed": url_for("opendata.replies_feed", **args),
        "messages_feed": url_for("opendata.messages_feed", **args),
        "csv": url_for("opendata.export", fmt="csv", **args),
        "jsonl": url_for("opendata.export", fmt="jsonl", **args),
    }
