"""Asking the registry: may this user take this step on this message now, and which steps may
they take? One answer for the service that enforces it and the page that offers it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from flask_babel import gettext as _

from ..calendar import services as clocks
from ..errors import BoardError, InvalidTransition, PermissionDenied, ValidationFailed
from ..models import Message, State, Track, User
from . import access
from .steps import STEPS, Action, Limit, Scope, Step, within

SCOPE_TESTS: dict[Scope, Callable[[User | None, Message], bool]] = {
    Scope.AUTHOR: access.is_author,
    Scope.CITIZEN: lambda user, message: bool(user and user.is_authenticated),
    Scope.MODERATOR: lambda user, message: access.is_moderator(user),
    Scope.BOARD_OFFICE: lambda user, message: access.is_board_coordinator(user, message.board),
    Scope.UNIT: access.is_unit_handler,
    Scope.REVIEW_BODY: access.is_review_coordinator,
    Scope.ADMIN: lambda user, message: access.is_admin(user),
    Scope.SYSTEM: lambda user, message: False,
}

# action → (states it may start from, state it leads to; None keeps the state), for the steps
# that move a message (the table the services used to read; derived, never edited here).
TRANSITIONS: dict[str, tuple[frozenset[State], State | None]] = {
    str(step.action): (step.states, step.target) for step in STEPS.values() if step.states
}


def step(action: str) -> Step:
    """The registry's entry for an action."""
    return STEPS[Action(action)]


def may_act(action: str, actor: User | None, message: Message) -> bool:
    """True if `actor` is in one of the scopes of the step."""
    if actor is None or not actor.is_authenticated:
        return False
    return any(SCOPE_TESTS[scope](actor, message) for scope in step(action).scopes)


def require_actor(action: str, actor: User | None, message: Message) -> None:
    """PermissionDenied unless `actor` is in one of the step's scopes."""
    if not may_act(action, actor, message):
        denied = step(action).denied
        raise PermissionDenied(str(denied) if denied else "")


def require_track(action: str, message: Message) -> None:
    """InvalidTransition unless the step applies to the message's track."""
    tracks = step(action).tracks
    if message.track not in tracks:
        if tracks == {Track.PETITION}:
            raise InvalidTransition(_("此操作只适用于信访事项。"))
        raise InvalidTransition(_("此操作只适用于领导留言板的留言。"))


def require_state(action: str, message: Message) -> None:
    """InvalidTransition unless the step may start from the message's state."""
    if message.state not in step(action).states:
        raise InvalidTransition(
            _("留言处于“%(state)s”状态，不能执行此操作。", state=message.public_state_label)
        )


def require_timely(action: str, message: Message, actor: User | None, now: datetime) -> None:
    """InvalidTransition if the step's window has passed or one of its guards refuses."""
    entry = step(action)
    if entry.window is not None and not within(clocks.open_clock(message, (entry.window,)), now):
        raise InvalidTransition(str(entry.late))
    for guard in entry.guards:
        if not guard.holds(message, actor, now):
            raise InvalidTransition(str(guard.message))


def check(action: str, actor: User | None, message: Message, *, now: datetime) -> Step:
    """Everything the registry knows about taking `action` now, in the order a person would be
    told: who may (403), on which track and from which state (409), the window and the
    step's own conditions (409). Returns the step."""
    require_actor(action, actor, message)
    require_track(action, message)
    require_state(action, message)
    require_timely(action, message, actor, now)
    return step(action)


def allows(action: str, actor: User | None, message: Message, *, now: datetime) -> bool:
    """True if `check` would let `actor` take the step now."""
    try:
        check(action, actor, message, now=now)
    except BoardError:
        return False
    return True


def available(
    actor: User | None, message: Message, *, now: datetime, among: Iterable[str] | None = None
) -> set[Action]:
    """The steps `actor` may take on the message now (those a person asks for)."""
    wanted = [Action(a) for a in among] if among is not None else list(STEPS)
    return {a for a in wanted if not STEPS[a].is_event_only and allows(a, actor, message, now=now)}


def limit(action: str, name: str) -> Limit:
    """The bounds of one field of a step."""
    return step(action).limits[name]


def check_length(errors: dict[str, list[str]], action: str, name: str, value: str) -> None:
    """Add a field error when `value` is shorter or longer than the step allows."""
    bounds = limit(action, name)
    if len(value) < bounds.low:
        errors[name] = [_("%(label)s至少 %(n)d 个字。", label=str(bounds.label), n=bounds.low)]
    elif len(value) > bounds.high:
        errors[name] = [_("%(label)s不能超过 %(n)d 个字。", label=str(bounds.label), n=bounds.high)]


def validate_length(action: str, name: str, value: str | None) -> str:
    """The stripped value, or ValidationFailed naming the field."""
    value = (value or "").strip()
    errors: dict[str, list[str]] = {}
    check_length(errors, action, name, value)
    if errors:
        raise ValidationFailed(fields=errors)
    return value


def label(action: str, *, desk: bool = False) -> str:
    """What a timeline calls the event (the desk's wording when `desk`); unknown: the code."""
    try:
        entry = STEPS[Action(action)]
    except ValueError:
        return action
    return str(entry.desk_label if desk and entry.desk_label else entry.label)


def labels(*, desk: bool = False) -> dict[str, str]:
    """Every action's timeline label, for templates."""
    return {str(a): label(a, desk=desk) for a in STEPS}


def mail_heads(audience: str) -> dict[str, str]:
    """What mails call each action: `staff` subjects or `author` news (only steps that mail)."""
    attribute = "staff_mail" if audience == "staff" else "author_mail"
    return {str(a): getattr(s, attribute) for a, s in STEPS.items() if getattr(s, attribute)}
