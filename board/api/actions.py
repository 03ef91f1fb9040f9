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
NOTE_REQUIRED = Field("note", "string", "说明（必填）", required=True, max_length=2000)
OUTCOME = Field(
    "outcome",
    "string",
    "处理意见：supported 予以支持 / explained 解释说明 / not_supported 不予支持",
    required=True,
    enum=tuple(o.value for o in Outcome),
)
REQUEST = Field(
    "request",
    "integer",
    "申请编号（留言 JSON 的 pending_request.id）",
    required=True,
    minimum=1,
    maximum=2**31 - 1,
)


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


def _not_accept(m: Message, user: User, data: dict, now: datetime) -> Message:
    reason = _reason_key(data["reason"], ReasonUse.NOT_ACCEPT)
    return msg.not_accept_message(m, user, reason=reason, note=data["note"], now=now)


def _return(m: Message, user: User, data: dict, now: datetime) -> Message:
    reason = _reason_key(data["reason"], ReasonUse.RETURN)
    return msg.request_return(m, user, reason=reason, note=data["note"], now=now)


def _approve_request(m: Message, user: User, data: dict, now: datetime) -> Message:
    msg.require_coordinator(m, user)  # before the id is looked up: a 403 leaks nothing
    request = msg.get_request(m, data["request"])
    return msg.approve_request(request, user, note=data["note"], now=now)


def _decline_request(m: Message, user: User, data: dict, now: datetime) -> Message:
    msg.require_coordinator(m, user)
    request = msg.get_request(m, data["request"])
    return msg.decline_request(request, user, note=data["note"], now=now)


def _transfer(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.transfer_message(m, _unit(data["unit"]), user, note=data["note"], now=now)


def _extend(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.request_extension(m, user, reason=data["reason"], now=now)


def _interim(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.interim_reply(m, user, body=data["body"], now=now)


def _sign_off(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.sign_off_reply(m, user, now=now)


def _decline_sign_off(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.decline_sign_off(m, user, note=data["note"], now=now)


def _follow_up(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.follow_up_message(m, user, body=data["body"], now=now)


def _reopen(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.reopen_message(m, user, note=data["note"], now=now)


def _request_review(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.request_review(m, user, body=data["body"], now=now)


def _decide_review(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.decide_review(m, user, body=data["body"], outcome=data["outcome"], now=now)


def _request_rereview(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.request_rereview(m, user, body=data["body"], now=now)


def _hearing(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.hold_hearing(m, user, days=data["days"], note=data["note"], now=now)


def _decide_rereview(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.decide_rereview(m, user, body=data["body"], outcome=data["outcome"], now=now)


def _refuse_repeat(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.refuse_repeat(m, user, earlier=data["earlier"], now=now)


def _urge(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.urge_message(m, user, note=data["note"], now=now)


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
    return Field(
        name,
        "integer",
        description,
        required=True,
        minimum=1,
        maximum=5,
        missing=msg.SCORE_MISSING[name],
    )


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
            "答复（提交交办员签发，签发后公开）",
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
        Action(
            "not_accept",
            "不予受理（信访事项）",
            "handler of the assigned unit",
            (
                Field(
                    "reason",
                    "string",
                    "不予受理理由代码（如 court_or_arbitration 或 not_accept:court_or_arbitration）",
                    required=True,
                ),
                NOTE,
            ),
            _not_accept,
        ),
        Action(
            "return",
            "申请退回（交办后 5 个工作日内）",
            "handler of the assigned unit",
            (
                Field(
                    "reason",
                    "string",
                    "退回理由代码（如 not_our_duty 或 return:not_our_duty）",
                    required=True,
                ),
                NOTE,
            ),
            _return,
        ),
        Action(
            "approve_request",
            "同意退回或延期申请",
            "coordinator of the board's office, admin",
            (REQUEST, NOTE),
            _approve_request,
        ),
        Action(
            "decline_request",
            "不同意退回或延期申请（须说明理由）",
            "coordinator of the board's office, admin",
            (REQUEST, NOTE_REQUIRED),
            _decline_request,
        ),
        Action(
            "transfer",
            "转办给另一个单位",
            "coordinator of the board's office, admin",
            (Field("unit", "string", "新的办理单位代码", required=True), NOTE),
            _transfer,
        ),
        Action(
            "extend",
            "申请延期（每轮办理一次）",
            "handler of the assigned unit",
            (Field("reason", "string", "延期理由（至少 5 个字）", required=True, max_length=2000),),
            _extend,
        ),
        Action(
            "interim",
            "阶段性答复（立即公开）",
            "handler of the assigned unit",
            (
                Field(
                    "body",
                    "string",
                    "阶段性答复正文（10–10000 字）",
                    required=True,
                    max_length=10000,
                ),
            ),
            _interim,
        ),
        Action(
            "sign_off",
            "签发答复（公开）",
            "coordinator of the board's office, admin",
            (),
            _sign_off,
        ),
        Action(
            "decline_sign_off",
            "退回答复修改",
            "coordinator of the board's office, admin",
            (NOTE_REQUIRED,),
            _decline_sign_off,
        ),
        Action(
            "urge",
            "督办",
            "coordinator of the board's office, admin",
            (NOTE_REQUIRED,),
            _urge,
        ),
        Action(
            "follow_up",
            "追问（留言板，每轮一次）",
            "the author",
            (Field("body", "string", "追问内容（10–500 字）", required=True, max_length=500),),
            _follow_up,
        ),
        Action(
            "reopen",
            "重办（评价不满意的留言，仅一次）",
            "coordinator of the board's office, admin",
            (NOTE_REQUIRED,),
            _reopen,
        ),
        Action(
            "request_review",
            "申请复查（信访事项，30 日内）",
            "the author",
            (Field("body", "string", "复查理由（10–5000 字）", required=True, max_length=5000),),
            _request_review,
        ),
        Action(
            "decide_review",
            "复查意见",
            "coordinator of the review unit, admin",
            (
                Field("body", "string", "复查意见（10–10000 字）", required=True, max_length=10000),
                OUTCOME,
            ),
            _decide_review,
        ),
        Action(
            "request_rereview",
            "申请复核（信访事项，30 日内）",
            "the author",
            (Field("body", "string", "复核理由（10–5000 字）", required=True, max_length=5000),),
            _request_rereview,
        ),
        Action(
            "hearing",
            "组织听证（听证时间不计入复核期限）",
            "coordinator of the review unit, admin",
            (
                Field("days", "integer", "听证时间（日）", required=True, minimum=1, maximum=60),
                NOTE,
            ),
            _hearing,
        ),
        Action(
            "decide_rereview",
            "复核意见（终结）",
            "coordinator of the review unit, admin",
            (
                Field("body", "string", "复核意见（10–10000 字）", required=True, max_length=10000),
                OUTCOME,
            ),
            _decide_rereview,
        ),
        Action(
            "refuse_repeat",
            "不再受理（同一事项已复核终结）",
            "coordinator of the board's office, admin",
            (Field("earlier", "string", "已复核终结的信访事项编号", required=True),),
            _refuse_repeat,
        ),
        Action("withdraw", "撤回（交办前）", "the author", (), _withdraw),
        Action("cosign", "附议（我也有同样的问题）", "any other citizen", (), _cosign),
    )
}
