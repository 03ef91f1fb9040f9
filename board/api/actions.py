"""Workflow actions the API offers on a message: the body each takes and the service it calls.

Which actions exist, who may take them and their one-line summaries come from the workflow
registry (`board.workflow`); the lengths and ranges of their fields too. Only the mapping from a
JSON body to a service call is written here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from .. import workflow
from ..errors import ValidationFailed
from ..extensions import db
from ..messages import services as msg
from ..models import Message, Outcome, ReasonCode, ReasonUse, Unit, User
from ..workflow import Action
from .inputs import Field

Run = Callable[[Message, User, dict, datetime], Message]


@dataclass(frozen=True)
class ApiAction:
    """One workflow action as the API takes it: its registry entry, body fields and service."""

    name: str
    summary: str
    who: str
    fields: tuple[Field, ...]
    run: Run


def _note(action: Action, *, required: bool = False) -> Field:
    """The step's note: required when the registry says it must say why."""
    bounds = workflow.limit(action, "note")
    if required or bounds.low > 0:
        return Field("note", "string", "说明（必填）", required=True, max_length=bounds.high)
    return Field("note", "string", "内部或公开的说明（可选）", max_length=bounds.high, default="")


def _text(action: Action, name: str, description: str) -> Field:
    """A required text field whose length the registry bounds (described with its range)."""
    bounds = workflow.limit(action, name)
    return Field(
        name,
        "string",
        f"{description}（{bounds.low}–{bounds.high} 字）",
        required=True,
        max_length=bounds.high,
    )


def _reason(description: str) -> Field:
    return Field("reason", "string", description, required=True)


def _unit(description: str) -> Field:
    return Field("unit", "string", description, required=True)


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


def _reason_key(reason: str, use: ReasonUse) -> str:
    """A reason code with or without its `use:` prefix: `privacy_leak` means `hide:privacy_leak`."""
    found = db.session.get(ReasonCode, reason)
    if (found is None or found.use != use) and ":" not in reason:
        return f"{use}:{reason}"
    return reason


def _find_unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code.strip()))
    if unit is None:
        raise ValidationFailed(fields={"unit": [_("没有代码为 %(code)s 的单位。", code=code)]})
    return unit


def _approve(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.approve_message(m, user, note=data["note"], now=now)


def _with_reason(use: ReasonUse, decide: Callable[..., Message]) -> Run:
    """A decision that gives a published reason of `use` and a note: `decide(m, user, reason=…,
    note=…, now=…)`."""

    def run(m: Message, user: User, data: dict, now: datetime) -> Message:
        reason = _reason_key(data["reason"], use)
        return decide(m, user, reason=reason, note=data["note"], now=now)

    return run


_reject = _with_reason(ReasonUse.REJECT, msg.reject_message)
_hide = _with_reason(ReasonUse.HIDE, msg.hide_message)


def _assign(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.assign_message(m, _find_unit(data["unit"]), user, now=now)


def _accept(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.accept_message(m, user, note=data["note"], now=now)


def _reply(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.reply_message(m, user, body=data["body"], outcome=data["outcome"], now=now)


_not_accept = _with_reason(ReasonUse.NOT_ACCEPT, msg.not_accept_message)
_return = _with_reason(ReasonUse.RETURN, msg.request_return)


def _approve_request(m: Message, user: User, data: dict, now: datetime) -> Message:
    msg.require_coordinator(m, user)  # before the id is looked up: a 403 leaks nothing
    request = msg.get_request(m, data["request"])
    return msg.approve_request(request, user, note=data["note"], now=now)


def _decline_request(m: Message, user: User, data: dict, now: datetime) -> Message:
    msg.require_coordinator(m, user)
    request = msg.get_request(m, data["request"])
    return msg.decline_request(request, user, note=data["note"], now=now)


def _transfer(m: Message, user: User, data: dict, now: datetime) -> Message:
    return msg.transfer_message(m, _find_unit(data["unit"]), user, note=data["note"], now=now)


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
    bounds = workflow.limit(Action.RATE, "score")
    return Field(
        name,
        "integer",
        description,
        required=True,
        minimum=bounds.low,
        maximum=bounds.high,
        missing=msg.SCORE_MISSING[name],
    )


def _body_fields() -> dict[Action, tuple[tuple[Field, ...], Run]]:
    """Each API action's body fields and service call, by registry action."""
    days = workflow.limit(Action.HEARING, "days")
    comment = workflow.limit(Action.RATE, "comment")
    return {
        Action.APPROVE: ((_note(Action.APPROVE),), _approve),
        Action.REJECT: ((_reason("不通过理由代码（如 unclear）"), _note(Action.REJECT)), _reject),
        Action.HIDE: (
            (_reason("隐藏理由代码（如 privacy_leak 或 hide:privacy_leak）"), _note(Action.HIDE)),
            _hide,
        ),
        Action.ASSIGN: ((_unit("办理单位代码"),), _assign),
        Action.ACCEPT: ((_note(Action.ACCEPT),), _accept),
        Action.REPLY: (
            (
                _text(Action.REPLY, "body", "答复正文"),
                Field(
                    "outcome",
                    "string",
                    "信访事项的处理意见（信访渠道必填）",
                    enum=tuple(o.value for o in Outcome),
                ),
            ),
            _reply,
        ),
        Action.RATE: (
            (
                _score("resolution", "解决程度 1–5"),
                _score("attitude", "办理态度 1–5"),
                _score("speed", "办理速度 1–5"),
                Field("comment", "string", "评价内容", max_length=comment.high, default=""),
            ),
            _rate,
        ),
        Action.NOT_ACCEPT: (
            (
                _reason(
                    "不予受理理由代码（如 court_or_arbitration 或 not_accept:court_or_arbitration）"
                ),
                _note(Action.NOT_ACCEPT),
            ),
            _not_accept,
        ),
        Action.RETURN: (
            (
                _reason("退回理由代码（如 not_our_duty 或 return:not_our_duty）"),
                _note(Action.RETURN),
            ),
            _return,
        ),
        Action.APPROVE_REQUEST: ((REQUEST, _note(Action.APPROVE_REQUEST)), _approve_request),
        Action.DECLINE_REQUEST: ((REQUEST, _note(Action.DECLINE_REQUEST)), _decline_request),
        Action.TRANSFER: ((_unit("新的办理单位代码"), _note(Action.TRANSFER)), _transfer),
        Action.EXTEND: ((_text(Action.EXTEND, "reason", "延期理由"),), _extend),
        Action.INTERIM: ((_text(Action.INTERIM, "body", "阶段性答复正文"),), _interim),
        Action.SIGN_OFF: ((), _sign_off),
        Action.DECLINE_SIGN_OFF: ((_note(Action.DECLINE_SIGN_OFF),), _decline_sign_off),
        Action.URGE: ((_note(Action.URGE),), _urge),
        Action.FOLLOW_UP: ((_text(Action.FOLLOW_UP, "body", "追问内容"),), _follow_up),
        Action.REOPEN: ((_note(Action.REOPEN),), _reopen),
        Action.REQUEST_REVIEW: (
            (_text(Action.REQUEST_REVIEW, "body", "复查理由"),),
            _request_review,
        ),
        Action.DECIDE_REVIEW: (
            (_text(Action.DECIDE_REVIEW, "body", "复查意见"), OUTCOME),
            _decide_review,
        ),
        Action.REQUEST_REREVIEW: (
            (_text(Action.REQUEST_REREVIEW, "body", "复核理由"),),
            _request_rereview,
        ),
        Action.HEARING: (
            (
                Field(
                    "days",
                    "integer",
                    "听证时间（日）",
                    required=True,
                    minimum=days.low,
                    maximum=days.high,
                ),
                _note(Action.HEARING),
            ),
            _hearing,
        ),
        Action.DECIDE_REREVIEW: (
            (_text(Action.DECIDE_REREVIEW, "body", "复核意见"), OUTCOME),
            _decide_rereview,
        ),
        Action.REFUSE_REPEAT: (
            (Field("earlier", "string", "已复核终结的信访事项编号", required=True),),
            _refuse_repeat,
        ),
        Action.WITHDRAW: ((), _withdraw),
        Action.COSIGN: ((), _cosign),
    }


# Every registry step with an API summary, in the registry's order.
_BODIES = _body_fields()
ACTIONS: dict[str, ApiAction] = {
    str(step.action): ApiAction(str(step.action), step.summary, step.who, *_BODIES[step.action])
    for step in workflow.STEPS.values()
    if step.summary
}
