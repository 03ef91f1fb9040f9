"""Workflow actions the API offers on a message: the body each takes and the service it calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import ValidationFailed
from ..extensions import db
from ..messages import services as msg
from ..models import Message, Outcome, ReasonCode, ReasonUse, Unit, User
from .inputs import Field

Run = Callable[[Message, User, dict, datetime], Message]

NOTE = Field("note", "string", "内部或公开的说明（可选）", max_length=2000, default="")


@dataclass(frozen=True)
class Action:
    """One workflow action: who may take it, what its body carries, which service does it."""

    name: str
    summary: str
    who: str
    fields: tuple[Field, ...]
    run: Run


def _reason_key(reason: str, use: ReasonUse) -> str:
    """A reason code with or without its `use:` prefix: `privacy_leak` means `hide:privacy_leak`."""
    found = db.session.get(ReasonCode, reason)
    if (found is None or found.use != use) and ":" not in reason:
        return f"{use}:{reason}"
    return reason


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code.strip()))
    if unit is None:
        raise ValidationFailed(fields={"unit": [_("没有代码为 %(code)s 的单位。", code=code)]})
    return unit


def _approve(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.approve_message(m, user, note=data["note"], now=now)


def _reject(m: Message, user: User, data: dict, now: datetime) -> Message:
    reason = _reason_key(data["reason"], ReasonUse.REJECT)
    return msg.reject_message(m, user, reason=reason, note=data["note"], now=now)


def _hide(m: Message, user: User, data: dict, now: datetime) -> Message:
    reason = _reason_key(data["reason"], ReasonUse.HIDE)
    return msg.hide_message(m, user, reason=reason, note=data["note"], now=now)


def _assign(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.assign_message(m, _unit(data["unit"]), user, now=now)


def _accept(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.accept_message(m, user, note=data["note"], now=now)


def _reply(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.reply_message(m, user, body=data["body"], outcome=data["outcome"], now=now)


def _rate(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.rate_message(
        m,
        user,
        resolution=data["resolution"],
        attitude=data["attitude"],
        speed=data["speed"],
        comment=data["comment"],
        now=now,
    )


def _withdraw(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.withdraw_message(m, user, now=now)


def _cosign(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.cosign_message(m, user, now=now)


def _score(name: str, description: str) -> Field:
    return Field(name, "integer", description, required=True, minimum=1, maximum=5)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("approve", "通过审核", "moderator, admin", (NOTE,), _approve),
        Action(
            "reject",
            "审核不通过",
            "moderator, admin",
            (Field("reason", "string", "不通过理由代码（如 unclear）", required=True), NOTE),
            _reject,
        ),
        Action(
            "hide",
            "隐藏已公开的留言",
            "moderator, admin",
            (
                Field(
                    "reason",
                    "string",
                    "隐藏理由代码（如 privacy_leak 或 hide:privacy_leak）",
                    required=True,
                ),
                NOTE,
            ),
            _hide,
        ),
        Action(
            "assign",
            "交办给办理单位",
            "coordinator of the board's office, admin",
            (Field("unit", "string", "办理单位代码", required=True),),
            _assign,
        ),
        Action("accept", "受理", "handler of the assigned unit", (NOTE,), _accept),
        Action(
            "reply",
            "答复（立即公开）",
            "handler of the assigned unit",
            (
                Field("body", "string", "答复正文（10–10000 字）", required=True, max_length=10000),
                Field(
                    "outcome",
                    "string",
                    "信访事项的处理意见（信访渠道必填）",
                    enum=tuple(o.value for o in Outcome),
                ),
            ),
            _reply,
        ),
        Action(
            "rate",
            "评价办理（答复后 30 天内）",
            "the author",
            (
                _score("resolution", "解决程度 1–5"),
                _score("attitude", "办理态度 1–5"),
                _score("speed", "办理速度 1–5"),
                Field("comment", "string", "评价内容", max_length=500, default=""),
            ),
            _rate,
        ),
        Action("withdraw", "撤回（交办前）", "the author", (), _withdraw),
        Action("cosign", "附议（我也有同样的问题）", "any other citizen", (), _cosign),
    )
}
