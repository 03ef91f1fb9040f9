"""The mail outbox: mails not yet delivered, one queued again."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ...notify import services as notify
from ...notify.models import MailState
from ...paging import paginate
from .. import services
from ..forms import ActionForm
from . import bp
from .common import button


@bp.get("/mail")
def outbox() -> ResponseReturnValue:
    """Mails not yet delivered (or a chosen state), with a retry button for each."""
    state = request.args.get("state", "")
    state = state if state in {s.value for s in MailState} else ""
    pagination = paginate(notify.outbox_query(current_user, state=state))
    return render_template(
        "admin/outbox.html",
        pagination=pagination,
        counts=notify.outbox_counts(current_user),
        state=state,
        states=[s.value for s in MailState],
        form=ActionForm(),
        mail_to_files=not current_app.config.get("MAIL_URL"),
    )


@bp.post("/mail/<id:mail_id>/retry")
def retry(mail_id: int) -> ResponseReturnValue:
    """Queue a mail again for the next `flask deadlines tick`."""
    message = _("邮件已重新排队，将在下次发送时投递。")
    return button(services.retry_mail, mail_id, success=message, back_to=url_for("admin.outbox"))
