"""The OpenAPI description of the attachment upload (merged into /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

ATTACHMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["image", "pdf"]},
        "content_type": {"type": "string"},
        "is_public": {"type": "boolean"},
        "name": {"type": "string", "description": "清理后的原文件名"},
        "size": {"type": "integer"},
        "sha256": {"type": "string"},
        "width": {"type": ["integer", "null"]},
        "height": {"type": ["integer", "null"]},
        "url": {"type": "string", "description": "下载地址（随机文件名，按权限返回 404）"},
    },
    "required": ["id", "kind", "content_type", "is_public", "name", "size", "sha256", "url"],
}


def attachment_upload_path(code_param: dict, errors: dict, error_schema: dict) -> dict:
    """The path item of `POST /api/v1/messages/{code}/attachments`."""
    return {
        "post": {
            "summary": "上传附件",
            "description": "留言人在审核前为自己的留言添加附件：JPEG/PNG/WebP 图片（每张 ≤ 5 MB，"
            "重新编码并去除 EXIF/GPS 等全部元数据）或 PDF（≤ 10 MB），每条留言最多 9 个。"
            "类型按内容判断，与文件名无关。`public` 为 true 时附件随留言公开，否则仅办理方可见。"
            "调用者看不到该留言时返回 404，不是留言人或已过审核时返回 403。",
            "tags": ["messages"],
            "operationId": "upload_attachments",
            "parameters": [code_param],
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "file": {
                                    "type": "array",
                                    "items": {"type": "string", "format": "binary"},
                                },
                                "public": {"type": "boolean", "default": False},
                            },
                            "required": ["file"],
                        }
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "已保存的附件",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "attachments": {"type": "array", "items": ATTACHMENT_SCHEMA}
                                },
                                "required": ["attachments"],
                            }
                        }
                    },
                },
                **errors,
                "413": {
                    "description": "请求体超过服务器上限",
                    "content": {"application/json": {"schema": error_schema}},
                },
            },
        }
    }
