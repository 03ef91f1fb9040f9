"""The BoardError hierarchy, a service's field errors shown on a form or flashed, and error
rendering: an HTML page, or JSON for the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, flash, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

T = TypeVar("T")


class BoardError(Exception):
    """A rule of the platform was broken; carries an HTTP status and a stable code."""

    status = 400
    code = "bad_request"
    default = _l("请求有误。")

    def __init_subclass__(cls, *, status: int = 0, code: str = "", default: str = "", **kwargs):
        """A kind of error states what differs from its parent on its class line:
        `class NotFound(BoardError, status=404, code="not_found", default=_l("未找到。"))`."""
        super().__init_subclass__(**kwargs)
        for name, value in (("status", status), ("code", code), ("default", default)):
            if value:
                setattr(cls, name, value)

    def __init__(self, message: str = "", fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message or self.default_message()
        self.fields = fields or {}

    def default_message(self) -> str:
        """Text used when the raiser gave none: the class's `default`, in the request's language."""
        return str(self.default)


class ValidationFailed(
    BoardError,
    status=422,
    code="validation_failed",
    default=_l("提交的内容有误，请检查标出的字段。"),
):
    """Input did not pass validation; `fields` maps field names to messages."""


class PermissionDenied(
    BoardError, status=403, code="forbidden", default=_l("您没有权限执行此操作。")
):
    """The actor may not do this."""


class NotFound(BoardError, status=404, code="not_found", default=_l("未找到。")):
    """No such thing, or the actor may not know it exists."""


class InvalidTransition(
    BoardError, status=409, code="invalid_transition", default=_l("留言当前状态下不能执行此操作。")
):
    """The message is not in a state where this action is allowed."""


def attach_errors(form, error: ValidationFailed) -> None:
    """Show a service's field errors next to the form's fields (flashed when it has no field)."""
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + list(messages)
        else:
            for message in messages:
                flash(message, "error")


def flash_errors(error: ValidationFailed) -> None:
    """Flash every field error of a service (for buttons that redirect instead of rendering)."""
    for messages in error.fields.values():
        for message in messages:
            flash(message, "error")


def flash_outcome(
    call: Callable[[], T], success: str, refused: type[BoardError] = ValidationFailed
) -> T | None:
    """Run `call` for a button that redirects either way: flash `success`, or the message of the
    `refused` error it raised. What `call` returned; None when it was refused."""
    try:
        result = call()
    except refused as error:
        flash(error.message, "error")
        return None
    flash(success, "success")
    return result


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """Render an error as JSON or as the HTML error page."""
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, code=code, message=message), status


def init_app(app: Flask) -> None:
    """Register handlers for BoardError and HTTP errors."""

    @app.errorhandler(BoardError)
    def handle_board_error(error: BoardError):
        return error_response(error.status, error.code, error.message, error.fields)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        codes = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "rate_limited",
        }
        messages = {
            400: _("请求有误。"),
            401: _("请先登录。"),
            403: _("您没有权限访问此页面。"),
            404: _("页面不存在，或已被删除。"),
            405: _("不支持此请求方法。"),
            413: _("上传的内容太大。"),
            429: _("操作过于频繁，请稍后再试。"),
        }
        message = messages.get(status, error.description or "")
        if status == 400 and getattr(error, "description", "") and "CSRF" in error.description:
            message = _("表单已过期或来源不明（CSRF 校验失败），请刷新页面后重新提交。")
        return error_response(status, codes.get(status, "http_error"), str(message))

    @app.errorhandler(500)
    def handle_server_error(error):
        return error_response(500, "server_error", _("服务器出错了，我们已记录此问题。"))
