"""Admin pages, one module per page; the blueprints and their template globals live here.

`admin` (under /admin): deadline policies, the holiday calendar, units, accounts and
invitations, boards, reason codes, regions and the mail outbox. `invite`: the invitee's page.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from ...clock import utcnow
from ...models import ROLE_LABELS
from ...privacy import mask_text
from .. import services

bp = Blueprint("admin", __name__, url_prefix="/admin")
invite_bp = Blueprint("invite", __name__)


@bp.app_template_global()
def missing_schedules() -> list[services.MissingYear]:
    """The admin pages' banner: official holiday schedules that are due and not imported."""
    return services.missing_years(current_user, now=utcnow())


@bp.app_template_global()
def role_label(role: str) -> str:
    """A role's label in the page's language."""
    return str(ROLE_LABELS.get(role, role))


@bp.app_template_global()
def masked_email(email: str) -> str:
    """A citizen's e-mail as admin lists show it (c***@example.org): enough to tell accounts
    apart, not to copy the address. Searching by the full address still finds it."""
    return mask_text(email)


# The pages register their routes on the blueprints above when imported.
from . import (  # noqa: E402
    boards,
    calendar,
    invitations,
    mail,
    policies,
    reasons,
    regions,
    units,
    users,
)

__all__ = [
    "bp",
    "invite_bp",
    "boards",
    "calendar",
    "invitations",
    "mail",
    "policies",
    "reasons",
    "regions",
    "units",
    "users",
]
