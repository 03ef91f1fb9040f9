"""Views of the desk: coordinators route, sign off and supervise; handlers accept and answer;
review bodies decide reviews. Every step is one service call; errors keep what was typed."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import audit, models
from ..auth.forms import apply_service_errors
from ..calendar import services as calendar
from ..clock import local_date, utcnow
from ..errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..messages import services as msg
from ..models import (
    UNIT_QUEUE,
    Board,
    ClockState,
    Message,
    ReasonUse,
    Reply,
    ReplyState,
    Role,
    State,
    Track,
)
from . import services
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
    message = msg.get_message(code)
    if not services.can_work_on(current_user, message):
        if not msg.can_view(current_user, message):
            raise NotFound(_("没有编号为 %(code)s 的留言。", code=code))
        raise PermissionDenied(_("这条留言不在您的办理范围内。"))
    return message


def _require_handler(message: Message) -> None:
    """Only handlers of the message's unit act on it."""
    if not msg.is_unit_handler(current_user, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以办理。"))


def _require_coordinator(message: Message) -> None:
    """Only the coordinators of the message's board (and admins) act for the office."""
    if not services.may_assign(current_user, message):
        raise PermissionDenied(_("只有该留言板的交办员可以执行此操作。"))


def _require_review_body(message: Message) -> None:
    """Only the coordinators of the review unit (and admins) decide a review."""
    if not services.is_review_body(current_user, message):
        raise PermissionDenied(_("只有复查（复核）机关可以执行此操作。"))


def _page() -> int:
    """The requested page number (1 when missing or invalid)."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _english() -> bool:
    """True when the page is shown in English."""
    return str(get_locale() or "").startswith("en")


# ---------------------------------------------------------------------------------------------
# The staff page of one message


def _pending_request(message: Message) -> models.HandlingRequest | None:
    """The message's pending return or extension request, if any."""
    return msg.pending_request(message)


def _extension_used(message: Message) -> bool:
    """True if an extension was already approved in the current handling round."""
    return (
        db.session.scalar(
            select(models.HandlingRequest.id).where(
                models.HandlingRequest.message_id == message.id,
                models.HandlingRequest.kind == "extension",
                models.HandlingRequest.round == message.handling_round,
                models.HandlingRequest.state == "approved",
            )
        )
        is not None
    )


def _reply_in(message: Message, state: str) -> Reply | None:
    """The message's latest reply in a state (a draft sent back, one awaiting sign-off)."""
    replies = [r for r in message.replies if r.state == state and not r.is_interim]
    return replies[-1] if replies else None


def _send_back_note(message: Message) -> str:
    """The coordinator's note on the last draft sent back for changes."""
    for event in reversed(message.events):
        if event.action == "decline_sign_off":
            return event.note
    return ""


def _open_clock(clocks, policy: str):
    """The open clock of a policy, if one runs."""
    return next((c for c in clocks if c.policy == policy and c.state == ClockState.OPEN), None)


def _may_reopen(message: Message) -> bool:
    """Board messages closed after a dissatisfied rating, never reopened before."""
    rating = message.rating
    return (
        message.track == Track.BOARD
        and message.state == State.CLOSED
        and rating is not None
        and rating.is_dissatisfied
        and not any(e.action == "reopen" for e in message.events)
    )


def _available_forms(message: Message, clocks, bound: dict[str, DeskForm], now) -> dict:
    """The forms of the steps the viewer may take now; `bound` ones carry submitted input."""
    me = _me()
    state = message.state
    is_petition = message.track == Track.PETITION
    is_handler = msg.is_unit_handler(me, message)
    is_office = services.may_assign(me, message)
    is_reviewer = services.is_review_body(me, message)
    pending = _pending_request(message)
    awaiting = _reply_in(message, ReplyState.AWAITING_SIGNOFF)
    wanted: dict[str, Callable[[], DeskForm]] = {}
    english = _english()

    if is_office and state == State.RECEIVED:
        wanted["assign"] = lambda: AssignForm(formdata=None)
        if is_petition:
            wanted["refuse_repeat"] = lambda: RefuseRepeatForm(formdata=None)
    if is_handler and state == State.ASSIGNED:
        wanted["accept"] = lambda: AcceptForm(formdata=None)
        if is_petition:
            wanted["not_accept"] = lambda: NotAcceptForm(formdata=None)
        return_clock = _open_clock(clocks, "board_return")
        if pending is None and return_clock and local_date(now) <= return_clock.due_on:
            wanted["return_"] = lambda: ReturnForm(formdata=None)
    if is_handler and state in (State.IN_PROGRESS, State.REOPENED):
        if pending is None and not _extension_used(message):
            wanted["extend"] = lambda: ExtensionForm(formdata=None)
        wanted["interim"] = lambda: InterimForm(formdata=None)
    if is_handler and state in UNIT_QUEUE and awaiting is None:
        draft = _reply_in(message, ReplyState.DRAFT)

        def reply_form() -> ReplyForm:
            form = ReplyForm(formdata=None)
            if draft is not None:
                form.body.data, form.outcome.data = draft.body, draft.outcome or ""
            return form

        wanted["reply"] = reply_form
    if is_office and awaiting is not None and state in UNIT_QUEUE:
        wanted["sign_off"] = lambda: SignOffForm(formdata=None)
        wanted["decline_sign_off"] = lambda: RequiredNoteForm(
            formdata=None, id_prefix="decline-sign-off"
        )
    if is_office and pending is not None:
        wanted["approve_request"] = lambda: RequestDecisionForm(
            formdata=None, id_prefix="approve-request", data={"request": pending.id}
        )
        wanted["decline_request"] = lambda: DeclineRequestForm(
            formdata=None, id_prefix="decline-request", data={"request": pending.id}
        )
    if is_office and state in UNIT_QUEUE:
        wanted["transfer"] = lambda: TransferForm(formdata=None)
        wanted["urge"] = lambda: RequiredNoteForm(formdata=None, id_prefix="urge")
    if is_office and _may_reopen(message):
        wanted["reopen"] = lambda: RequiredNoteForm(formdata=None, id_prefix="reopen")
    if is_reviewer and state in (State.REVIEW_REQUESTED, State.REREVIEW_REQUESTED):
        wanted["decide"] = lambda: DecisionForm(formdata=None)
        if state == State.REREVIEW_REQUESTED:
            wanted["hearing"] = lambda: HearingForm(formdata=None)

    forms = {}
    for name, make in wanted.items():
        forms[name] = bound.get(name) or make()
    for name, form in bound.items():  # a refused step still shows its input and error
        forms.setdefault(name, form)
    units = None
    for name in ("assign", "transfer"):
        if name in forms:
            units = units if units is not None else msg.units_for_board(message.board)
            choices = [u for u in units if u.id != message.unit_id] if name == "transfer" else units
            forms[name].offer(choices)
    if "not_accept" in forms:
        forms["not_accept"].offer(msg.reason_codes(ReasonUse.NOT_ACCEPT), english)
    if "return_" in forms:
        forms["return_"].offer(msg.reason_codes(ReasonUse.RETURN), english)
    return forms


def _render_message(message: Message, status: int = 200, **bound: DeskForm):
    """The staff page of one message with the forms the viewer may use in its state."""
    now = utcnow()
    clocks = services.message_clocks(message)
    return_clock = _open_clock(clocks, "board_return")
    decision_title = _("复核意见") if message.state == State.REREVIEW_REQUESTED else _("复查意见")
    return (
        render_template(
            "desk/message.html",
            message=message,
            show_private=msg.can_see_private_fields(current_user, message),
            forms=_available_forms(message, clocks, bound, now),
            clocks=clocks,
            clock_statuses=services.clock_statuses(clocks, now),
            pending_request=_pending_request(message),
            awaiting_reply=_reply_in(message, ReplyState.AWAITING_SIGNOFF),
            draft_reply=_reply_in(message, ReplyState.DRAFT),
            send_back_note=_send_back_note(message),
            return_due=return_clock.due_on if return_clock else None,
            decision_title=decision_title,
            is_petition=message.track == Track.PETITION,
            staff_state_labels=STAFF_STATE_LABELS,
            reason_label=services.reason_label,
        ),
        status,
    )


def _step(
    message: Message,
    name: str,
    form: DeskForm,
    run: Callable[[DeskForm], object],
    done: str | Callable[[], str],
    *,
    to: str | None = None,
):
    """Validate the form, run one service, flash and redirect; on error re-render with input.

    Field errors answer 422 next to their fields; a step the message's state does not allow
    answers 409 with the reason at the top of the page; permissions propagate as 403.
    """
    status = 422
    if form.validate():
        try:
            run(form)
        except ValidationFailed as error:
            apply_service_errors(form, error)
        except InvalidTransition as error:
            flash(error.message, "error")  # shown at the top of the page rendered below
            status = 409
        else:
            flash(done() if callable(done) else done, "success")
            return redirect(to or url_for("desk.message", code=message.code))
    db.session.rollback()
    return _render_message(message, status=status, **{name: form})


@bp.get("/m/<code>")
@login_required
def message(code: str):
    """Staff view of one message: original text, clocks, timeline, replies and the next steps."""
    message = _staff_message(code)
    audit.record_private_view(
        current_user,
        message,
        route=request.endpoint or request.path,
        ip=request.remote_addr,
        now=utcnow(),
    )
    return _render_message(message)


# ---------------------------------------------------------------------------------------------
# The office: route, sign off, decide requests, transfer, urge, reopen, refuse repeats


@bp.post("/m/<code>/assign")
@login_required
def assign(code: str):
    """交办: hand a received message to a unit in the board's region."""
    message = _staff_message(code)
    _require_coordinator(message)

    def run(form):
        msg.assign_message(message, services.find_unit(form.unit.data), _me(), now=utcnow())

    return _step(
        message,
        "assign",
        AssignForm(),
        run,
        lambda: _("已交办给%(unit)s。", unit=message.unit.label),
        to=url_for("desk.coordinator"),
    )


@bp.post("/m/<code>/refuse-repeat")
@login_required
def refuse_repeat(code: str):
    """不再受理: a repeat petition on facts already re-reviewed to the end."""
    message = _staff_message(code)
    _require_coordinator(message)
    return _step(
        message,
        "refuse_repeat",
        RefuseRepeatForm(),
        lambda form: msg.refuse_repeat(
            message, _me(), earlier=form.earlier.data.strip().upper(), now=utcnow()
        ),
        _("已决定不再受理。"),
    )


@bp.post("/m/<code>/sign-off")
@login_required
def sign_off(code: str):
    """签发: publish the reply awaiting sign-off."""
    message = _staff_message(code)
    _require_coordinator(message)
    return _step(
        message,
        "sign_off",
        SignOffForm(),
        lambda form: msg.sign_off_reply(message, _me(), now=utcnow()),
        _("答复已签发并公开。"),
    )


@bp.post("/m/<code>/decline-sign-off")
@login_required
def decline_sign_off(code: str):
    """退回修改: the draft goes back to the unit with the coordinator's note."""
    message = _staff_message(code)
    _require_coordinator(message)
    return _step(
        message,
        "decline_sign_off",
        RequiredNoteForm(id_prefix="decline-sign-off"),
        lambda form: msg.decline_sign_off(message, _me(), note=form.note.data, now=utcnow()),
        _("答复已退回承办单位修改。"),
    )


def _decide_request(code: str, name: str, approve: bool):
    """Approve or decline the message's pending return or extension request.

    The form names the request it was shown (`request`): a request decided meanwhile, or none,
    answers 409 instead of deciding something the coordinator did not see.
    """
    message = _staff_message(code)
    _require_coordinator(message)
    form_class = RequestDecisionForm if approve else DeclineRequestForm
    form = form_class(id_prefix=name.replace("_", "-"))
    pending = _pending_request(message)
    kind = pending.kind if pending is not None else None
    if approve:
        done = _("已同意退回，请重新交办。") if kind == "return" else _("已同意延期。")
    else:
        done = _("已不同意该申请。")

    def run(form: RequestDecisionForm) -> None:
        if pending is None or form.request.data != pending.id:
            raise InvalidTransition(_("没有待审批的申请，或申请已经处理。"))
        decide = msg.approve_request if approve else msg.decline_request
        decide(pending, _me(), note=form.note.data or "", now=utcnow())

    return _step(message, name, form, run, done)


@bp.post("/m/<code>/approve-request")
@login_required
def approve_request(code: str):
    """Approve a unit's return or extension request."""
    return _decide_request(code, "approve_request", approve=True)


@bp.post("/m/<code>/decline-request")
@login_required
def decline_request(code: str):
    """Decline a unit's return or extension request; the message stays where it is."""
    return _decide_request(code, "decline_request", approve=False)


@bp.post("/m/<code>/transfer")
@login_required
def transfer(code: str):
    """转办: another unit takes the message over; the history stays."""
    message = _staff_message(code)
    _require_coordinator(message)
    return _step(
        message,
        "transfer",
        TransferForm(),
        lambda form: msg.transfer_message(
            message,
            services.find_unit(form.unit.data),
            _me(),
            note=form.note.data or "",
            now=utcnow(),
        ),
        _("已转办。"),
    )


@bp.post("/m/<code>/urge")
@login_required
def urge(code: str):
    """督办: a private reminder to the unit."""
    message = _staff_message(code)
    _require_coordinator(message)
    return _step(
        message,
        "urge",
        RequiredNoteForm(id_prefix="urge"),
        lambda form: msg.urge_message(message, _me(), note=form.note.data, now=utcnow()),
        _("已督办。"),
    )


@bp.post("/m/<code>/reopen")
@login_required
def reopen(code: str):
    """重办: the author was dissatisfied; the unit handles the message again (once)."""
    message = _staff_message(code)
    _require_coordinator(message)
    return _step(
        message,
        "reopen",
        RequiredNoteForm(id_prefix="reopen"),
        lambda form: msg.reopen_message(message, _me(), note=form.note.data, now=utcnow()),
        _("已交承办单位重新办理。"),
    )


# ---------------------------------------------------------------------------------------------
# The review body


@bp.post("/m/<code>/decide")
@login_required
def decide(code: str):
    """复查 / 复核意见: the review body's decision, published with its outcome."""
    message = _staff_message(code)
    _require_review_body(message)
    rereview = message.state == State.REREVIEW_REQUESTED
    decide_service = msg.decide_rereview if rereview else msg.decide_review
    return _step(
        message,
        "decide",
        DecisionForm(),
        lambda form: decide_service(
            message, _me(), body=form.body.data, outcome=form.outcome.data or None, now=utcnow()
        ),
        _("复核意见已发布。") if rereview else _("复查意见已发布。"),
    )


@bp.post("/m/<code>/hearing")
@login_required
def hearing(code: str):
    """听证: the re-review clock is lengthened by the hearing days."""
    message = _staff_message(code)
    _require_review_body(message)
    return _step(
        message,
        "hearing",
        HearingForm(),
        lambda form: msg.hold_hearing(
            message, _me(), days=form.days.data, note=form.note.data or "", now=utcnow()
        ),
        _("已登记听证，复核期限相应延长。"),
    )


# ---------------------------------------------------------------------------------------------
# The unit: accept, not accept, return, extend, interim reply, reply for sign-off


@bp.post("/m/<code>/accept")
@login_required
def accept(code: str):
    """受理: the unit takes an assigned message on (petitions: with the acceptance notice)."""
    message = _staff_message(code)
    _require_handler(message)
    return _step(
        message,
        "accept",
        AcceptForm(),
        lambda form: msg.accept_message(message, _me(), note=form.note.data or "", now=utcnow()),
        _("已受理，请在期限内答复。"),
    )


@bp.post("/m/<code>/not-accept")
@login_required
def not_accept(code: str):
    """不予受理 (petitions): a legal reason; the author may ask for review."""
    message = _staff_message(code)
    _require_handler(message)
    return _step(
        message,
        "not_accept",
        NotAcceptForm(),
        lambda form: msg.not_accept_message(
            message, _me(), reason=form.reason.data, note=form.note.data or "", now=utcnow()
        ),
        _("已决定不予受理。"),
    )


@bp.post("/m/<code>/return")
@login_required
def return_message(code: str):
    """退回申请: ask the office to take the message back and route it elsewhere."""
    message = _staff_message(code)
    _require_handler(message)
    return _step(
        message,
        "return_",
        ReturnForm(),
        lambda form: msg.request_return(
            message, _me(), reason=form.reason.data, note=form.note.data, now=utcnow()
        ),
        _("退回申请已提交，等待交办员审批。"),
    )


@bp.post("/m/<code>/extend")
@login_required
def extend(code: str):
    """延期申请: once per handling round, approved by the office."""
    message = _staff_message(code)
    _require_handler(message)
    return _step(
        message,
        "extend",
        ExtensionForm(),
        lambda form: msg.request_extension(message, _me(), reason=form.reason.data, now=utcnow()),
        _("延期申请已提交，等待交办员审批。"),
    )


@bp.post("/m/<code>/interim")
@login_required
def interim(code: str):
    """阶段性答复: published at once; the message stays open."""
    message = _staff_message(code)
    _require_handler(message)
    return _step(
        message,
        "interim",
        InterimForm(),
        lambda form: msg.interim_reply(message, _me(), body=form.body.data, now=utcnow()),
        _("阶段性答复已发布。"),
    )


@bp.post("/m/<code>/reply")
@login_required
def reply(code: str):
    """The unit's answer goes to the office for sign-off; errors keep the typed text."""
    message = _staff_message(code)
    _require_handler(message)
    return _step(
        message,
        "reply",
        ReplyForm(),
        lambda form: msg.reply_message(
            message, _me(), body=form.body.data, outcome=form.outcome.data or None, now=utcnow()
        ),
        _("答复已送交办员签发。"),
    )


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
        msg.coordinator_queue_query(me),
        page=_page(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    units_by_board: dict[int, list] = {}
    for item in pagination.items:
        if item.board_id not in units_by_board:
            units_by_board[item.board_id] = msg.units_for_board(item.board)
    awaiting = msg.awaiting_signoff_query(me)
    requests = msg.pending_requests_query(me)
    dissatisfied = msg.dissatisfied_query(me)
    reviews = msg.review_queue_query(me)
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
