"""The public search page: a GET form with a shareable URL, highlighted hits, facets, pages."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import DOMAIN_LABELS, KIND_LABELS, Board, Region, RegionLevel, Unit
from ..paging import page_arg
from .forms import REPLIED_LABELS, SearchForm, state_groups
from .query import SearchResult, search_messages
from .topics import first_level_choices, resolve_topic, topic_labels

bp = Blueprint("search", __name__)

FACET_TITLES = {
    "region": _l("地区"),
    "topic": _l("主题分类"),
    "domain": _l("领域"),
    "kind": _l("类别"),
    "state": _l("状态"),
    "year": _l("年份"),
}
FACET_PARAMS = {
    "region": "region",
    "topic": "topic",
    "domain": "domain",
    "kind": "kind",
    "state": "state",
}


@dataclass
class Link:
    """A refinement or removal link: its text, an optional count, the URL, and if it is chosen."""

    label: str
    url: str
    count: int | None = None
    active: bool = False


def _region_choices(current: str | None) -> list[tuple[str, str]]:
    """Provinces, plus the chosen region when it lies deeper."""
    provinces = db.session.scalars(
        select(Region).where(Region.level == RegionLevel.PROVINCE).order_by(Region.code)
    )
    choices = [(r.code, r.label) for r in provinces]
    if current and current not in {code for code, _name in choices}:
        region = db.session.get(Region, current)
        if region is not None:
            choices.append((region.code, region.full_label))
    return choices


def _topic_choices(current: str | None) -> list[tuple[str, str]]:
    """The active first-level topics, plus the chosen one when it is retired (old messages)."""
    choices = first_level_choices()
    chosen = resolve_topic(current)
    if chosen is not None and chosen not in {value for value, _name in choices}:
        choices += list(topic_labels([chosen]).items())
    return choices


def _url(**changes: str | None) -> str:
    """This search's URL with some parameters changed (None drops one), back on page 1."""
    args = {k: v for k, v in request.args.items() if k != "page" and v != ""}
    for key, value in changes.items():
        if value:
            args[key] = value
        else:
            args.pop(key, None)
    return url_for("search.search", **args)


def _facet_links(result: SearchResult, form: SearchForm) -> dict:
    """Facet counts as refinement links, labelled, the chosen value marked."""
    facets = result.facets
    links: dict[str, list[Link]] = {}
    regions = {
        r.code: r.label
        for r in db.session.scalars(
            select(Region).where(Region.code.in_([v for v, _n in facets.get("region", [])]))
        )
    }
    labels = {
        "domain": DOMAIN_LABELS,
        "kind": KIND_LABELS,
        "region": regions,
        "topic": result.labels.get("topic", {}),
    }
    for name in ("region", "topic", "domain", "kind"):
        chosen = form[name].data
        links[name] = [
            Link(str(labels[name].get(value, value)), _url(**{name: value}), n, chosen == value)
            for value, n in facets.get(name, [])
        ]
    counts = dict(facets.get("state", []))
    links["state"] = []
    for codes, label in state_groups():
        n = sum(counts.get(code, 0) for code in codes.split(","))
        if n:
            links["state"].append(Link(label, _url(state=codes), n, form.state.data == codes))
    years = sorted(facets.get("year", []), reverse=True)
    links["year"] = [
        Link(value, _url(**{"from": f"{value}-01-01", "to": f"{value}-12-31"}), n)
        for value, n in years
    ]
    return {name: found for name, found in links.items() if found}


def _active_filters(form: SearchForm, filters: dict) -> list[Link]:
    """The filters in use, each with a link that removes it."""
    found: list[Link] = []
    if "region" in filters:
        region = db.session.get(Region, filters["region"])
        found.append(Link(region.full_label if region else filters["region"], _url(region=None)))
    if "board" in filters:
        board = db.session.scalar(select(Board).where(Board.code == filters["board"]))
        found.append(Link(board.label if board else filters["board"], _url(board=None)))
    if "unit" in filters:
        unit = db.session.scalar(select(Unit).where(Unit.code == filters["unit"]))
        found.append(Link(unit.label if unit else filters["unit"], _url(unit=None)))
    if "topic" in filters:
        label = topic_labels([filters["topic"]]).get(filters["topic"], filters["topic"])
        found.append(Link(label, _url(topic=None)))
    for name, labels in (("kind", KIND_LABELS), ("domain", DOMAIN_LABELS)):
        if name in filters:
            found.append(Link(str(labels.get(filters[name], filters[name])), _url(**{name: None})))
    if "state" in filters:
        found.append(Link(dict(state_groups()).get(form.state.data, ""), _url(state=None)))
    if "replied" in filters:
        found.append(Link(str(REPLIED_LABELS[form.replied.data]), _url(replied=None)))
    if "date_from" in filters:
        found.append(
            Link(_("%(d)s 起", d=filters["date_from"].isoformat()), _url(**{"from": None}))
        )
    if "date_to" in filters:
        found.append(Link(_("至 %(d)s", d=filters["date_to"].isoformat()), _url(to=None)))
    return found


@bp.get("/search")  # limited by security.check_search_page_limit, ahead of the page cache
def search() -> ResponseReturnValue:
    """Search public messages and replies; filters and facets narrow, the URL can be shared."""
    form = SearchForm(
        request.args,
        region_choices=_region_choices(request.args.get("region")),
        topic_choices=_topic_choices(request.args.get("topic")),
    )
    form.validate()
    filters = form.filters()
    q = (form.q.data or "").strip() if not form.q.errors else ""
    page = page_arg()
    result = None
    if q or filters:
        sort = form.sort.data if form.sort.data and not form.sort.errors else "relevance"
        result = search_messages(q, filters=filters, sort=sort, page=page)
    return render_template(
        "search/search.html",
        form=form,
        q=q,
        result=result,
        facets=_facet_links(result, form) if result else {},
        facet_titles=FACET_TITLES,
        active=_active_filters(form, filters),
        clear_url=url_for("search.search", q=q) if q else url_for("search.search"),
        open_data=_open_data_links() if result else None,
    )


def _open_data_links() -> dict[str, str]:
    """This search's Atom feed and downloads, with the same words and filters."""
    from ..stats.listing import FILTER_NAMES
    from ..stats.views import download_links

    args = {k: v for k, v in request.args.items() if k in FILTER_NAMES and v.strip()}
    return download_links(args)
