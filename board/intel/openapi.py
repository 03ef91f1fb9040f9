"""The OpenAPI path items of `POST /api/v1/suggest` and `GET /api/v1/hot`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..api.inputs import Param
from .api import HOT_PARAMS, SUGGEST_FIELDS


def _object(**properties: dict) -> dict:
    """An object schema whose properties (in this order) are all required."""
    return {"type": "object", "required": list(properties), "properties": properties}


def _array(items: dict, description: str | None = None) -> dict:
    """An array schema of `items`, with its description if it has one."""
    described = {} if description is None else {"description": description}
    return {"type": "array", **described, "items": items}


_STRING = {"type": "string"}
_SCORE = {"type": "number", "minimum": 0, "maximum": 1}
SUGGESTION = _object(
    topics=_array(
        _object(label=_STRING, path=_array(_STRING), score=_SCORE),
        "一级主题，按概率从高到低；第一项细化到正文提到的最具体的下级分类",
    ),
    domain={"type": ["string", "null"], "description": "建议的领域代码"},
    units=_array(_object(code=_STRING, name=_STRING, score=_SCORE), "答复过相似公开留言的单位"),
    similar=_array(_STRING, "相似公开留言的查询码（可能重复）"),
)
HOT = _object(
    items=_array(
        _object(
            label=_STRING,
            heat={"type": "number"},
            count={"type": "integer"},
            keywords=_array(_STRING),
            messages=_array(_object(code=_STRING, title=_STRING, cosign_count={"type": "integer"})),
        )
    )
)


def intel_paths(
    prefix: str,
    params: Callable[[tuple[Param, ...]], list[dict]],
    json: Callable[[dict, str], dict],
    errors: Callable[..., dict],
) -> dict[str, Any]:
    """The two path items, built with the document's own helpers."""
    return {
        f"{prefix}/suggest": {
            "post": {
                "summary": "主题与办理单位建议",
                "description": "按标题和正文建议主题分类（含概率）、领域、答复过相似留言的单位和"
                "相似的公开留言。只依据公开内容，不返回任何不公开的文字。方法见 "
                "docs/intelligence.md。",
                "tags": ["intelligence"],
                "operationId": "suggest",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {f.name: f.schema() for f in SUGGEST_FIELDS},
                            }
                        }
                    },
                },
                "responses": {
                    "200": json(SUGGESTION, "建议"),
                    **errors(400, 401, 422),
                },
            }
        },
        f"{prefix}/hot": {
            "get": {
                "summary": "热点问题",
                "description": "某留言板或地区在一段时间内（默认最近 90 天）反映同一事项的公开"
                "留言归成的热点，按热度排序。",
                "tags": ["intelligence"],
                "operationId": "hot",
                "parameters": params(HOT_PARAMS),
                "responses": {"200": json(HOT, "热点问题"), **errors(401, 422)},
            }
        },
    }
