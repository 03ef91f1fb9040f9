"""Audit trails: the access log (staff opening what the public cannot see) and the admin change log.

The helpers here add rows to the caller's transaction and never commit: the service that makes
the change owns the transaction, so a change and its audit row are stored together or not at all.
They take what they record as parameters; nothing here reads the request.
"""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from .admin.models import AdminChange
from .clock import utcnow
from .errors import PermissionDenied
from .extensions import db
from .models import AccessLog, Message, Role, User
from .paging import paginate
from .privacy import truncate_ip

bp = Blueprint("audit", __name__, url_prefix="/admin")

# The kinds of admin change, as the audit page filters them.
CHANGE_KINDS = (
    "policy",
    "calendar",
    "sensitive_word",
    "mail",
    "user",
    "invitation",
    "unit",
    "board",
    "reason_code",
    "region",
)


# ---------------------------------------------------------------------------------------------
# The access log


def log_private_view(
    viewer: User | None, message: Message, *, route: str, ip: str | None, now: datetime
) -> AccessLog | None:
    """Add a row saying staff opened a non-public message; public ones and the author's own are
    not logged. Called after the caller decided the viewer may see the message; no commit."""
    if viewer is None or not getattr(viewer, "is_authenticated", False) or not viewer.is_staff:
        return None
    if message.is_public or message.author_id == viewer.id:
        return None
    row = AccessLog(
        user_id=viewer.id,
        message_id=message.id,
        route=(route or "")[:80],
        ip=truncate_ip(ip),
        created_at=now,
    )
    db.session.add(row)
    return row


def record_private_view(
    viewer: User | None, message: Message, *, route: str, ip: str | None, now: datetime
) -> None:
    """The pages' and the API's use case: log a private view and store it at once."""
    if log_private_view(viewer, message, route=route, ip=ip, now=now) is not None:
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


# ---------------------------------------------------------------------------------------------
# The admin change log


def cli_actor() -> str:
    """Who ran a command-line change: `cli:` and the OS user (or just `cli`)."""
    try:
        return f"cli:{getpass.getuser()}"[:254]
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli"


def _plain(value: Any) -> Any:
    """A JSON-storable form of a value recorded before or after a change."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def record_change(
    actor: User | str | None,
    kind: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    now: datetime,
) -> AdminChange | None:
    """Add an admin change to the caller's transaction: who (an admin, or `cli_actor()` for the
    command line), what (`kind`, e.g. `user.role`, and its target), the values before and after.

    Nothing is recorded when nothing changed. No commit: the calling service owns it.
    """
    before, after = _plain(before), _plain(after)
    if before is not None and before == after:
        return None
    if isinstance(actor, User):
        actor_id, label = actor.id, actor.email
    else:
        actor_id, label = None, actor or cli_actor()
    row = AdminChange(
        actor_id=actor_id,
        actor_label=label[:254],
        kind=kind[:40],
        target=str(target)[:200],
        before=before,
        after=after,
        created_at=now,
    )
    db.session.add(row)
    return row


def change_diff(change: AdminChange) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each field that differs, in a stable order."""
    before, after = change.before or {}, change.after or {}
    keys = list(before) + [k for k in after if k not in before]
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def value_text(value: Any) -> str:
    """A recorded value as the change log shows it: JSON, with Chinese (and any other text) as
    written rather than \\u escapes; the template escapes it for HTML."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def changes_query(*, kind: str = "", actor: str = "", target: str = "") -> Select:
    """Admin changes, newest first; `kind` matches the family (`user` → `user.role`…)."""
    query = select(AdminChange).order_by(AdminChange.created_at.desc(), AdminChange.id.desc())
    if kind:
        query = query.where(
            (AdminChange.kind == kind) | AdminChange.kind.startswith(kind + ".", autoescape=True)
        )
    if actor:
        query = query.where(func.lower(AdminChange.actor_label) == actor.strip().lower())
    if target:
        query = query.where(AdminChange.target == target.strip())
    return query


def _require_admin() -> None:
    if current_user.role != Role.ADMIN:
        raise PermissionDenied()


@bp.get("/access-log")
@login_required
def access_log() -> ResponseReturnValue:
    """Who opened which private message, when and from where (admins only)."""
    _require_admin()
    message_code = request.args.get("message", "").strip()[:40]
    email = request.args.get("user", "").strip()[:254]
    pagination = paginate(access_log_query(message_code=message_code, email=email))
    return render_template(
        "admin/access_log.html", pagination=pagination, message_code=message_code, email=email
    )


@bp.get("/audit")
@login_required
def changes() -> ResponseReturnValue:
    """Every admin change, web or command line: who, when, what, before and after (admins only)."""
    _require_admin()
    kind = request.args.get("kind", "")
    filters = {
        "kind": kind if kind in CHANGE_KINDS else "",
        "actor": request.args.get("actor", "").strip()[:254],
        "target": request.args.get("target", "").strip()[:200],
    }
    pagination = paginate(changes_query(**filters).options(selectinload(AdminChange.actor)))
    return render_template(
        "admin/audit.html",
        pagination=pagination,
        kinds=CHANGE_KINDS,
        diff=change_diff,
        value_text=value_text,
        now=utcnow(),
        **filters,
    )
