"""The admin's use cases, one module per page; every name is re-exported here.

`common` holds what the pages share (the admin check, text cleaning, the change log);
`policies`, `calendar` and `mail` the deadline settings and the outbox; `users` and
`invitations` the staff accounts; `units`, `boards`, `reasons` and `regions` the directory.
"""

from .boards import BOARD_CODE, HOLDER_MAX, boards_query, change_holder, create_board, get_board
from .calendar import (
    NOTE_MAX,
    MissingYear,
    MonthDay,
    YearRow,
    calendar_years,
    exceptional_day_count,
    import_year,
    missing_years,
    month_view,
    package_years_available,
    record_calendar_import,
    set_day,
)
from .common import SEARCH_MAX, changes_about, require_admin
from .invitations import (
    INVITATION_LIFETIME,
    InvitationInvalid,
    accept_invitation,
    invitations,
    invite_staff,
    open_invitation,
    revoke_invitation,
)
from .mail import retry_mail
from .policies import MAX_POLICY_DAYS, get_policy, policies, update_policy
from .reasons import (
    REASON_SLUG,
    create_reason_code,
    get_reason_code,
    reason_codes,
    set_reason_retired,
    update_reason_code,
)
from .region_merge import merge_region
from .regions import REGION_NAME_MAX, get_region, regions_query, rename_region
from .units import (
    CONTACT_PHONE_MAX,
    UNIT_CODE,
    UNIT_NAME_MAX,
    create_unit,
    get_unit,
    move_staff,
    unit_staff,
    units,
    update_unit,
)
from .users import (
    INVITABLE_ROLES,
    UNIT_ROLES,
    change_role,
    get_user,
    set_active,
    sign_out_everywhere,
    users_query,
)

__all__ = [
    "merge_region",
    "BOARD_CODE",
    "CONTACT_PHONE_MAX",
    "HOLDER_MAX",
    "INVITABLE_ROLES",
    "INVITATION_LIFETIME",
    "MAX_POLICY_DAYS",
    "NOTE_MAX",
    "REASON_SLUG",
    "REGION_NAME_MAX",
    "SEARCH_MAX",
    "UNIT_CODE",
    "UNIT_NAME_MAX",
    "UNIT_ROLES",
    "InvitationInvalid",
    "MissingYear",
    "MonthDay",
    "YearRow",
    "accept_invitation",
    "boards_query",
    "calendar_years",
    "change_holder",
    "change_role",
    "changes_about",
    "create_board",
    "create_reason_code",
    "create_unit",
    "exceptional_day_count",
    "get_board",
    "get_policy",
    "get_reason_code",
    "get_region",
    "get_unit",
    "get_user",
    "import_year",
    "invitations",
    "invite_staff",
    "missing_years",
    "month_view",
    "move_staff",
    "open_invitation",
    "package_years_available",
    "policies",
    "record_calendar_import",
    "regions_query",
    "rename_region",
    "require_admin",
    "retry_mail",
    "reason_codes",
    "revoke_invitation",
    "set_active",
    "set_day",
    "set_reason_retired",
    "sign_out_everywhere",
    "unit_staff",
    "units",
    "update_policy",
    "update_reason_code",
    "update_unit",
    "users_query",
]
