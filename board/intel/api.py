"""The intelligence endpoints of the JSON API: `POST /api/v1/suggest` (and `GET /api/v1/hot`)."""

from __future__ import annotations

from flask import jsonify

from ..api.inputs import Field, json_object, validate
from ..api.views import bp
from ..messages.services import BODY_MAX, TITLE_MAX
from ..security import limit_search
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
