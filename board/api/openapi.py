"""The OpenAPI 3.1 document of the API, built from the same field specs the views validate with."""

from __future__ import annotations

from typing import Any

from ..attachments.openapi import attachment_upload_path
from ..follow.openapi import FOLLOW_SCHEMA, follow_paths
from ..models import Domain, Kind, Outcome, Post, RegionLevel, State, Track, Visibility
from .actions import ACTIONS
from .inputs import (
    CALC_PARAMS,
    DIRECTORY_PARAMS,
    MESSAGE_PARAMS,
    REGION_PARAMS,
    SEARCH_PARAMS,
    STATS_PARAMS,
    SUBMIT_FIELDS,
    Field,
    Param,
)
from .serializers import PLACE_FIELDS

PREFIX = "/api/v1"
STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
DATETIME = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601，北京时间（+08:00）",
}
NULLABLE_DATETIME = {**DATETIME, "type": ["string", "null"]}
PROVISIONAL = {
    "type": "boolean",
    "description": "暂定：计算经过尚未导入国务院办公厅放假安排的年份，该年按法定节假日（含补休）"
    "和周末推算；导入该年安排后重新计算",
}
PROVISIONAL_YEARS = {
    "type": "array",
    "items": {"type": "integer"},
    "description": "使期限成为暂定的年份（尚未导入正式放假安排）；正式期限为空",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _enum(enum) -> dict:
    return {"type": "string", "enum": [member.value for member in enum]}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra) -> dict:
    """An object schema; every property listed is required unless `required` says otherwise."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


def _body(fields: tuple[Field, ...], description: str) -> dict:
    """A JSON request body schema from field specs."""
    return {
        "type": "object",
        "description": description,
        "properties": {f.name: f.schema() for f in fields},
        "required": [f.name for f in fields if f.required],
    }


def _params(params: tuple[Param, ...]) -> list[dict]:
    return [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": p.description,
            "schema": p.schema(),
        }
        for p in params
    ]


def _page_of(item: str) -> dict:
    return _object(
        {
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
            "items": {"type": "array", "items": _ref(item)},
        }
    )


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    return {
        str(status): {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
        for status in statuses
    }


ERROR_RESPONSES = {
    400: ("BadRequest", "请求体不是 JSON 对象（`bad_json`）"),
    401: ("Unauthorized", "缺少令牌（`unauthorized`）或令牌无效、已吊销（`invalid_token`）"),
    403: ("Forbidden", "调用者能看到该留言，但无权执行此操作（`forbidden`）"),
    404: ("NotFound", "不存在，或调用者无权看到（`not_found`、`unknown_action`）"),
    409: ("Conflict", "留言当前状态下不能执行此操作（`invalid_transition`）"),
    422: ("Unprocessable", "字段缺失、类型不符或取值无效（`validation_failed`），见 `fields`"),
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string", "description": "稳定的错误代码"},
                    "message": {"type": "string", "description": "给人看的说明"},
                    "fields": {
                        "type": "object",
                        "description": "字段名 → 该字段的错误说明",
                        "additionalProperties": {"type": "array", "items": STRING},
                    },
                }
            )
        }
    ),
    "Region": _object(
        {
            "code": {"type": "string", "description": "GB/T 2260 六位代码"},
            "name": STRING,
            "full_name": STRING,
            "level": _enum(RegionLevel),
            "parent": NULLABLE_STRING,
            "merged_into": {
                "type": ["string", "null"],
                "description": "已并入的区划代码（现行区划为 null）",
            },
            "merged_on": {
                "type": ["string", "null"],
                "format": "date",
                "description": "并入日期（现行区划为 null）",
            },
        }
    ),
    "Board": _object(
        {
            "code": STRING,
            "title": STRING,
            "post": _enum(Post),
            "region": STRING,
            "holder_name": NULLABLE_STRING,
            "office_unit": {"type": "string", "description": "交办办公室（单位代码）"},
        }
    ),
    "Unit": _object(
        {
            "code": STRING,
            "name": STRING,
            "region": STRING,
            "parent": NULLABLE_STRING,
            "is_office": {"type": "boolean"},
        }
    ),
    "Reply": _object(
        {
            "unit": STRING,
            "unit_name": STRING,
            "body": {"type": "string", "description": "对公众已屏蔽个人信息"},
            "outcome": {"type": ["string", "null"], "enum": [o.value for o in Outcome] + [None]},
            "outcome_label": NULLABLE_STRING,
            "is_interim": {"type": "boolean"},
            "published_at": NULLABLE_DATETIME,
            "state": {"type": "string", "description": "仅留言人与办理方可见"},
        },
        required=["unit", "unit_name", "body", "outcome", "published_at"],
    ),
    "Event": _object(
        {
            "action": STRING,
            "from_state": NULLABLE_STRING,
            "to_state": NULLABLE_STRING,
            "note": STRING,
            "actor_role": NULLABLE_STRING,
            "created_at": DATETIME,
            "is_public": {"type": "boolean", "description": "仅留言人与办理方可见"},
        },
        required=["action", "from_state", "to_state", "note", "created_at"],
    ),
    "Deadline": _object(
        {
            "policy": STRING,
            "due_on": {"type": "string", "format": "date"},
            "explanation": {"type": "array", "items": STRING},
            "state": {"type": "string", "enum": ["open", "stopped", "met"]},
            "started_on": {"type": "string", "format": "date"},
            "unit": {"type": "string", "enum": ["working", "calendar"]},
            "days": {"type": "integer", "minimum": 0},
            "provisional": PROVISIONAL,
            "provisional_years": PROVISIONAL_YEARS,
        },
        required=["policy", "due_on", "explanation", "provisional"],
    ),
    "DeadlineCalculation": _object(
        {
            "policy": STRING,
            "start": {"type": "string", "format": "date"},
            "due_on": {
                "type": "string",
                "format": "date",
                "description": "当日 24:00（北京时间）到期",
            },
            "unit": {"type": "string", "enum": ["working", "calendar"]},
            "days": {"type": "integer", "minimum": 0},
            "explanation": {"type": "array", "items": STRING},
            "provisional": PROVISIONAL,
            "unknown_years": PROVISIONAL_YEARS,
        },
        required=["policy", "start", "due_on", "unit", "days", "explanation", "provisional"],
    ),
    "Rating": _object(
        {
            "resolution": {"type": "integer", "minimum": 1, "maximum": 5},
            "attitude": {"type": "integer", "minimum": 1, "maximum": 5},
            "speed": {"type": "integer", "minimum": 1, "maximum": 5},
            "composite": {"type": "number"},
            "label": {"type": "string", "description": "很满意 … 很不满意"},
            "comment": STRING,
            "created_at": DATETIME,
            "round": {"type": "integer", "minimum": 1, "description": "办理轮次"},
        },
        required=[
            "resolution",
            "attitude",
            "speed",
            "composite",
            "label",
            "comment",
            "created_at",
        ],
    ),
    "HandlingRequest": _object(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["return", "extension"]},
            "round": {"type": "integer", "minimum": 1},
            "reason_code": NULLABLE_STRING,
            "note": STRING,
            "requested_at": DATETIME,
        }
    ),
    "Message": _object(
        {
            "code": {"type": "string", "description": "查询编号，如 MS-2026-7K3Q9D"},
            "track": _enum(Track),
            "track_label": STRING,
            "kind": _enum(Kind),
            "kind_label": STRING,
            "domain": _enum(Domain),
            "domain_label": STRING,
            "title": STRING,
            "body": {"type": "string", "description": "对公众已屏蔽个人信息"},
            "author_name": {"type": "string", "description": "屏蔽后的网名，如 陈**"},
            "state": _enum(State),
            "public_state_label": STRING,
            "visibility": _enum(Visibility),
            "is_hidden": {"type": "boolean"},
            "board": STRING,
            "board_title": STRING,
            "region": STRING,
            "region_name": STRING,
            "unit": NULLABLE_STRING,
            "unit_name": NULLABLE_STRING,
            "created_at": DATETIME,
            "published_at": NULLABLE_DATETIME,
            "replied_at": NULLABLE_DATETIME,
            "closed_at": NULLABLE_DATETIME,
            "replies": {"type": "array", "items": _ref("Reply")},
            "deadlines": {"type": "array", "items": _ref("Deadline")},
            "events": {
                "type": "array",
                "items": _ref("Event"),
                "description": "公众只看到公开事件；留言人与办理方看到全部",
            },
            "cosign_count": {"type": "integer", "minimum": 0},
            "rating": {"oneOf": [_ref("Rating"), {"type": "null"}]},
            "ratings": {
                "type": "array",
                "items": _ref("Rating"),
                "description": "每轮办理一条评价，按轮次排列；rating 是最新一条",
            },
            "handling_round": {
                "type": "integer",
                "minimum": 1,
                "description": "办理轮次（追问、重办后加一）",
            },
            "review_unit": {**NULLABLE_STRING, "description": "信访事项的复查（复核）机关代码"},
            "review_unit_name": NULLABLE_STRING,
            "pending_request": {
                "oneOf": [_ref("HandlingRequest"), {"type": "null"}],
                "description": "待交办员决定的退回或延期申请；仅办理方工作人员可见",
            },
            "private_note": {"type": "string", "description": "仅留言人与办理方可见"},
            "wants_public": {"type": "boolean", "description": "仅留言人与办理方可见"},
            "rejection_reason": {**NULLABLE_STRING, "description": "仅留言人与办理方可见"},
            "hidden_reason": {**NULLABLE_STRING, "description": "仅留言人与办理方可见"},
            "real_name": {**NULLABLE_STRING, "description": "信访渠道；仅留言人与办理方可见"},
            "phone": {**NULLABLE_STRING, "description": "信访渠道；仅留言人与办理方可见"},
            "address": {**NULLABLE_STRING, "description": "信访渠道；仅留言人与办理方可见"},
        },
        required=[
            "code",
            "track",
            "kind",
            "kind_label",
            "domain",
            "domain_label",
            "title",
            "body",
            "state",
            "public_state_label",
            "visibility",
            *PLACE_FIELDS,
            "created_at",
            "published_at",
            "replies",
            "deadlines",
            "events",
            "cosign_count",
            "rating",
            "ratings",
            "handling_round",
        ],
    ),
    "Hit": _object(
        {
            "code": STRING,
            "title": STRING,
            "snippet": {"type": "string", "description": "HTML，命中词以 <mark> 标出"},
            "state": _enum(State),
            "public_state_label": STRING,
            "score": {"type": "number"},
            "track": _enum(Track),
            "kind": _enum(Kind),
            "kind_label": STRING,
            "domain": _enum(Domain),
            "domain_label": STRING,
            "board": STRING,
            "board_title": STRING,
            "region": STRING,
            "region_name": STRING,
            "unit": NULLABLE_STRING,
            "published_at": NULLABLE_DATETIME,
            "replied_at": NULLABLE_DATETIME,
        },
        required=["code", "title", "snippet", "state", "score"],
    ),
    "FacetCount": _object(
        {"value": STRING, "count": {"type": "integer"}, "label": STRING},
        required=["value", "count"],
    ),
    "SearchResult": _object(
        {
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "hits": {"type": "array", "items": _ref("Hit")},
            "facets": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": _ref("FacetCount")},
            },
        }
    ),
    "RegionPage": _page_of("Region"),
    "BoardPage": _page_of("Board"),
    "UnitPage": _page_of("Unit"),
    "MessagePage": _object(
        {
            "total": {"type": "integer", "minimum": 0},
            "page": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "按 `cursor` 翻页时为 null",
            },
            "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
            "items": {"type": "array", "items": _ref("Message")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "下一页的 `cursor`；没有更多时为 null",
            },
        }
    ),
    "MessageSubmission": _body(SUBMIT_FIELDS, "新留言；信访渠道另须 real_name、phone、address"),
}

NULLABLE_NUMBER = {"type": ["number", "null"]}
SCHEMAS.update(
    {
        "Rate": _object(
            {
                "hits": {"type": "integer", "minimum": 0},
                "total": {"type": "integer", "minimum": 0},
                "value": {**NULLABLE_NUMBER, "description": "hits / total；total 为 0 时为 null"},
                "low": {**NULLABLE_NUMBER, "description": "95% Wilson 区间下限"},
                "high": {**NULLABLE_NUMBER, "description": "95% Wilson 区间上限"},
            }
        ),
        "Figures": _object(
            {
                "messages": {"type": "integer", "minimum": 0, "description": "公开留言数"},
                "replied": {"type": "integer", "minimum": 0},
                "reply_rate": _ref("Rate"),
                "on_time": {
                    **_ref("Rate"),
                    "description": "按期答复：答复期限到期日（北京时间）当天或之前答复的比例",
                },
                "median_days_to_reply": NULLABLE_NUMBER,
                "p90_days_to_reply": NULLABLE_NUMBER,
                "overdue_now": {"type": "integer", "minimum": 0},
                "ratings": {"type": "integer", "minimum": 0},
                "satisfaction": _object(
                    {
                        "composite": NULLABLE_NUMBER,
                        "distribution": {
                            "type": "object",
                            "additionalProperties": {"type": "integer", "minimum": 0},
                        },
                    }
                ),
                "series": {
                    "type": "array",
                    "items": _object(
                        {
                            "month": {"type": "string", "description": "YYYY-MM（北京时间）"},
                            "messages": {"type": "integer", "minimum": 0},
                            "replies": {"type": "integer", "minimum": 0},
                        }
                    ),
                },
            }
        ),
        "RankRow": _object(
            {
                "rank": {"type": "integer", "minimum": 1},
                "group": {"type": "string", "enum": ["region", "board", "unit"]},
                "code": STRING,
                "name": STRING,
                "messages": {"type": "integer", "minimum": 0},
                "reply_rate": _ref("Rate"),
                "on_time": _ref("Rate"),
                "median_days_to_reply": NULLABLE_NUMBER,
                "p90_days_to_reply": NULLABLE_NUMBER,
                "overdue_now": {"type": "integer", "minimum": 0},
            }
        ),
        "Stats": _object(
            {
                "scope": {"type": "object", "description": "所用的筛选条件"},
                "computed_at": DATETIME,
                "group_by": {"type": ["string", "null"], "enum": ["region", "board", "unit", None]},
                "figures": _ref("Figures"),
                "topics": {
                    "type": "array",
                    "description": "不分组时：按一级主题分类的公开留言数、已答复数和答复率，"
                    "留言多的在前；topic 为 null 的是尚未分类的留言",
                    "items": _object(
                        {
                            "topic": NULLABLE_STRING,
                            "cases": {"type": "integer", "minimum": 0},
                            "replied": {"type": "integer", "minimum": 0},
                            "reply_rate": _ref("Rate"),
                        },
                        required=["topic", "cases", "replied", "reply_rate"],
                    ),
                },
                "level": NULLABLE_STRING,
                "sort": STRING,
                "min_cases": {"type": "integer", "minimum": 1},
                "unranked": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "留言太少未排行的对象数",
                },
                "items": {"type": "array", "items": _ref("RankRow")},
            },
            required=["scope", "computed_at", "group_by"],
        ),
    }
)


def _list(summary: str, params, page: str, tag: str, description: str = "") -> dict:
    return {
        "get": {
            "summary": summary,
            "description": description,
            "tags": [tag],
            "operationId": f"list_{tag}",
            "parameters": _params(params),
            "security": [{}, {"bearerAuth": []}],
            "responses": {"200": _json(_ref(page), "一页结果"), **_errors(401, 422)},
        }
    }


CODE_PARAM = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": "查询编号，如 MS-2026-7K3Q9D",
    "schema": STRING,
}


def _action_path(name: str) -> dict:
    action = ACTIONS[name]
    return {
        "post": {
            "summary": action.summary,
            "description": f"可执行者：{action.who}。调用者看不到该留言时返回 404；"
            "能看到但无权执行时返回 403；状态不允许时返回 409。",
            "tags": ["actions"],
            "operationId": f"action_{name}",
            "parameters": [CODE_PARAM],
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": any(f.required for f in action.fields),
                "content": {"application/json": {"schema": _body(action.fields, action.summary)}},
            },
            "responses": {
                "200": _json(_ref("Message"), "更新后的留言"),
                **_errors(400, 401, 403, 404, 409, 422),
            },
        }
    }


def build_openapi() -> dict:
    """The whole document: every route of the api blueprint with its parameters and bodies."""
    paths: dict[str, Any] = {
        f"{PREFIX}/regions": _list(
            "行政区划", REGION_PARAMS, "RegionPage", "regions", "按 GB/T 2260 代码排序"
        ),
        f"{PREFIX}/boards": _list("留言板（领导职务）", DIRECTORY_PARAMS, "BoardPage", "boards"),
        f"{PREFIX}/units": _list("办理单位", DIRECTORY_PARAMS, "UnitPage", "units"),
        f"{PREFIX}/messages": {
            **_list(
                "留言列表",
                MESSAGE_PARAMS,
                "MessagePage",
                "messages",
                "公开留言，以及令牌持有者本人和其职责范围内的留言；按提交时间倒序",
            ),
            "post": {
                "summary": "提交留言",
                "description": "网民提交留言，进入待审核状态。",
                "tags": ["messages"],
                "operationId": "create_message",
                "security": [{"bearerAuth": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("MessageSubmission")}},
                },
                "responses": {
                    "201": _json(_ref("Message"), "已提交的留言"),
                    **_errors(400, 401, 403, 422),
                },
            },
        },
        f"{PREFIX}/messages/{{code}}": {
            "get": {
                "summary": "一条留言",
                "description": "对公众屏蔽个人信息；调用者无权看到时返回 404。",
                "tags": ["messages"],
                "operationId": "get_message",
                "parameters": [CODE_PARAM],
                "security": [{}, {"bearerAuth": []}],
                "responses": {"200": _json(_ref("Message"), "留言"), **_errors(401, 404)},
            }
        },
        f"{PREFIX}/search": {
            "get": {
                "summary": "全文检索",
                "description": "检索公开留言，返回高亮片段、总数与分面统计。",
                "tags": ["search"],
                "operationId": "search",
                "parameters": _params(SEARCH_PARAMS),
                "responses": {
                    "200": _json(_ref("SearchResult"), "检索结果"),
                    **_errors(401, 422),
                },
            }
        },
        f"{PREFIX}/stats": {
            "get": {
                "summary": "统计与排行",
                "description": "只统计公开留言（不含不公开、被屏蔽的留言）。不给 `group_by` 时返回"
                "所选范围的答复率、按期答复率（含 95% Wilson 区间）、答复用时中位数和第 90 百分位、"
                "当前超期数、满意度和逐月序列；给出时按地区、留言板或单位分组，只列公开留言不少于 "
                "`min_cases` 件的对象，按区间下限排序。口径见 docs/open-data.md。",
                "tags": ["stats"],
                "operationId": "stats",
                "parameters": _params(STATS_PARAMS),
                "responses": {
                    "200": _json(_ref("Stats"), "统计结果"),
                    **_errors(401, 422),
                },
            }
        },
        f"{PREFIX}/deadlines/calc": {
            "get": {
                "summary": "期限计算",
                "description": "按节假日与调休安排计算某类期限的到期日，并逐步说明。"
                "经过尚未导入正式放假安排的年份时，按法定节假日推算并返回 "
                '`"provisional": true`。日期无效或期限名称未知时返回 422。',
                "tags": ["deadlines"],
                "operationId": "deadline_calc",
                "parameters": [{**p, "required": True} for p in _params(CALC_PARAMS)],
                "responses": {
                    "200": _json(_ref("DeadlineCalculation"), "到期日与计算过程"),
                    **_errors(401, 422),
                },
            }
        },
        f"{PREFIX}/openapi.json": {
            "get": {
                "summary": "本文档",
                "tags": ["meta"],
                "operationId": "openapi",
                "responses": {
                    "200": _json({"type": "object"}, "OpenAPI 3.1 文档"),
                    **_errors(401),
                },
            }
        },
    }
    for name in ACTIONS:
        paths[f"{PREFIX}/messages/{{code}}/actions/{name}"] = _action_path(name)
    paths[f"{PREFIX}/messages/{{code}}/attachments"] = attachment_upload_path(
        CODE_PARAM, _errors(401, 403, 404, 422), _ref("Error")
    )
    paths.update(follow_paths(PREFIX, CODE_PARAM, _errors, _ref("Error")))
    from ..intel.openapi import intel_paths  # board/intel: suggestions and hot issues

    paths.update(intel_paths(PREFIX, _params, _json, _errors))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "民声 Minsheng API",
            "version": "1.0.0",
            "description": "留言板与网上信访的公开接口。读取无需令牌；写入须带 "
            "`Authorization: Bearer TOKEN`（`flask users token EMAIL` 生成）。"
            '错误一律为 `{"error": {"code", "message", "fields"}}`。',
        },
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, "Follow": FOLLOW_SCHEMA},
            "responses": {
                name: _json(_ref("Error"), description)
                for name, description in ERROR_RESPONSES.values()
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API 令牌，由 `flask users token EMAIL` 生成",
                }
            },
        },
    }
