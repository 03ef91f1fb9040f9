"""The workflow, declared once: every action a message can undergo, who may take it, from which
states, on which track, what it leads to, its windows, limits and labels.

Services ask `rules.check()` before they change anything; the desk and the author's page ask
`rules.available()` which buttons to show; the API's action table, the OpenAPI fields, the
timeline labels and the transitions test read the same table. Adding an action means adding a
`Step` here, the service that carries it out, and its tests (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import select

from ..calendar import services as clocks
from ..clock import local_date
from ..deadlines import PolicyName
from ..extensions import db
from ..models import (
    PUBLIC_STATES,
    Cosign,
    HandlingRequest,
    Message,
    Reply,
    ReplyState,
    RequestKind,
    RequestState,
    State,
    Track,
)


class Action(StrEnum):
    """Every action of the workflow; also the `action` of the event row it writes."""

    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    APPROVE = "approve"
    REJECT = "reject"
    HIDE = "hide"
    COSIGN = "cosign"
    ASSIGN = "assign"
    ACCEPT = "accept"
    NOT_ACCEPT = "not_accept"
    RETURN = "return"
    APPROVE_REQUEST = "approve_request"
    DECLINE_REQUEST = "decline_request"
    RETURN_APPROVED = "return_approved"
    RETURN_DECLINED = "return_declined"
    EXTENSION_DECLINED = "extension_declined"
    TRANSFER = "transfer"
    EXTEND = "extend"
    INTERIM = "interim"
    REPLY = "reply"
    SIGN_OFF = "sign_off"
    DECLINE_SIGN_OFF = "decline_sign_off"
    URGE = "urge"
    RATE = "rate"
    FOLLOW_UP = "follow_up"
    REOPEN = "reopen"
    CLOSE = "close"
    REQUEST_REVIEW = "request_review"
    DECIDE_REVIEW = "decide_review"
    REQUEST_REREVIEW = "request_rereview"
    HEARING = "hearing"
    DECIDE_REREVIEW = "decide_rereview"
    REFUSE_REPEAT = "refuse_repeat"
    MERGE = "merge"  # the same person on the same matter (board/intel/duplicates.py)
    LINK = "link"  # many people on one matter
    # Events written by the system or by tools outside the message workflow.
    REDACT = "redact"
    CLOCK_RECOMPUTED = "clock_recomputed"
    CLOCK_CONFIRMED = "clock_confirmed"
    REVIEW = "review"  # imported history: a review decision before decide_review existed
    REREVIEW = "rereview"


class Scope(StrEnum):
    """In which capacity a user may act on a message (tested in `rules.SCOPE_TESTS`)."""

    AUTHOR = "author"  # the citizen who wrote it
    CITIZEN = "citizen"  # any signed-in user (the step's guards exclude the author)
    MODERATOR = "moderator"
    BOARD_OFFICE = "board_office"  # a coordinator of the board's office
    UNIT = "unit"  # a handler of the unit the message is assigned to
    REVIEW_BODY = "review_body"  # a coordinator of the unit deciding the review
    ADMIN = "admin"
    SYSTEM = "system"  # scheduled jobs; no user may take the step

    @property
    def who(self) -> str:
        """The scope in the API's words."""
        return SCOPE_WHO[self]


SCOPE_WHO = {
    Scope.AUTHOR: "the author",
    Scope.CITIZEN: "any other citizen",
    Scope.MODERATOR: "moderator",
    Scope.BOARD_OFFICE: "coordinator of the board's office",
    Scope.UNIT: "handler of the assigned unit",
    Scope.REVIEW_BODY: "coordinator of the review unit",
    Scope.ADMIN: "admin",
    Scope.SYSTEM: "the system",
}


@dataclass(frozen=True)
class Limit:
    """How long (characters) or how large (numbers) a field of a step may be."""

    low: int
    high: int
    label: str = ""  # the field's name in error messages ("延期理由至少 5 个字。")


@dataclass(frozen=True)
class Guard:
    """A condition beyond role, track and state; `message` says why it refuses."""

    holds: Callable[[Message, object, datetime], bool]  # (message, actor, now)
    message: str


@dataclass(frozen=True)
class Step:
    """One action of the workflow: everything a page, a service or the API needs to know."""

    action: Action
    label: str  # the public timeline's word for the event
    scopes: tuple[Scope, ...]
    states: frozenset[State] = frozenset()
    target: State | None = None  # None: the state stays
    tracks: frozenset[Track] = frozenset(Track)
    track_targets: dict[Track, State | None] = field(default_factory=dict)
    is_public: bool = True  # whether its event shows on the public timeline
    desk_label: str | None = None  # the staff timeline's word, when it says more
    denied: str | None = None  # PermissionDenied's text for anyone outside the scopes
    window: PolicyName | None = None  # a citizen window that must still be open
    late: str | None = None  # InvalidTransition's text once the window has passed
    guards: tuple[Guard, ...] = ()
    limits: dict[str, Limit] = field(default_factory=dict)
    summary: str = ""  # the API's one-line description; empty: not offered by the API
    staff_mail: str = ""  # the subject of the mail to the staff concerned (in their language)
    author_mail: str = ""  # what the author's mail says happened ("mail" context)

    def target_for(self, track: str, state: str) -> State:
        """The state a message of `track` in `state` is in after this step."""
        target = self.target
        if Track(track) in self.track_targets:
            target = self.track_targets[Track(track)]
        return State(state) if target is None else target

    @property
    def who(self) -> str:
        """Who may take it, in the API's words."""
        return ", ".join(s.who for s in self.scopes)

    @property
    def is_event_only(self) -> bool:
        """Written by the system or as part of another step; no one asks for it directly."""
        return not self.states or self.scopes == (Scope.SYSTEM,)


# ---------------------------------------------------------------------------------------------
# State sets and guards the steps share

UNIT_HOLDS = frozenset({State.ASSIGNED, State.IN_PROGRESS, State.REOPENED})
HANDLING = frozenset({State.IN_PROGRESS, State.REOPENED})
BOTH = frozenset(Track)
BOARD = frozenset({Track.BOARD})
PETITION = frozenset({Track.PETITION})
NOTE_MAX = 2000
RATING_DAYS = 30
MAX_HEARING_DAYS = clocks.MAX_HEARING_DAYS


def pending_request(message: Message) -> HandlingRequest | None:
    """The message's pending return or extension request, if any (at most one)."""
    return next((r for r in message.handling_requests if r.state == RequestState.PENDING), None)


def awaiting_reply(message: Message) -> Reply | None:
    """The reply waiting for the coordinator's sign-off, if any (at most one)."""
    return next((r for r in message.replies if r.state == ReplyState.AWAITING_SIGNOFF), None)


def extension_used(message: Message) -> bool:
    """True if an extension was already approved in the current handling round."""
    return any(
        r.kind == RequestKind.EXTENSION
        and r.state == RequestState.APPROVED
        and r.round == message.handling_round
        for r in message.handling_requests
    )


def within(clock, now: datetime) -> bool:
    """True while an open clock's due day has not ended (Asia/Shanghai)."""
    return clock is not None and local_date(now) <= clock.due_on


def was_reopened(message: Message) -> bool:
    """A board message is re-handled (重办) at most once."""
    return any(e.action == Action.REOPEN for e in message.events)


def rating_open(message: Message, actor, now: datetime) -> bool:
    """The 30-day rating window: its clock if one runs, else 30 days from the reply."""
    window = clocks.open_clock(message, (PolicyName.RATING_WINDOW,))
    if window is not None:
        return within(window, now)
    return message.replied_at is not None and now <= message.replied_at + timedelta(
        days=RATING_DAYS
    )


def has_cosigned(message: Message, actor) -> bool:
    """True if `actor` already co-signed the message."""
    return (
        db.session.scalar(
            select(Cosign.id).where(Cosign.message_id == message.id, Cosign.user_id == actor.id)
        )
        is not None
    )


NO_PENDING = Guard(
    lambda m, a, now: pending_request(m) is None, _l("已有一项申请在等待交办员决定。")
)
HAS_PENDING = Guard(
    lambda m, a, now: pending_request(m) is not None, _l("没有待审批的申请，或申请已经处理。")
)
HAS_AWAITING = Guard(lambda m, a, now: awaiting_reply(m) is not None, _l("没有等待签发的答复。"))
REQUIRED_NOTE = {"note": Limit(1, NOTE_MAX, _l("说明"))}
OPTIONAL_NOTE = {"note": Limit(0, NOTE_MAX, _l("说明"))}
OPINION = {"body": Limit(10, 10000, _l("意见"))}

# ---------------------------------------------------------------------------------------------
# The families: who takes a step and the settings their steps share, so that each step below
# states only what differs.


def _family(*scopes: Scope, **shared) -> Callable[..., Step]:
    """Declares the steps `scopes` may take; `shared` holds their common settings."""

    def declare(action: Action, label: str, states=(), target=None, **fields) -> Step:
        """`states` is one state or several; `fields` override the family's settings."""
        states = frozenset({states}) if isinstance(states, State) else frozenset(states)
        return Step(action, label, scopes, states, target, **(shared | fields))

    return declare


by_citizen = _family(Scope.CITIZEN)
by_author = _family(Scope.AUTHOR)
by_moderation = _family(Scope.MODERATOR, Scope.ADMIN, limits=OPTIONAL_NOTE)
by_office = _family(Scope.BOARD_OFFICE, Scope.ADMIN)
by_unit = _family(Scope.UNIT, limits=OPTIONAL_NOTE)
by_review_body = _family(Scope.REVIEW_BODY, Scope.ADMIN, tracks=PETITION)
# Events the office's decision on a request writes besides its own (never on the public page).
office_event = _family(Scope.BOARD_OFFICE, Scope.ADMIN, is_public=False)
system_event = _family(Scope.SYSTEM)
# The author asking for a review or a re-review of a petition: a 30-day window, a reason.
petition_request = _family(Scope.AUTHOR, tracks=PETITION)

# ---------------------------------------------------------------------------------------------
# The steps

_STEPS = (
    by_citizen(
        Action.SUBMIT,
        _l("提交留言"),
        target=State.SUBMITTED,
        limits={"title": Limit(1, 40), "body": Limit(10, 5000), "private_note": Limit(0, 500)},
    ),
    by_author(
        Action.WITHDRAW,
        _l("留言人撤回"),
        {State.SUBMITTED, State.RECEIVED},
        State.WITHDRAWN,
        desk_label=_l("撤回"),
        denied=_l("只有留言人本人可以撤回。"),
        summary="撤回（交办前）",
    ),
    by_moderation(
        Action.APPROVE,
        _l("审核通过"),
        State.SUBMITTED,
        State.RECEIVED,
        desk_label=_l("通过审核"),
        summary="通过审核",
        author_mail=_lp("mail", "已通过审核"),
    ),
    by_moderation(
        Action.REJECT,
        _l("未通过审核"),
        State.SUBMITTED,
        State.REJECTED,
        is_public=False,
        summary="审核不通过",
        author_mail=_lp("mail", "未通过审核"),
    ),
    by_moderation(
        Action.HIDE,
        _l("隐藏"),
        PUBLIC_STATES,
        guards=(Guard(lambda m, a, now: not m.is_hidden, _l("这条留言已被隐藏。")),),
        summary="隐藏已公开的留言",
    ),
    by_citizen(
        Action.COSIGN,
        _l("附议"),
        PUBLIC_STATES,
        denied=_l("请先登录再附议。"),
        guards=(
            Guard(lambda m, a, now: m.author_id != a.id, _l("不能附议自己的留言。")),
            Guard(lambda m, a, now: not has_cosigned(m, a), _l("您已经附议过这条留言。")),
        ),
        summary="附议（我也有同样的问题）",
    ),
    by_office(
        Action.ASSIGN,
        _l("交办"),
        State.RECEIVED,
        State.ASSIGNED,
        denied=_l("只有该留言板的交办员可以交办。"),
        summary="交办给办理单位",
        staff_mail=_l("新交办留言"),
        author_mail=_lp("mail", "已交办至承办单位"),
    ),
    by_unit(
        Action.ACCEPT,
        _l("受理"),
        State.ASSIGNED,
        State.IN_PROGRESS,
        denied=_l("只有承办单位的工作人员可以受理。"),
        summary="受理",
        author_mail=_lp("mail", "已被承办单位受理"),
    ),
    by_unit(
        Action.NOT_ACCEPT,
        _l("不予受理"),
        State.ASSIGNED,
        State.NOT_ACCEPTED,
        tracks=PETITION,
        denied=_l("只有承办单位的工作人员可以决定不予受理。"),
        summary="不予受理（信访事项）",
        author_mail=_lp("mail", "不予受理"),
    ),
    by_unit(
        Action.RETURN,
        _l("退回"),
        State.ASSIGNED,
        is_public=False,
        desk_label=_l("申请退回"),
        denied=_l("只有承办单位的工作人员可以申请退回。"),
        window=PolicyName.BOARD_RETURN,
        late=_l("退回申请须在交办后 5 个工作日内提出，期限已过。"),
        guards=(NO_PENDING,),
        summary="申请退回（交办后 5 个工作日内）",
        staff_mail=_l("退回申请待审批"),
    ),
    by_office(
        Action.APPROVE_REQUEST,
        _l("同意申请"),
        UNIT_HOLDS,
        denied=_l("只有该留言板的交办员可以决定申请。"),
        guards=(HAS_PENDING,),
        limits=OPTIONAL_NOTE,
        summary="同意退回或延期申请",
    ),
    by_office(
        Action.DECLINE_REQUEST,
        _l("不同意申请"),
        UNIT_HOLDS,
        denied=_l("只有该留言板的交办员可以决定申请。"),
        guards=(HAS_PENDING,),
        limits=REQUIRED_NOTE,
        summary="不同意退回或延期申请（须说明理由）",
    ),
    office_event(
        Action.RETURN_APPROVED,
        _l("退回重新交办"),
        State.ASSIGNED,
        State.RECEIVED,
        desk_label=_l("同意退回"),
    ),
    office_event(
        Action.RETURN_DECLINED, _l("不同意退回"), State.ASSIGNED, staff_mail=_l("退回申请未获批准")
    ),
    office_event(
        Action.EXTENSION_DECLINED, _l("不同意延期"), HANDLING, staff_mail=_l("延期申请未获批准")
    ),
    by_office(
        Action.TRANSFER,
        _l("转办"),
        UNIT_HOLDS,
        State.ASSIGNED,
        denied=_l("只有该留言板的交办员可以转办。"),
        limits=OPTIONAL_NOTE,
        summary="转办给另一个单位",
        staff_mail=_l("转办留言"),
    ),
    by_unit(
        Action.EXTEND,
        _l("延期"),
        HANDLING,
        denied=_l("只有承办单位的工作人员可以申请延期。"),
        guards=(
            NO_PENDING,
            Guard(
                lambda m, a, now: not extension_used(m),
                _l("本轮办理已经延期过一次，不能再次延期。"),
            ),
            Guard(
                lambda m, a, now: clocks.open_clock(m, clocks.ANSWER_CLOCKS) is not None,
                _l("没有正在计时的答复期限，无需延期。"),
            ),
        ),
        limits={"reason": Limit(5, NOTE_MAX, _l("延期理由"))},
        summary="申请延期（每轮办理一次）",
        staff_mail=_l("延期申请待审批"),
        author_mail=_lp("mail", "办理期限已延长"),
    ),
    by_unit(
        Action.INTERIM,
        _l("阶段性答复"),
        HANDLING,
        denied=_l("只有承办单位的工作人员可以发布阶段性答复。"),
        limits={"body": Limit(10, 10000, _l("阶段性答复"))},
        summary="阶段性答复（立即公开）",
    ),
    by_unit(
        Action.REPLY,
        _l("答复"),
        UNIT_HOLDS,
        is_public=False,
        desk_label=_l("答复送签"),
        denied=_l("只有承办单位的工作人员可以答复。"),
        guards=(
            Guard(
                lambda m, a, now: awaiting_reply(m) is None,
                _l("已有一份答复等待签发，请等交办员签发或退回修改。"),
            ),
        ),
        limits={"body": Limit(10, 10000, _l("答复"))},
        summary="答复（提交交办员签发，签发后公开）",
        staff_mail=_l("答复待签发"),
    ),
    by_office(
        Action.SIGN_OFF,
        _l("签发"),
        UNIT_HOLDS,
        State.REPLIED,
        desk_label=_l("签发答复"),
        denied=_l("只有该留言板的交办员可以签发答复。"),
        guards=(HAS_AWAITING,),
        summary="签发答复（公开）",
        author_mail=_lp("mail", "已收到答复"),
    ),
    by_office(
        Action.DECLINE_SIGN_OFF,
        _l("退回修改"),
        UNIT_HOLDS,
        is_public=False,
        denied=_l("只有该留言板的交办员可以退回答复。"),
        guards=(HAS_AWAITING,),
        limits=REQUIRED_NOTE,
        summary="退回答复修改",
        staff_mail=_l("答复被退回修改"),
    ),
    by_office(
        Action.URGE,
        _l("督办"),
        UNIT_HOLDS,
        is_public=False,
        denied=_l("只有该留言板的交办员可以督办。"),
        limits=REQUIRED_NOTE,
        summary="督办",
        staff_mail=_l("督办通知"),
    ),
    by_author(
        Action.RATE,
        _l("评价"),
        State.REPLIED,
        State.CLOSED,
        track_targets={Track.BOARD: State.CLOSED, Track.PETITION: None},  # petition: review
        denied=_l("只有留言人本人可以评价。"),
        guards=(
            Guard(
                lambda m, a, now: not any(r.round == m.handling_round for r in m.ratings),
                _l("这一轮答复您已经评价过了。"),
            ),
            Guard(rating_open, _l("答复已超过 30 天，评价期已过。")),
        ),
        limits={"comment": Limit(0, 500, _l("评价内容")), "score": Limit(1, 5)},
        summary="评价办理（答复后 30 天内）",
        staff_mail=_l("群众不满意评价"),
    ),
    by_author(
        Action.FOLLOW_UP,
        _l("追问"),
        State.REPLIED,
        State.IN_PROGRESS,
        tracks=BOARD,
        denied=_l("只有留言人本人可以追问。"),
        guards=(
            Guard(lambda m, a, now: m.unit is not None, _l("这条留言没有办理单位，无法追问。")),
        ),
        limits={"body": Limit(10, 500, _l("追问"))},
        summary="追问（留言板，每轮一次）",
        staff_mail=_l("群众追问"),
    ),
    by_office(
        Action.REOPEN,
        _l("重新办理"),
        State.CLOSED,
        State.REOPENED,
        tracks=BOARD,
        desk_label=_l("重办"),
        denied=_l("只有该留言板的交办员可以决定重办。"),
        guards=(
            Guard(
                lambda m, a, now: m.rating is not None and m.rating.is_dissatisfied,
                _l("只有留言人评价为不满意的留言才能重办。"),
            ),
            Guard(lambda m, a, now: not was_reopened(m), _l("这条留言已经重办过一次。")),
            Guard(lambda m, a, now: m.unit is not None, _l("这条留言没有办理单位，无法重办。")),
        ),
        limits=REQUIRED_NOTE,
        summary="重办（评价不满意的留言，仅一次）",
        staff_mail=_l("留言重办"),
    ),
    system_event(Action.CLOSE, _l("办结"), State.REPLIED, State.CLOSED),
    petition_request(
        Action.REQUEST_REVIEW,
        _l("申请复查"),
        {State.REPLIED, State.NOT_ACCEPTED},
        State.REVIEW_REQUESTED,
        denied=_l("只有信访人本人可以申请复查。"),
        window=PolicyName.PETITION_REVIEW_REQUEST,
        late=_l("申请复查的期限（30 日）已过。"),
        limits={"body": Limit(10, 5000, _l("复查理由"))},
        summary="申请复查（信访事项，30 日内）",
        staff_mail=_l("复查申请"),
    ),
    by_review_body(
        Action.DECIDE_REVIEW,
        _l("复查意见"),
        State.REVIEW_REQUESTED,
        State.REVIEWED,
        denied=_l("只有复查（复核）机关的交办员可以作出意见。"),
        limits=OPINION,
        summary="复查意见",
        author_mail=_lp("mail", "复查意见已作出"),
    ),
    petition_request(
        Action.REQUEST_REREVIEW,
        _l("申请复核"),
        State.REVIEWED,
        State.REREVIEW_REQUESTED,
        denied=_l("只有信访人本人可以申请复核。"),
        window=PolicyName.PETITION_REREVIEW_REQUEST,
        late=_l("申请复核的期限（30 日）已过。"),
        limits={"body": Limit(10, 5000, _l("复核理由"))},
        summary="申请复核（信访事项，30 日内）",
        staff_mail=_l("复核申请"),
    ),
    by_review_body(
        Action.HEARING,
        _l("听证"),
        State.REREVIEW_REQUESTED,
        denied=_l("只有复核机关的交办员可以组织听证。"),
        guards=(
            Guard(
                lambda m, a, now: clocks.open_clock(m, (PolicyName.PETITION_REREVIEW,)) is not None,
                _l("没有正在计时的复核期限。"),
            ),
        ),
        limits={"days": Limit(1, MAX_HEARING_DAYS), **OPTIONAL_NOTE},
        summary="组织听证（听证时间不计入复核期限）",
        author_mail=_lp("mail", "将举行听证，复核期限相应延长"),
    ),
    by_review_body(
        Action.DECIDE_REREVIEW,
        _l("复核意见"),
        State.REREVIEW_REQUESTED,
        State.REREVIEWED,
        denied=_l("只有复查（复核）机关的交办员可以作出意见。"),
        limits=OPINION,
        summary="复核意见（终结）",
        author_mail=_lp("mail", "复核意见已作出"),
    ),
    by_office(
        Action.REFUSE_REPEAT,
        _l("不再受理"),
        State.RECEIVED,
        State.NOT_ACCEPTED,
        tracks=PETITION,
        denied=_l("只有该留言板的交办员可以决定不再受理。"),
        summary="不再受理（同一事项已复核终结）",
        author_mail=_lp("mail", "不再受理"),
    ),
    by_office(
        Action.MERGE,
        _l("合并到同一留言人的同一事项"),
        State.RECEIVED,
        State.CLOSED,
        denied=_l("只有该留言板的交办员可以合并留言。"),
    ),
    by_office(
        Action.LINK,
        _l("关联反映同一事项的留言"),
        PUBLIC_STATES,
        denied=_l("只有该留言板的交办员可以关联留言。"),
    ),
    system_event(Action.REDACT, _l("遮蔽公开内容")),
    system_event(Action.CLOCK_RECOMPUTED, _l("期限重算")),
    system_event(Action.CLOCK_CONFIRMED, _l("期限确定")),
    system_event(Action.REVIEW, _l("复查决定")),
    system_event(Action.REREVIEW, _l("复核决定")),
)

STEPS: dict[Action, Step] = {step.action: step for step in _STEPS}
