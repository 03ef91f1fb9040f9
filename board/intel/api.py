"""The intelligence endpoints of the JSON API: `POST /api/v1/suggest` (and `GET /api/v1/hot`)."""

from __future__ import annotations

from flask import jsonify

from ..api.inputs import Field, Param, json_object, read_args, validate
from ..api.views import _resolve, bp
from ..clock import utcnow
from ..messages.services import BODY_MAX, TITLE_MAX
from ..privacy import public_text
from ..security import limit_search
from . import hot as hot_issues
from . import services

SUGGEST_FIELDS = (
    Field("title", "string", "标题", max_length=TITLE_MAX, default=""),
    Field("body", "string", "正文", max_length=BODY_MAX, default=""),
)


@bp.post("/suggest")
@limit_search
def suggest():
    """Topics, domain, the units that answered similar public messages, and those messages."""
    data = validate(json_object(), SUGGEST_FIELDS)
    found = services.suggest(data["title"], data["body"])
    return jsonify(
        {
            "topics": found.topics,
            "domain": found.domain,
            "units": found.units,
            "similar": found.similar,
        }
    )


HOT_PARAMS = (
    Param("board", "string", "留言板代码"),
    Param("region", "string", "区划代码（含下级）"),
    Param("from", "date", "起始日期（含），默认为截止前 90 天"),
    Param("to", "date", "截止日期（含），默认为今天"),
    Param("limit", "integer", "条数", minimum=1, maximum=hot_issues.MAX_LIMIT),
)
MESSAGES_PER_ISSUE = 20


def issue_json(issue: hot_issues.HotIssue) -> dict:
    """A hot issue as the API shows it (masked titles, public messages only)."""
    return {
        "label": issue.label,
        "heat": issue.heat,
        "count": issue.count,
        "keywords": issue.keywords,
        "messages": [
            {"code": m.code, "title": public_text(m, m.title), "cosign_count": m.cosign_count}
            for m in issue.messages[:MESSAGES_PER_ISSUE]
        ],
    }


@bp.get("/hot")
@limit_search
def hot():
    """Hot issues of a board or region over a period (any past period too), hottest first."""
    args = read_args(HOT_PARAMS)
    found = _resolve(args, ("board", "region"))
    issues = hot_issues.hot_issues(
        board_id=found["board"].id if found["board"] else None,
        region=found["region"],
        from_on=args["from"],
        to_on=args["to"],
        limit=args["limit"] or 5,
        now=utcnow(),
    )
    return jsonify({"items": [issue_json(issue) for issue in issues]})
