"""Admin pages, one module per page; the blueprints and their template globals live here.

`admin` (under /admin, admins only: `admins_only` runs before every page): deadline policies,
the holiday calendar, units, accounts and invitations, boards, reason codes, regions and the
mail outbox. `invite`: the invitee's page (no account yet: the link's token is the credential).
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_login.config import EXEMPT_METHODS

from ...clock import utcnow
from ...models import ROLE_LABELS
from ...privacy import mask_text
from .. import services

bp = Blueprint("admin", __name__, url_prefix="/admin")
invite_bp = Blueprint("invite", __name__)


@bp.before_request
def admins_only() -> ResponseReturnValue | None:
    """Every /admin page is for admins: the anonymous are sent to sign in, anyone else gets 403.

    The services check again; this keeps a page that forgets to ask from being reachable.
    """
    if request.method in EXEMPT_METHODS:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    services.require_admin(current_user)
    return None


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
