"""Serving attachments: only through this view, only to those who may see them."""

from __future__ import annotations

import io
from urllib.parse import quote

from flask import Blueprint, send_file
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..messages.viewing import record_view
from . import services
from .models import Attachment

bp = Blueprint("attachments", __name__)


def _viewer():
    """The signed-in user as a model instance, or None."""
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.app_template_global("visible_attachments")
def visible_attachments(message) -> list[Attachment]:
    """The message's attachments the current viewer may see (for messages/_attachments.html)."""
    return services.visible(_viewer(), message)


@bp.get("/m/<code>/files/<name>")
def download(code: str, name: str) -> ResponseReturnValue:
    """One attachment: 404 unless the viewer may see it (and the private ones are logged)."""
    attachment = services.find(code, name)
    viewer = _viewer()
    if not services.may_download(viewer, attachment):
        raise services.NotFound()
    data = services.read(attachment)
    if data is None:
        raise services.NotFound()
    if not attachment.is_public:
        record_view(viewer, attachment.message)
    # Conditional: ETag (the content's digest) answers If-None-Match with 304, and Range
    # requests get 206 with the asked part, the same on every node.
    response = send_file(
        io.BytesIO(data),
        mimetype=attachment.content_type,
        last_modified=attachment.created_at,
        etag=attachment.sha256,
        max_age=0,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even if a browser were talked into rendering the bytes as a document, nothing runs.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    # Never in a shared cache: the message may be hidden or made private later.
    response.headers["Cache-Control"] = "private, no-store"
    disposition = "inline" if attachment.is_image else "attachment"
    response.headers["Content-Disposition"] = _disposition(disposition, attachment.original_name)
    return response


def _disposition(kind: str, name: str) -> str:
    """A Content-Disposition with an ASCII fallback and an RFC 5987 UTF-8 file name."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
