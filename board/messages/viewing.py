"""The access log as the pages see it: a private view is logged with the request that showed it."""

from __future__ import annotations

from flask import request

from .. import audit
from ..clock import utcnow
from ..models import Message, User


def record_view(viewer: User | None, message: Message) -> None:
    """Log `viewer` reading `message` in full, with this request's route and address."""
    audit.record_private_view(
        viewer,
        message,
        route=request.endpoint or request.path,
        ip=request.remote_addr,
        now=utcnow(),
    )
