"""Views of the desk: coordinators route messages to units, handlers accept and answer them."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit
from ..auth.forms import apply_service_errors
from ..clock import utcnow
from ..errors import PermissionDenied, ValidationFailed
from ..extensions import db
from ..messages.services import (
    accept_message,
    assign_message,
    can_see_private_fields,
    coordinator_queue_query,
    get_message,
    is_unit_handler,
    reply_message,
    unit_queue_query,
    units_for_board,
)
from ..models import UNIT_QUEUE, Message, Role, State, Track
from . import services
from .forms import (
    STAFF_STATE_LABELS,
    AssignForm,
    QueueFilterForm,
    ReplyForm,
)

bp = Blueprint("desk", __name__, url_prefix="/desk")

SUPERVISION_LIMIT = 100
ANSWERED_LIMIT = 20


def _require_role(*roles: Role) -> None:
    """Refuse the page to anyone whose role is not listed."""
    if current_user.role not in roles:
        raise PermissionDenied()


def _staff_message(code: str) -> Message:
    """The message with this code, if the current user works on it (404 if none, else 403)."""
    message = get_message(code)
    if not services.can_work_on(current_user, message):
        raise PermissionDenied(_("这条留言不在您的办理范围内。"))
    return message


def _require_handler(message: Message) -> None:
    """Only handlers of the message's unit act on it."""
    if not is_unit_handler(current_user, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以办理。"))


def _page() -> int:
    """The requested page number (1 when missing or invalid)."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _render_message(
    message: Message,
    *,
    assign_form: AssignForm | None = None,
    reply_form: ReplyForm | None = None,
    status: int = 200,
):
    """The staff page of one message with the forms the viewer may use in its state."""
    may_assign = services.may_assign(current_user, message) and message.state == State.RECEIVED
    is_handler = is_unit_handler(current_user, message)
    if may_assign:
        assign_form = (assign_form or AssignForm(formdata=None)).offer(
            units_for_board(message.board)
        )
    may_reply = is_handler and message.state in UNIT_QUEUE
    return (
        render_template(
            "desk/message.html",
            message=message,
            show_private=can_see_private_fields(current_user, message),
            assign_form=assign_form if may_assign else None,
            may_accept=is_handler and message.state == State.ASSIGNED,
            reply_form=(reply_form or ReplyForm(formdata=None)) if may_reply else None,
            is_petition=message.track == Track.PETITION,
            staff_state_labels=STAFF_STATE_LABELS,
            reason_label=services.reason_label,
        ),
        status,
    )


@bp.get("/coordinator")
@login_required
def coordinator():
    """The coordinator's desk: received messages to route, and those with units to supervise."""
    _require_role(Role.COORDINATOR, Role.ADMIN)
    pagination = db.paginate(
        coordinator_queue_query(current_user),
        page=_page(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    units_by_board: dict[int, list] = {}
    for message in pagination.items:
        if message.board_id not in units_by_board:
            units_by_board[message.board_id] = units_for_board(message.board)
    with_units = services.with_units_query(current_user)
    return render_template(
        "desk/coordinator.html",
        pagination=pagination,
        units_by_board=units_by_board,
        with_units=db.session.scalars(with_units.limit(SUPERVISION_LIMIT)).all(),
        with_units_total=services.count(with_units),
        answered=db.session.scalars(
            services.answered_query(current_user).limit(ANSWERED_LIMIT)
        ).all(),
        staff_state_labels=STAFF_STATE_LABELS,
    )


@bp.get("/handler")
@login_required
def handler():
    """The handler's desk: the unit's open messages, oldest assignment first, with filters."""
    _require_role(Role.HANDLER)
    filters = QueueFilterForm(request.args)
    query = unit_queue_query(current_user.unit_id)
    if filters.validate():
        if filters.state.data:
            query = query.where(Message.state == filters.state.data)
        if filters.kind.data:
            query = query.where(Message.kind == filters.kind.data)
    pagination = db.paginate(
        query, page=_page(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    return render_template(
        "desk/handler.html",
        pagination=pagination,
        filters=filters,
        counts=services.unit_state_counts(current_user.unit_id),
        staff_state_labels=STAFF_STATE_LABELS,
    )


@bp.get("/m/<code>")
@login_required
def message(code: str):
    """Staff view of one message: original text, full timeline, replies and the next actions."""
    message = _staff_message(code)
    audit.log_private_view(current_user, message)
    return _render_message(message)


@bp.post("/m/<code>/assign")
@login_required
def assign(code: str):
    """交办: hand a received message to a unit in the board's region."""
    message = _staff_message(code)
    if not services.may_assign(current_user, message):
        raise PermissionDenied(_("只有该留言板的交办员可以交办。"))
    form = AssignForm()
    if form.validate():
        try:
            assign_message(message, services.find_unit(form.unit.data), current_user, now=utcnow())
        except ValidationFailed as error:
            apply_service_errors(form, error)
        else:
            flash(_("已交办给%(unit)s。", unit=message.unit.name), "success")
            return redirect(url_for("desk.coordinator"))
    return _render_message(message, assign_form=form, status=422)


@bp.post("/m/<code>/accept")
@login_required
def accept(code: str):
    """受理: the unit takes an assigned message on."""
    message = _staff_message(code)
    _require_handler(message)
    accept_message(message, current_user, now=utcnow())
    flash(_("已受理，请在期限内答复。"), "success")
    return redirect(url_for("desk.message", code=message.code))


@bp.post("/m/<code>/reply")
@login_required
def reply(code: str):
    """The unit's answer: published on the message at once; errors keep the typed text."""
    message = _staff_message(code)
    _require_handler(message)
    form = ReplyForm()
    if form.validate():
        try:
            reply_message(
                message,
                current_user,
                body=form.body.data,
                outcome=form.outcome.data or None,
                now=utcnow(),
            )
        except ValidationFailed as error:
            apply_service_errors(form, error)
        else:
            flash(_("答复已发布。"), "success")
            return redirect(url_for("desk.message", code=message.code))
    return _render_message(message, reply_form=form, status=422)
