"""The workflow registry: every action declared once (`steps`), asked through `rules`, with the
access rules (`access`) it and the features below it share."""

from .access import can_see_private_fields, can_view, can_work_on
from .rules import (
    TRANSITIONS,
    allows,
    available,
    check,
    check_length,
    label,
    labels,
    limit,
    mail_heads,
    may_act,
    require_actor,
    require_state,
    require_timely,
    require_track,
    step,
    validate_length,
)
from .steps import STEPS, Action, Limit, Scope, Step, awaiting_reply, pending_request

__all__ = [
    "STEPS",
    "TRANSITIONS",
    "Action",
    "Limit",
    "Scope",
    "Step",
    "allows",
    "available",
    "awaiting_reply",
    "can_see_private_fields",
    "can_view",
    "can_work_on",
    "check",
    "check_length",
    "label",
    "labels",
    "limit",
    "mail_heads",
    "may_act",
    "pending_request",
    "require_actor",
    "require_state",
    "require_timely",
    "require_track",
    "step",
    "validate_length",
]
