"""Views of the desk: coordinators route, sign off and supervise; handlers accept and answer;
review bodies decide reviews. Every step is one service call; errors keep what was typed.

The step routes are one table (`STEPS` below): each row names the workflow action it carries
out, so who may post it, and whether its form shows, come from the registry (`board.workflow`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import models, workflow
from ..auth.forms import apply_service_errors
from ..calendar import services as calendar
from ..clock import utcnow
from ..deadlines import PolicyName
from ..errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..messages import queries
from ..messages.events import get_message
from ..messages.review import (
    decide_rereview,
    decide_review,
    hold_hearing,
    refuse_repeat,
)
from ..messages.viewing import record_view
from ..models import Board, ClockState, Message, ReasonUse, Reply, ReplyState, Role, State, Track
from ..paging import page_arg
from ..workflow import Action
from ..workflow.access import can_see_private_fields, can_view, can_work_on
from . import handling, services
from .forms import (
    STAFF_STATE_LABELS,
    AcceptForm,
    AssignForm,
    DecisionForm,
    DeclineRequestForm,
    DeskForm,
    ExtensionForm,
    HearingForm,
    InterimForm,
    NotAcceptForm,
    QueueFilterForm,
    RefuseRepeatForm,
    ReplyForm,
    RequestDecisionForm,
    RequiredNoteForm,
    ReturnForm,
    SignOffForm,
    TransferForm,
)

bp = Blueprint("desk", __name__, url_prefix="/desk")

SUPERVISION_LIMIT = 100
LIST_LIMIT = 50
ANSWERED_LIMIT = 20


def _me():
    """The signed-in user as a model instance (not the proxy)."""
    return current_user._get_current_object()


def _require_role(*roles: Role) -> None:
    """Refuse the page to anyone whose role is not listed."""
    if current_user.role not in roles:
        raise PermissionDenied()


def _staff_message(code: str) -> Message:
    """The message with this code, if the current user works on it (404 if none, else 403).

    A private message the user may not read is a 404, exactly like a code that does not exist.
    """
    message = get_message(code)
    if not can_work_on(current_user, message):
        if not can_view(current_user, message):
            raise NotFound(_("没有编号为 %(code)s 的留言。", code=code))
        raise PermissionDenied(_("这条留言不在您的办理范围内。"))
    return message


def _page() -> int:
    """The requested page number (1 when missing or invalid)."""
    return page_arg()


def _english() -> bool:
    """True when the page is shown in English."""
    return str(get_locale() or "").startswith("en")


# ---------------------------------------------------------------------------------------------
# The steps: one row per route, the registry's action deciding who and when


@dataclass(frozen=True)
class DeskStep:
    """A step route: its action, form, the service call and what the user is told."""

    endpoint: str  # `desk.<endpoint>`, POST /desk/m/<code>/<path>
    path: str
    form_name: str  # the key of its form on the page
    actions: tuple[Action, ...]  # the registry's actions it may carry out (first one offered)
    form: Callable[..., DeskForm]
    run: Callable[[Message, models.User, DeskForm, datetime], object]
    done: Callable[[Message], str]
    to: str | None = None  # endpoint to go to afterwards (default: the message)

    def action_for(self, message: Message) -> Action:
        """The action this route takes on the message in its current state."""
        for action in self.actions:
            if message.state in workflow.step(action).states:
                return action
        return self.actions[0]


def _decide_action(message: Message) -> Action:
    return (
        Action.DECIDE_REREVIEW
        if message.state == State.REREVIEW_REQUESTED
        else Action.DECIDE_REVIEW
    )


def _decide(message: Message, me, form: DeskForm, now: datetime) -> None:
    service = (
        decide_rereview if _decide_action(message) == Action.DECIDE_REREVIEW else decide_review
    )
    service(message, me, body=form.body.data, outcome=form.outcome.data or None, now=now)


def _decide_request(approve: bool):
    """Approve or decline the pending request the form names (`request`): one decided
    meanwhile, or none, answers 409 instead of deciding something the coordinator did not see."""

    def run(message: Message, me, form: RequestDecisionForm, now: datetime) -> None:
        pending = workflow.pending_request(message)
        if pending is None or form.request.data != pending.id:
            raise InvalidTransition(_("没有待审批的申请，或申请已经处理。"))
        decide = handling.approve_request if approve else handling.decline_request
        decide(pending, me, note=form.note.data or "", now=now)

    return run


def _request_done(message: Message) -> str:
    """What the coordinator is told after approving: a return goes back to their queue."""
    decided = message.handling_requests[-1] if message.handling_requests else None
    if decided is not None and decided.kind == models.RequestKind.RETURN:
        return _("已同意退回，请重新交办。")
    return _("已同意延期。")


def _step(
    name: str,
    actions: Action | tuple[Action, ...],
    form: Callable[..., DeskForm],
    run: Callable[[Message, models.User, DeskForm, datetime], object],
    done: Callable[[Message], str],
    *,
    path: str | None = None,
    form_name: str | None = None,
    to: str | None = None,
) -> DeskStep:
    """A step row named once: the endpoint `desk.<name>`, the path `<name>` with dashes and the
    form key `<name>` unless given."""
    return DeskStep(
        endpoint=name,
        path=path or name.replace("_", "-"),
        form_name=form_name or name,
        actions=actions if isinstance(actions, tuple) else (actions,),
        form=form,
        run=run,
        done=done,
        to=to,
    )


def _said(text) -> Callable[[Message], str]:
    return lambda message: str(text)


STEPS = (
    # The office: route, sign off, decide requests, transfer, urge, reopen, refuse repeats
    _step(
        "assign",
        Action.ASSIGN,
        AssignForm,
        lambda m, me, f, now: handling.assign_message(
            m, services.find_unit(f.unit.data), me, now=now
        ),
        lambda m: _("已交办给%(unit)s。", unit=m.unit.label),
        to="desk.coordinator",
    ),
    _step(
        "refuse_repeat",
        Action.REFUSE_REPEAT,
        RefuseRepeatForm,
        lambda m, me, f, now: refuse_repeat(m, me, earlier=f.earlier.data.strip().upper(), now=now),
        _said(_l("已决定不再受理。")),
    ),
    _step(
        "sign_off",
        Action.SIGN_OFF,
        SignOffForm,
        lambda m, me, f, now: handling.sign_off_reply(m, me, now=now),
        _said(_l("答复已签发并公开。")),
    ),
    _step(
        "decline_sign_off",
        Action.DECLINE_SIGN_OFF,
        partial(RequiredNoteForm, id_prefix="decline-sign-off"),
        lambda m, me, f, now: handling.decline_sign_off(m, me, note=f.note.data, now=now),
        _said(_l("答复已退回承办单位修改。")),
    ),
    _step(
        "approve_request",
        Action.APPROVE_REQUEST,
        partial(RequestDecisionForm, id_prefix="approve-request"),
        _decide_request(approve=True),
        _request_done,
    ),
    _step(
        "decline_request",
        Action.DECLINE_REQUEST,
        partial(DeclineRequestForm, id_prefix="decline-request"),
        _decide_request(approve=False),
        _said(_l("已不同意该申请。")),
    ),
    _step(
        "transfer",
        Action.TRANSFER,
        TransferForm,
        lambda m, me, f, now: handling.transfer_message(
            m, services.find_unit(f.unit.data), me, note=f.note.data or "", now=now
        ),
        _said(_l("已转办。")),
    ),
    _step(
        "urge",
        Action.URGE,
        partial(RequiredNoteForm, id_prefix="urge"),
        lambda m, me, f, now: handling.urge_message(m, me, note=f.note.data, now=now),
        _said(_l("已督办。")),
    ),
    _step(
        "reopen",
        Action.REOPEN,
        partial(RequiredNoteForm, id_prefix="reopen"),
        lambda m, me, f, now: handling.reopen_message(m, me, note=f.note.data, now=now),
        _said(_l("已交承办单位重新办理。")),
    ),
    # The review body
    _step(
        "decide",
        (Action.DECIDE_REVIEW, Action.DECIDE_REREVIEW),
        DecisionForm,
        _decide,
        lambda m: _("复核意见已发布。") if m.state == State.REREVIEWED else _("复查意见已发布。"),
    ),
    _step(
        "hearing",
        Action.HEARING,
        HearingForm,
        lambda m, me, f, now: hold_hearing(
            m, me, days=f.days.data, note=f.note.data or "", now=now
        ),
        _said(_l("已登记听证，复核期限相应延长。")),
    ),
    # The unit: accept, not accept, return, extend, interim reply, reply for sign-off
    _step(
        "accept",
        Action.ACCEPT,
        AcceptForm,
        lambda m, me, f, now: handling.accept_message(m, me, note=f.note.data or "", now=now),
        _said(_l("已受理，请在期限内答复。")),
    ),
    _step(
        "not_accept",
        Action.NOT_ACCEPT,
        NotAcceptForm,
        lambda m, me, f, now: handling.not_accept_message(
            m, me, reason=f.reason.data, note=f.note.data or "", now=now
        ),
        _said(_l("已决定不予受理。")),
    ),
    _step(
        "return_message",
        Action.RETURN,
        ReturnForm,
        lambda m, me, f, now: handling.request_return(
            m, me, reason=f.reason.data, note=f.note.data, now=now
        ),
        _said(_l("退回申请已提交，等待交办员审批。")),
        path="return",
        form_name="return_",
    ),
    _step(
        "extend",
        Action.EXTEND,
        ExtensionForm,
        lambda m, me, f, now: handling.request_extension(m, me, reason=f.reason.data, now=now),
        _said(_l("延期申请已提交，等待交办员审批。")),
    ),
    _step(
        "interim",
        Action.INTERIM,
        InterimForm,
        lambda m, me, f, now: handling.interim_reply(m, me, body=f.body.data, now=now),
        _said(_l("阶段性答复已发布。")),
    ),
    _step(
        "reply",
        Action.REPLY,
        ReplyForm,
        lambda m, me, f, now: handling.reply_message(
            m, me, body=f.body.data, outcome=f.outcome.data or None, now=now
        ),
        _said(_l("答复已送交办员签发。")),
    ),
)


# ---------------------------------------------------------------------------------------------
# The staff page of one message


def _reply_in(message: Message, state: str) -> Reply | None:
    """The message's latest reply in a state (a draft sent back, one awaiting sign-off)."""
    replies = [r for r in message.replies if r.state == state and not r.is_interim]
    return replies[-1] if replies else None


def _send_back_note(message: Message) -> str:
    """The coordinator's note on the last draft sent back for changes."""
    for event in reversed(message.events):
        if event.action == Action.DECLINE_SIGN_OFF:
            return event.note
    return ""


def _open_clock(clocks, policy: str):
    """The open clock of a policy, if one runs."""
    return next((c for c in clocks if c.policy == policy and c.state == ClockState.OPEN), None)


def _blank_form(step: DeskStep, message: Message) -> DeskForm:
    """The step's form as the page first shows it (a reply starts from the draft sent back)."""
    pending = workflow.pending_request(message)
    if step.form_name in ("approve_request", "decline_request"):
        return step.form(formdata=None, data={"request": pending.id})
    form = step.form(formdata=None)
    draft = _reply_in(message, ReplyState.DRAFT) if step.form_name == "reply" else None
    if draft is not None:
        form.body.data, form.outcome.data = draft.body, draft.outcome or ""
    return form


def _available_forms(message: Message, bound: dict[str, DeskForm], now: datetime) -> dict:
    """The forms of the steps the registry lets the viewer take now; `bound` ones carry input."""
    offered = workflow.available(_me(), message, now=now)
    forms: dict[str, DeskForm] = {}
    for step in STEPS:
        if offered.intersection(step.actions):
            forms[step.form_name] = bound.get(step.form_name) or _blank_form(step, message)
    for name, form in bound.items():  # a refused step still shows its input and error
        forms.setdefault(name, form)
    units = None
    for name in ("assign", "transfer"):
        if name in forms:
            units = units if units is not None else queries.units_for_board(message.board)
            choices = [u for u in units if u.id != message.unit_id] if name == "transfer" else units
            forms[name].offer(choices)
    if "not_accept" in forms:
        forms["not_accept"].offer(queries.reason_codes(ReasonUse.NOT_ACCEPT), _english())
    if "return_" in forms:
        forms["return_"].offer(queries.reason_codes(ReasonUse.RETURN), _english())
    return forms


def _render_message(message: Message, status: int = 200, **bound: DeskForm):
    """The staff page of one message with the forms the viewer may use in its state."""
    now = utcnow()
    clocks = services.message_clocks(message)
    return_clock = _open_clock(clocks, PolicyName.BOARD_RETURN)
    decision_title = _("复核意见") if message.state == State.REREVIEW_REQUESTED else _("复查意见")
    return (
        render_template(
            "desk/message.html",
            message=message,
            show_private=can_see_private_fields(current_user, message),
            forms=_available_forms(message, bound, now),
            clocks=clocks,
            clock_statuses=services.clock_statuses(clocks, now),
            pending_request=workflow.pending_request(message),
            awaiting_reply=_reply_in(message, ReplyState.AWAITING_SIGNOFF),
            draft_reply=_reply_in(message, ReplyState.DRAFT),
            send_back_note=_send_back_note(message),
            return_due=return_clock.due_on if return_clock else None,
            decision_title=decision_title,
            is_petition=message.track == Track.PETITION,
            staff_state_labels=STAFF_STATE_LABELS,
            action_labels=workflow.labels(desk=True),
            reason_label=services.reason_label,
        ),
        status,
    )


def _take_step(step: DeskStep, code: str):
    """Check the viewer may take the step, validate its form, run one service, flash and
    redirect; on error re-render the page with the input.

    Field errors answer 422 next to their fields; a step the message's state does not allow
    answers 409 with the reason at the top of the page; permissions propagate as 403.
    """
    message = _staff_message(code)
    workflow.require_actor(step.action_for(message), current_user, message)
    form = step.form()
    status = 422
    if form.validate():
        try:
            step.run(message, _me(), form, utcnow())
        except ValidationFailed as error:
            apply_service_errors(form, error)
        except InvalidTransition as error:
            flash(error.message, "error")  # shown at the top of the page rendered below
            status = 409
        else:
            flash(step.done(message), "success")
            return redirect(url_for(step.to) if step.to else url_for("desk.message", code=code))
    db.session.rollback()
    return _render_message(message, status=status, **{step.form_name: form})


def _route(step: DeskStep):
    """The view function of one step route."""

    def view(code: str):
        return _take_step(step, code)

    view.__name__ = step.endpoint
    view.__doc__ = f"POST a {step.endpoint} step: {workflow.step(step.actions[0]).summary}."
    return login_required(view)


for _step in STEPS:
    bp.add_url_rule(
        f"/m/<code>/{_step.path}",
        endpoint=_step.endpoint,
        view_func=_route(_step),
        methods=["POST"],
    )


@bp.get("/m/<code>")
@login_required
def message(code: str):
    """Staff view of one message: original text, clocks, timeline, replies and the next steps."""
    message = _staff_message(code)
    record_view(current_user, message)
    return _render_message(message)


# ---------------------------------------------------------------------------------------------
# The desks


@bp.get("/handler")
@login_required
def handler():
    """The handler's desk: the unit's open messages, nearest deadline first, with filters."""
    _require_role(Role.HANDLER)
    now = utcnow()
    unit_id = current_user.unit_id
    filters = QueueFilterForm(request.args).offer(services.unit_boards(unit_id))
    query = services.nearest_due_query(unit_id)
    if filters.validate():
        if filters.state.data:
            query = query.where(Message.state == filters.state.data)
        if filters.kind.data:
            query = query.where(Message.kind == filters.kind.data)
        if filters.board.data:
            query = query.where(Message.board.has(Board.code == filters.board.data))
        if filters.due.data:
            query = services.with_mark(query, filters.due.data, now)
    pagination = db.paginate(
        query, page=_page(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    nearest = services.nearest_duties(pagination.items)
    return render_template(
        "desk/handler.html",
        pagination=pagination,
        filters=filters,
        counts=services.handler_counts(unit_id, now),
        state_counts=services.unit_state_counts(unit_id),
        nearest=nearest,
        statuses=services.clock_statuses(nearest.values(), now),
        staff_state_labels=STAFF_STATE_LABELS,
    )


@bp.get("/coordinator")
@login_required
def coordinator():
    """The coordinator's desk: route, sign off, decide requests, watch deadlines and ratings."""
    _require_role(Role.COORDINATOR, Role.ADMIN)
    me = _me()
    now = utcnow()
    pagination = db.paginate(
        queries.coordinator_queue_query(me),
        page=_page(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    units_by_board: dict[int, list] = {}
    for item in pagination.items:
        if item.board_id not in units_by_board:
            units_by_board[item.board_id] = queries.units_for_board(item.board)
    awaiting = queries.awaiting_signoff_query(me)
    requests = queries.pending_requests_query(me)
    dissatisfied = queries.dissatisfied_query(me)
    reviews = queries.review_queue_query(me)
    overdue = services.office_overdue_query(me, now)
    overdue_clocks = db.session.scalars(overdue.limit(LIST_LIMIT)).all()
    with_units = services.with_units_query(me)
    with_units_items = db.session.scalars(with_units.limit(SUPERVISION_LIMIT)).all()
    nearest = services.nearest_duties(with_units_items)
    statuses = services.clock_statuses(list(overdue_clocks) + list(nearest.values()), now)
    awaiting_items = db.session.scalars(awaiting.limit(LIST_LIMIT)).all()
    return render_template(
        "desk/coordinator.html",
        pagination=pagination,
        units_by_board=units_by_board,
        awaiting=awaiting_items,
        awaiting_drafts={m.id: _reply_in(m, ReplyState.AWAITING_SIGNOFF) for m in awaiting_items},
        requests=db.session.scalars(requests.limit(LIST_LIMIT)).all(),
        dissatisfied=db.session.scalars(dissatisfied.limit(LIST_LIMIT)).all(),
        reviews=db.session.scalars(reviews.limit(LIST_LIMIT)).all(),
        overdue=overdue_clocks,
        counts={
            "received": pagination.total,
            "awaiting_signoff": services.count(awaiting),
            "requests": services.count(requests),
            "overdue": services.count(overdue),
            "seriously_overdue": services.count(
                overdue.where(calendar.seriously_overdue(now).whereclause)
            ),
            "dissatisfied": services.count(dissatisfied),
            "reviews": services.count(reviews),
        },
        with_units=with_units_items,
        with_units_total=services.count(with_units),
        nearest=nearest,
        statuses=statuses,
        answered=db.session.scalars(services.answered_query(me).limit(ANSWERED_LIMIT)).all(),
        staff_state_labels=STAFF_STATE_LABELS,
        reason_label=services.reason_label,
    )
