"""The JSON API under /api/v1 (DESIGN §10): directory, messages, workflow actions, search."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import datetime

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import MethodNotAllowed

from .. import audit
from ..clock import utcnow
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..intel.models import Topic
from ..messages import services as msg
from ..models import Board, Event, Message, Region, Reply, Unit
from ..privacy import truncate_ip
from ..retry import mark_idempotent
from ..search.topics import resolve_topic
from ..security import limit_api_actions, limit_api_writes, limit_posting, limit_search
from ..stats.listing import subtree
from . import serializers as out
from .actions import ACTIONS
from .auth import api_user, authenticate_request, require_user
from .inputs import (
    CALC_PARAMS,
    DIRECTORY_PARAMS,
    MESSAGE_PARAMS,
    PAGE,
    REGION_PARAMS,
    SEARCH_FILTERS,
    SEARCH_PAGE_SIZE,
    SEARCH_PARAMS,
    STATS_PARAMS,
    SUBMIT_FIELDS,
    json_object,
    page_args,
    read_args,
    validate,
)
from .openapi import build_openapi

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class UnknownAction(NotFound, code="unknown_action"):
    """The workflow has no such action (yet)."""


@bp.before_request
def _check_token():
    """A token sent with any request must be valid, even where none is needed."""
    authenticate_request()


@bp.after_app_request
def _api_headers(response):
    """API answers depend on the token and name the allowed methods on a 405."""
    if request.path.startswith(bp.url_prefix + "/") or request.path == bp.url_prefix:
        response.vary.add("Authorization")
        error = request.routing_exception
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="minsheng"'
    return response


# ---------------------------------------------------------------------------------------------
# Helpers


_CODE = re.compile(r"[A-Za-z0-9-]{1,40}")
_LOOKUPS = {"board": Board, "unit": Unit, "region": Region}
_NAMES = {"board": _l("留言板"), "unit": _l("单位"), "region": _l("区划")}


def _resolve(values: dict, names: tuple[str, ...]) -> dict:
    """The boards, units and regions named by code in `values`; one 422 names every unknown one."""
    found: dict = {}
    errors: dict[str, list[str]] = {}
    for name in names:
        code = values.get(name)
        model = _LOOKUPS[name]
        if code is None:
            found[name] = None
            continue
        if model is Region:
            row = db.session.get(Region, code.strip())
        else:
            row = db.session.scalar(select(model).where(model.code == code.strip()))
        if row is None:
            errors[name] = [_("没有代码为 %(code)s 的%(what)s。", code=code, what=_NAMES[name])]
        found[name] = row
    if errors:
        raise ValidationFailed(fields=errors)
    return found


def _first_level_topic(value: str) -> str:
    """The id (as text) of the first-level topic a `topic` argument names by id or name; 422 on
    the `topic` field when it names none (a lower-level topic included: the filter is by the
    first level, its subtopics counted with it)."""
    found = resolve_topic(value)
    if found is None:
        raise ValidationFailed(fields={"topic": [_("没有这个一级主题分类。")]})
    return found


def _within(path_column, region: Region):
    """SQL condition: the path is the region's or one of its descendants'."""
    return or_(path_column == region.path, path_column.like(region.path + "/%"))


def _page(query: Select, args: dict, serialize) -> dict:
    """Run a list query one page at a time and wrap it in the list envelope."""
    page, per_page = page_args(args)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return out.page_json(
        [serialize(row) for row in rows], total=total or 0, page=page, per_page=per_page
    )


_MESSAGE_LOADS = (
    selectinload(Message.board).selectinload(Board.office_unit),
    selectinload(Message.region),
    selectinload(Message.unit),
    selectinload(Message.author),
    selectinload(Message.ratings),
    selectinload(Message.replies).selectinload(Reply.unit),
    selectinload(Message.events).selectinload(Event.actor),
)


def _visible_message(code: str) -> Message:
    """The message if the caller may see it; otherwise the same 404 as for a missing one."""
    missing = NotFound(_("没有编号为 %(code)s 的留言。", code=code))
    if not _CODE.fullmatch(code):
        raise missing
    message = msg.get_message(code)
    if not msg.can_view(api_user(), message):
        raise missing
    return message


# ---------------------------------------------------------------------------------------------
# Directory


def _in_region(query: Select, args: dict) -> Select:
    """The query narrowed to the subtree of the `region` argument, when one is given."""
    region = _resolve(args, ("region",))["region"]
    return query if region is None else query.where(_within(Region.path, region))


def _directory_page(model, related, order, serialize):
    """One JSON page of boards or units (with `related` loaded) by region, then `order`."""
    args = read_args(DIRECTORY_PARAMS)
    query = (
        select(model)
        .join(Region, model.region_code == Region.code)
        .options(selectinload(related))
        .order_by(Region.path, order)
    )
    return jsonify(_page(_in_region(query, args), args, serialize))


@bp.get("/regions")
def regions():
    """Regions by GB/T 2260 code, optionally within one region, at one level, or only the
    current ones (`current=true` leaves out codes retired by a merge)."""
    args = read_args(REGION_PARAMS)
    query = _in_region(select(Region).order_by(Region.code), args)
    if args["level"]:
        query = query.where(Region.level == args["level"])
    if args["current"]:
        query = query.where(Region.merged_into_code.is_(None))
    return jsonify(_page(query, args, out.region_json))


@bp.get("/boards")
def boards():
    """Leader boards, optionally within one region."""
    return _directory_page(Board, Board.office_unit, Board.id, out.board_json)


@bp.get("/units")
def units():
    """Handling units and coordinator offices, optionally within one region."""
    return _directory_page(Unit, Unit.parent, Unit.code, out.unit_json)


# ---------------------------------------------------------------------------------------------
# Messages


@bp.get("/messages")
def list_messages():
    """Messages the caller may read (public, their own, their scope's), newest first."""
    args = read_args(MESSAGE_PARAMS)
    user = api_user()
    query = msg.visible_messages_query(user).options(*_MESSAGE_LOADS)
    found = _resolve(args, ("board", "unit", "region"))
    if found["board"] is not None:
        query = query.where(Message.board_id == found["board"].id)
    if found["unit"] is not None:
        query = query.where(Message.unit_id == found["unit"].id)
    if found["region"] is not None:
        query = query.where(_within(Message.region_path, found["region"]))
    for name in ("track", "kind", "domain", "state"):
        if args[name]:
            query = query.where(getattr(Message, name) == args[name])
    if args["topic"] is not None:
        topic = db.session.get(Topic, int(_first_level_topic(args["topic"])))
        query = query.where(Message.topic_id.in_(subtree(topic)))
    query = query.order_by(Message.created_at.desc(), Message.id.desc())
    return jsonify(_keyset_page(query, args, lambda m: out.message_json(m, user)))


def _encode_cursor(message: Message) -> str:
    """An opaque cursor after `message` in (created_at, id) descending order."""
    raw = f"{message.created_at.isoformat()}|{message.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor points after; 422 when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, ident = raw.split("|")
        return datetime.fromisoformat(moment), int(ident)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed(fields={"cursor": [_("无效的翻页游标。")]}) from error


def _keyset_page(query: Select, args: dict, serialize) -> dict:
    """A page by `page` (offset) or by `cursor` (keyset), with `next_cursor` either way."""
    page, per_page = page_args(args)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if args.get("cursor"):
        created, ident = _decode_cursor(args["cursor"])
        query = query.where(
            or_(
                Message.created_at < created,
                and_(Message.created_at == created, Message.id < ident),
            )
        )
        page = None
    else:
        query = query.offset((page - 1) * per_page)
    rows = db.session.scalars(query.limit(per_page + 1)).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    body = out.page_json(
        [serialize(row) for row in rows], total=total or 0, page=page, per_page=per_page
    )
    body["next_cursor"] = _encode_cursor(rows[-1]) if more and rows else None
    return body


@bp.post("/messages")
@limit_posting
@limit_api_writes
def create_message():
    """A citizen files a message; it waits for moderation."""
    user = require_user()
    data = validate(json_object(), SUBMIT_FIELDS)
    found = _resolve(data, ("board", "region"))
    key = _idempotency_key()
    now = utcnow()
    topic_id = None
    if data.get("topic"):
        from ..intel.taxonomy import topic_by_path

        topic = topic_by_path(data["topic"].strip())
        topic_id = topic.id if topic is not None else "unknown"  # refused by the service
    message = msg.submit_message(
        user,
        board=found["board"],
        region=found["region"],
        track=data["track"],
        kind=data["kind"],
        domain=data["domain"],
        title=data["title"],
        body=data["body"],
        private_note=data["private_note"],
        wants_public=data["wants_public"],
        real_name=data["real_name"],
        phone=data["phone"],
        address=data["address"],
        now=now,
        ip=truncate_ip(request.remote_addr),
        source="api",
        idempotency_key=key,
        topic_id=topic_id,
    )
    response = jsonify(out.message_json(message, user))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_message", code=message.code)
    if message.created_at != now:  # filed by an earlier try with this key
        response.headers["Idempotent-Replayed"] = "true"
    return response


_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def _idempotency_key() -> str:
    """The request's Idempotency-Key (printable ASCII, at most 200 characters), or one of our
    own for this request, so that running it again after a lost connection files it once."""
    sent = request.headers.get("Idempotency-Key")
    if sent is None:
        key = g.setdefault("board_request_key", "server:" + uuid.uuid4().hex)
    elif _KEY.fullmatch(sent.strip()):
        key = "client:" + sent.strip()
    else:
        raise ValidationFailed(
            fields={"Idempotency-Key": [_("Idempotency-Key 须为 1–200 个可见 ASCII 字符。")]}
        )
    mark_idempotent()
    return key


@bp.get("/messages/<code>")
def get_message(code: str):
    """One message by its tracking code, as the caller may see it."""
    message = _visible_message(code)
    audit.record_private_view(
        api_user(),
        message,
        route=request.endpoint or request.path,
        ip=request.remote_addr,
        now=utcnow(),
    )
    return jsonify(out.message_json(message, api_user()))


@bp.post("/messages/<code>/actions/<action>")
@limit_api_actions
def message_action(code: str, action: str):
    """Take a workflow action on a message; the service checks the role and the state."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise UnknownAction(_("没有名为 %(action)s 的操作。", action=action))
    user = require_user()
    message = _visible_message(code)
    data = validate(json_object(), spec.fields)
    message = spec.run(message, user, data, utcnow())
    return jsonify(out.message_json(message, user))


# ---------------------------------------------------------------------------------------------
# Search and the document describing all of this


@bp.get("/search")
@limit_search
def search():
    """Full-text search over public messages with filters, facets and highlighted snippets."""
    from ..search.query import search_messages

    args = read_args(SEARCH_PARAMS)
    _resolve(args, ("board", "unit", "region"))
    if args["topic"] is not None:
        args["topic"] = _first_level_topic(args["topic"])
    filters = {name: args[name] for name in SEARCH_FILTERS if args[name] is not None}
    result = search_messages(
        args["q"] or "",
        filters=filters,
        sort=args["sort"] or "relevance",
        page=args["page"] or 1,
        per_page=args["per_page"] or SEARCH_PAGE_SIZE,
    )
    return jsonify(
        {
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
            "hits": [out.hit_json(hit) for hit in result.hits],
            "facets": out.facets_json(result.facets, result.labels),
        }
    )


@bp.get("/stats")
def stats():
    """Figures of one scope and period, or a ranking grouped by region, board or unit."""
    from ..stats import services as figures

    args = read_args(STATS_PARAMS)
    found = _resolve(args, ("board", "unit", "region"))
    if args["date_from"] and args["date_to"] and args["date_to"] < args["date_from"]:
        raise ValidationFailed(fields={"date_to": [_("结束日期不能早于开始日期。")]})
    scope = figures.Scope(
        region=found["region"],
        board=found["board"],
        unit=found["unit"],
        kind=args["kind"],
        domain=args["domain"],
        track=args["track"],
        date_from=args["date_from"],
        date_to=args["date_to"],
    )
    now = utcnow()
    body: dict = {
        "scope": {
            "region": args["region"],
            "board": args["board"],
            "unit": args["unit"],
            "track": args["track"],
            "kind": args["kind"],
            "domain": args["domain"],
            "date_from": args["date_from"].isoformat() if args["date_from"] else None,
            "date_to": args["date_to"].isoformat() if args["date_to"] else None,
        },
        "computed_at": out.iso(now),
        "group_by": args["group_by"],
    }
    if not args["group_by"]:
        from ..stats.topics import by_topic

        body["figures"] = figures.figures(scope, now=now).as_json()
        body["topics"] = [t.as_json() for t in by_topic(scope)]
        return jsonify(body)
    level = args["level"] or ("city" if args["group_by"] == "region" else None)
    min_cases = args["min_cases"] or int(current_app.config.get("RANKING_MIN_CASES", 20))
    ranking = figures.ranking(
        args["group_by"],
        scope,
        now=now,
        min_cases=min_cases,
        level=level,
        post=args["post"],
        sort=args["sort"] or "on_time",
    )
    body.update(
        level=level,
        sort=ranking.sort,
        min_cases=min_cases,
        unranked=ranking.unranked,
        items=[row.as_json() for row in ranking.rows],
    )
    return jsonify(body)


@bp.get("/deadlines/calc")
def deadline_calc():
    """The due date of a policy started on a date, with its explanation."""
    from ..calendar.services import DEFAULT_POLICIES, deadline_for, policy_choices

    args = read_args(CALC_PARAMS)
    errors: dict[str, list[str]] = {}
    if args["start"] is None:
        errors["start"] = [_("日期格式应为 YYYY-MM-DD。")]
    names = {p.name for p in policy_choices()} | set(DEFAULT_POLICIES)
    if args["policy"] not in names:
        errors["policy"] = [_("没有名为 %(name)s 的期限。", name=args["policy"] or "")]
    if errors:
        raise ValidationFailed(fields=errors)
    deadline = deadline_for(args["start"], args["policy"])
    return jsonify(
        {
            "policy": deadline.policy,
            "start": deadline.start.isoformat(),
            "due_on": deadline.due_on.isoformat(),
            "unit": str(deadline.unit),
            "days": deadline.days,
            "explanation": [line.text for line in deadline.explanation],
            "provisional": deadline.provisional,
            "unknown_years": deadline.unknown_years,
        }
    )


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(build_openapi())


@bp.post("/messages/<code>/attachments")
@limit_api_writes
def upload_attachments(code: str):
    """The author adds images or PDFs (multipart `file`, repeated; `public`) before moderation."""
    from ..attachments import services as attachments

    user = require_user()
    message = _visible_message(code)
    if not attachments.may_upload(user, message):
        raise PermissionDenied(_("只有留言人本人可以在审核前添加附件。"))
    files = attachments.read_uploads(request.files.getlist("file"))
    if not files:
        raise ValidationFailed(fields={"file": [_("请选择要上传的文件。")]})
    prepared = attachments.prepare_all(files, already=attachments.count(message))
    is_public = request.form.get("public", "").strip().lower() in ("1", "true", "yes", "on")
    rows = attachments.attach(message, user, prepared, is_public=is_public, now=utcnow())
    response = jsonify({"attachments": [attachments.as_json(row) for row in rows]})
    response.status_code = 201
    return response


# ---------------------------------------------------------------------------------------------
# Following (board/follow): the caller's follows, and following or unfollowing one message


FOLLOWS_PAGE_SIZE = 100


@bp.get("/follows")
def list_follows():
    """The caller's followed messages, the most recent public change first."""
    from ..follow import services as follow

    page = read_args((PAGE,)).get("page") or 1
    user = require_user()
    rows, total = follow.follow_rows(user, page=page, per_page=FOLLOWS_PAGE_SIZE)
    items = [
        out.follow_json(r.message, user, following=True, followed_at=r.follow.created_at,
                        last_change_at=r.last_change_at)
        for r in rows
    ]  # fmt: skip
    return jsonify({"total": total, "page": page, "items": items})


@bp.put("/messages/<code>/follow")
@limit_api_actions
def follow_message(code: str):
    """Follow a public message (mail when it is answered or closed); again changes nothing."""
    from ..follow import services as follow

    user = require_user()
    message = _visible_message(code)
    followed = follow.follow_message(message, user, now=utcnow())
    return jsonify(out.follow_json(message, user, following=True, followed_at=followed.created_at))


@bp.delete("/messages/<code>/follow")
@limit_api_actions
def unfollow_message(code: str):
    """Stop following; also once the message is no longer public."""
    from ..follow import services as follow

    user = require_user()
    missing = NotFound(_("没有编号为 %(code)s 的留言。", code=code))
    if not _CODE.fullmatch(code):
        raise missing
    message = msg.get_message(code)
    if not (msg.can_view(user, message) or follow.find_follow(user, message) is not None):
        raise missing
    follow.unfollow_message(message, user)
    return jsonify(out.follow_json(message, user, following=False))
