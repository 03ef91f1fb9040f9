"""Database models, the codes of DESIGN §3 as StrEnums, and the workflow's named state sets.

One module per part of the domain; everything is importable from `board.models` as before:

- `vocab`: the codes (Role, Track, Kind, Domain, State…) with their labels and state sets;
- `directory`: Region, RegionName, Unit, Board, BoardTerm;
- `accounts`: User, ApiToken;
- `messages`: Message, Event, Reply, Rating, Cosign, HandlingRequest, SearchOutbox;
- `deadlines`: CalendarDay, CalendarYear, DeadlinePolicy, Clock;
- `security`: LoginAttempt, AccessLog.
"""

from __future__ import annotations

from .accounts import ApiToken, User
from .deadlines import CalendarDay, CalendarYear, Clock, ClockState, DeadlinePolicy
from .directory import Board, BoardTerm, Region, RegionName, Unit
from .messages import (
    SATISFACTION_LABELS,
    Cosign,
    Event,
    HandlingRequest,
    Message,
    Rating,
    ReasonCode,
    Reply,
    RequestKind,
    RequestState,
    SearchOutbox,
)
from .security import AccessLog, LoginAttempt
from .vocab import (
    ANSWERED_ORDER,
    ANSWERED_STATES,
    AWAITING_REPLY,
    DOMAIN_LABELS,
    KIND_LABELS,
    KINDS_BY_TRACK,
    LEVEL_LABELS,
    OUTCOME_LABELS,
    PUBLIC_STATES,
    ROLE_LABELS,
    STAFF_ROLES,
    STATE_LABELS,
    TRACK_LABELS,
    UNIT_QUEUE,
    Domain,
    Kind,
    Outcome,
    Post,
    ReasonUse,
    RegionLevel,
    ReplyState,
    Role,
    State,
    Track,
    Visibility,
)

__all__ = [
    "Role",
    "ROLE_LABELS",
    "STAFF_ROLES",
    "Track",
    "TRACK_LABELS",
    "Kind",
    "KIND_LABELS",
    "KINDS_BY_TRACK",
    "Domain",
    "DOMAIN_LABELS",
    "State",
    "STATE_LABELS",
    "PUBLIC_STATES",
    "AWAITING_REPLY",
    "UNIT_QUEUE",
    "ANSWERED_ORDER",
    "ANSWERED_STATES",
    "Visibility",
    "RegionLevel",
    "LEVEL_LABELS",
    "Post",
    "ReplyState",
    "Outcome",
    "OUTCOME_LABELS",
    "ReasonUse",
    "Region",
    "RegionName",
    "Unit",
    "Board",
    "BoardTerm",
    "User",
    "ApiToken",
    "ReasonCode",
    "Message",
    "Event",
    "Reply",
    "SATISFACTION_LABELS",
    "Rating",
    "Cosign",
    "RequestKind",
    "RequestState",
    "HandlingRequest",
    "SearchOutbox",
    "CalendarDay",
    "CalendarYear",
    "DeadlinePolicy",
    "ClockState",
    "Clock",
    "LoginAttempt",
    "AccessLog",
]
