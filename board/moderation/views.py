"""Views of moderation: the queue of new messages and the review page with its decisions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import workflow
from ..auth.forms import apply_service_errors
from ..clock import utcnow
from ..desk.forms import STAFF_STATE_LABELS
from ..desk.services import reason_label
from ..errors import InvalidTransition, PermissionDenied, ValidationFailed
from ..extensions import db
from ..messages.events import get_message
from ..messages.queries import moderation_queue_query
from ..messages.viewing import record_view
from ..models import Message, Role
from ..paging import paginate
from ..privacy import public_text
from ..workflow import Action
from . import locks, words
from .forms import ApproveForm, HideForm, RejectForm, SensitiveWordsForm
from .models import ModerationLock
from .services import approve_message, hide_message, reject_message

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

TARGET_HOURS = 24  # DESIGN §1: new messages are reviewed within 24 hours
ACTIONS = ("approve", "reject", "hide")


def _require_moderator() -> None:
    """Moderation is for moderators and admins."""
    if current_user.role not in (Role.MODERATOR, Role.ADMIN):
        raise PermissionDenied()


def _render_review(message: Message, forms: dict, *, status: int = 200):
    """The review page with the decisions the message's state allows."""
    now = utcnow()
    lock = locks.current_lock(message, now=now)
    offered = workflow.available(
        current_user, message, now=now, among=(Action.APPROVE, Action.REJECT, Action.HIDE)
    )
    return (
        render_template(
            "moderation/review.html",
            message=message,
            lock=lock,
            locked_by_other=lock is not None and lock.moderator_id != current_user.id,
            lock_notice=locks.lock_message(lock) if lock is not None else "",
            sensitive=words.find(message.title, message.body),
            highlighted_title=words.highlight(message.title),
            highlighted_body=words.highlight(message.body),
            public_title=public_text(message, message.title),
            public_body=public_text(message, message.body),
            approve_form=forms["approve"] if Action.APPROVE in offered else None,
            reject_form=forms["reject"] if Action.REJECT in offered else None,
            hide_form=forms["hide"] if message.is_public and Action.HIDE in offered else None,
            show_private=True,
            show_email=True,
            reason_label=reason_label,
            staff_state_labels=STAFF_STATE_LABELS,
            action_labels=workflow.labels(desk=True),
        ),
        status,
    )


def _blank_forms() -> dict:
    """Unbound decision forms (a re-rendered page must not copy one form's input into another)."""
    return {
        "approve": ApproveForm(formdata=None),
        "reject": RejectForm(formdata=None).offer(),
        "hide": HideForm(formdata=None).offer(),
    }


@bp.get("/")
@login_required
def queue():
    """Messages awaiting moderation, oldest first, with their age against the 24-hour target."""
    _require_moderator()
    pagination = paginate(moderation_queue_query())
    now = utcnow()
    rows = [
        (m, max(int((now - m.created_at).total_seconds() // 3600), 0)) for m in pagination.items
    ]
    held = {
        lock.message_id: lock
        for lock in db.session.scalars(
            select(ModerationLock).where(
                ModerationLock.message_id.in_([m.id for m in pagination.items]),
                ModerationLock.expires_at > now,
            )
        )
    }
    return render_template(
        "moderation/queue.html",
        pagination=pagination,
        rows=rows,
        target_hours=TARGET_HOURS,
        flags={m.id: words.find(m.title, m.body) for m in pagination.items},
        held=held,
    )


@bp.route("/<code>", methods=["GET", "POST"])
@login_required
def review(code: str):
    """Read the full original message and approve, reject or hide it."""
    _require_moderator()
    message = get_message(code)
    record_view(current_user, message)
    forms = _blank_forms()
    if request.method == "GET":
        # The one write in a GET, on purpose: opening a message to read it is how a moderator
        # claims it, so two moderators never screen the same message at once without knowing.
        # The lock row is its own short transaction, committed before the page is rendered.
        locks.take_lock(message, current_user._get_current_object(), now=utcnow())
        return _render_review(message, forms)

    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400)
    form = {"approve": ApproveForm, "reject": RejectForm, "hide": HideForm}[action]()
    if action != "approve":
        form.offer()
    forms[action] = form
    if form.validate():
        try:
            done = _decide(action, message, form)
        except ValidationFailed as error:
            apply_service_errors(form, error)
        except InvalidTransition as error:  # locked by another moderator, or already decided
            db.session.rollback()
            flash(error.message, "error")
            return _render_review(message, forms, status=409)
        else:
            flash(done, "success")
            if action == "hide":
                return redirect(url_for("moderation.review", code=message.code))
            return redirect(url_for("moderation.queue"))
    return _render_review(message, forms, status=422)


def _decide(action: str, message: Message, form) -> str:
    """Call the one service the action names; returns the confirmation to flash."""
    now, note = utcnow(), (form.note.data or "").strip()
    if action == "approve":
        approve_message(message, current_user, note=note, now=now)
        return _("已通过审核：%(code)s。", code=message.code)
    if action == "reject":
        reject_message(message, current_user, reason=form.reason.data, note=note, now=now)
        return _("已不予通过：%(code)s，留言人会看到理由。", code=message.code)
    hide_message(message, current_user, reason=form.reason.data, note=note, now=now)
    return _("已隐藏：%(code)s，公开页面将显示已被删除。", code=message.code)


@bp.route("/words", methods=["GET", "POST"])
@login_required
def sensitive_words():
    """The admin's sensitive-word list: words here flag messages for review, never block them."""
    if current_user.role != Role.ADMIN:
        raise PermissionDenied(_("只有管理员可以编辑敏感词表。"))
    form = SensitiveWordsForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                added = words.add_words(
                    form.words.data, current_user._get_current_object(), now=utcnow()
                )
            except ValidationFailed as error:
                apply_service_errors(form, error)
            else:
                flash(_("已添加 %(n)d 个词。", n=len(added)), "success")
                return redirect(url_for("moderation.sensitive_words"))
        status = 422
    rows = db.session.scalars(words.words_query()).all()
    return render_template("moderation/words.html", form=form, rows=rows), status


@bp.post("/words/<id:word_id>/delete")
@login_required
def delete_sensitive_word(word_id: int):
    """Take one word off the list."""
    if current_user.role != Role.ADMIN:
        raise PermissionDenied(_("只有管理员可以编辑敏感词表。"))
    word = words.delete_word(word_id, current_user._get_current_object(), now=utcnow())
    flash(_("已删除“%(word)s”。", word=word), "success")
    return redirect(url_for("moderation.sensitive_words"))
