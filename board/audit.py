"""The access log: every time staff open a message the public cannot see, and the admin page."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from .clock import utcnow
from .errors import PermissionDenied
from .extensions import db
from .models import AccessLog, Message, Role, User
from .privacy import truncate_ip

bp = Blueprint("audit", __name__, url_prefix="/admin")


def log_private_view(viewer: User | None, message: Message, *, now: datetime | None = None) -> None:
    """Record that staff opened a non-public message; public ones and the author's own are not.

    Called by the staff pages and the API after they decided the viewer may see the message.
    """
    if viewer is None or not getattr(viewer, "is_authenticated", False) or not viewer.is_staff:
        return
    if message.is_public or message.author_id == viewer.id:
        return
    db.session.add(
        AccessLog(
            user_id=viewer.id,
            message_id=message.id,
            route=(request.endpoint or request.path)[:80],
            ip=truncate_ip(request.remote_addr),
            created_at=now or utcnow(),
        )
    )
    db.session.commit()


def access_log_query(*, message_code: str = "", email: str = "") -> Select:
    """Access-log rows, newest first, optionally for one message code or one user's e-mail."""
    query = (
        select(AccessLog)
        .options(selectinload(AccessLog.user), selectinload(AccessLog.message))
        .order_by(AccessLog.created_at.desc(), AccessLog.id.desc())
    )
    if message_code:
        query = query.join(Message, AccessLog.message_id == Message.id).where(
            Message.code == message_code.strip().upper()
        )
    if email:
        query = query.join(User, AccessLog.user_id == User.id).where(
            func.lower(User.email) == email.strip().lower()
        )
    return query


@bp.get("/access-log")
@login_required
def access_log() -> ResponseReturnValue:
    """Who opened which private message, when and from where (admins only)."""
    if current_user.role != Role.ADMIN:
        raise PermissionDenied()
    message_code = request.args.get("message", "").strip()[:40]
    email = request.args.get("user", "").strip()[:254]
    pagination = db.paginate(
        access_log_query(message_code=message_code, email=email),
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "admin/access_log.html", pagination=pagination, message_code=message_code, email=email
    )
