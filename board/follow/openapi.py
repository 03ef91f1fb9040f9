"""The OpenAPI description of following over the API (merged into /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

FOLLOW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "following": {"type": "boolean"},
        "is_public": {"type": "boolean", "description": "留言现在是否公开；不公开时不再通知"},
        "title": {"type": ["string", "null"], "description": "遮蔽后的标题；不再公开时为 null"},
        "state": {"type": ["string", "null"]},
        "public_state_label": {"type": ["string", "null"]},
        "followed_at": {"type": ["string", "null"], "format": "date-time"},
        "last_change_at": {"type": ["string", "null"], "format": "date-time"},
    },
    "required": ["code", "following", "is_public"],
}


def follow_paths(prefix: str, code_param: dict, errors, error_ref: dict) -> dict[str, Any]:
    """Path items of `GET /follows` and `PUT|DELETE /messages/{code}/follow`."""

    def answer(description: str, schema: dict) -> dict:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    item = {"$ref": "#/components/schemas/Follow"}
    return {
        f"{prefix}/follows": {
            "get": {
                "summary": "我的关注",
                "description": "调用者关注的留言，最近有公开变化的在前。每页最多 100 条。",
                "tags": ["follows"],
                "operationId": "list_follows",
                "security": [{"bearerAuth": []}],
                "parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}
                ],
                "responses": {
                    "200": answer(
                        "一页关注",
                        {
                            "type": "object",
                            "properties": {
                                "total": {"type": "integer"},
                                "page": {"type": "integer"},
                                "items": {"type": "array", "items": item},
                            },
                            "required": ["total", "page", "items"],
                        },
                    ),
                    **errors(401, 422),
                },
            }
        },
        f"{prefix}/messages/{{code}}/follow": {
            "put": {
                "summary": "关注留言",
                "description": "关注一条公开留言：有答复或办结时发邮件。重复关注不变。"
                "不公开的留言与不存在的一样返回 404。",
                "tags": ["follows"],
                "operationId": "follow_message",
                "security": [{"bearerAuth": []}],
                "parameters": [code_param],
                "responses": {"200": answer("已关注", item), **errors(401, 404, 422)},
            },
            "delete": {
                "summary": "取消关注",
                "description": "取消关注；留言不再公开后也可取消。",
                "tags": ["follows"],
                "operationId": "unfollow_message",
                "security": [{"bearerAuth": []}],
                "parameters": [code_param],
                "responses": {"200": answer("已取消关注", item), **errors(401, 404)},
            },
        },
    }
