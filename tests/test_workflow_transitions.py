"""Every workflow action × every state × every role × both tracks.

The expectation table is derived from the workflow registry (`board.workflow.STEPS`): who may
act (its scopes, mapped onto the test's roles), from which states, on which track, and what the
message becomes. Each (track, state) cell builds its message once through the real services and
tries every (action, role) on it; refusals must raise PermissionDenied, InvalidTransition or
NotFound and change nothing. Allowed attempts run on a fresh message of the same state, so each
one is checked for its state and its event. The registry is the specification; this test proves
the services do what it says (and `test_registry_matches_the_contract` pins the registry itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from conftest import unit
from sqlalchemy import func, select

from board.api.actions import ACTIONS
from board.errors import InvalidTransition, NotFound, PermissionDenied
from board.extensions import db
from board.messages import events
from board.messages import services as msg
from board.models import Event, Message, Role
from board.workflow import STEPS, TRANSITIONS, Action, Scope

BOARD, PETITION = "board", "petition"
BOTH = frozenset({BOARD, PETITION})
ROLES = (
    "author",
    "other_citizen",
    "handler",  # of the unit the message is assigned to (330100-zj)
    "other_handler",  # of another unit (330106-zj)
    "coordinator",  # of the message's board (330100-secretary-office)
    "other_coordinator",  # of another board in the same city (330100-governor-office)
    "reviewer",  # coordinator of the review unit (330000-secretary-office)
    "moderator",
    "admin",
)
# Which of the test's actors each registry scope admits.
SCOPE_ROLES = {
    Scope.AUTHOR: {"author"},
    # Co-signing is open to every signed-in user but the author (a guard refuses the author).
    Scope.CITIZEN: set(ROLES) - {"author"},
    Scope.MODERATOR: {"moderator"},
    Scope.BOARD_OFFICE: {"coordinator"},
    Scope.UNIT: {"handler"},
    Scope.REVIEW_BODY: {"reviewer"},
    Scope.ADMIN: {"admin"},
    Scope.SYSTEM: set(),
}
UNIT_HOLDS = frozenset({"assigned", "in_progress", "reopened"})
STACKABLE = frozenset({"cosign", "urge", "interim"})


@dataclass(frozen=True)
class Rule:
    """Who may take an action, from where, and what it leads to."""

    action: str
    roles: frozenset[str]
    states: frozenset[str]
    tracks: frozenset[str]
    event: str | None = None  # the event written (default: the action's name)
    by_state: dict[str, str] | None = None  # targets that depend on the starting state

    def target(self, track: str, state: str) -> str:
        if self.by_state and state in self.by_state:
            return self.by_state[state]
        return str(STEPS[Action(self.action)].target_for(track, state))


# What the registry's steps cannot say by themselves: a co-sign writes no event; a decision on a
# request writes the event of what was decided, and an approved return gives the message back to
# the coordinator's queue (the registry's `return_approved` step).
EVENTS = {"cosign": "", "approve_request": "*", "decline_request": "*"}
BY_STATE = {
    "approve_request": {"assigned": str(STEPS[Action.RETURN_APPROVED].target)},
}


def rule(action: str) -> Rule:
    """The registry's step for `action`, in the test's terms."""
    step = STEPS[Action(action)]
    roles = set().union(*(SCOPE_ROLES[s] for s in step.scopes))
    return Rule(
        action,
        frozenset(roles),
        frozenset(str(s) for s in step.states),
        frozenset(str(t) for t in step.tracks),
        EVENTS.get(action),
        BY_STATE.get(action),
    )


EXPECTED: dict[str, Rule] = {name: rule(name) for name in ACTIONS}


def test_registry_matches_the_contract():
    """A few cells of the workflow written out by hand, so a wrong registry entry fails here."""
    assert EXPECTED["withdraw"].states == {"submitted", "received"}
    assert EXPECTED["withdraw"].roles == {"author"}
    assert EXPECTED["approve"].roles == EXPECTED["hide"].roles == {"moderator", "admin"}
    assert EXPECTED["assign"].roles == {"coordinator", "admin"}
    assert EXPECTED["reply"].roles == {"handler"} and EXPECTED["reply"].states == UNIT_HOLDS
    assert EXPECTED["extend"].states == {"in_progress", "reopened"}
    assert EXPECTED["not_accept"].tracks == {PETITION} and EXPECTED["reopen"].tracks == {BOARD}
    assert EXPECTED["decide_rereview"].roles == {"reviewer", "admin"}
    assert EXPECTED["rate"].target(BOARD, "replied") == "closed"
    assert EXPECTED["rate"].target(PETITION, "replied") == "replied"  # the review window runs
    assert EXPECTED["approve_request"].target("board", "assigned") == "received"
    assert EXPECTED["hearing"].target(PETITION, "rereview_requested") == "rereview_requested"
    assert TRANSITIONS["close"] == (frozenset({"replied"}), "closed")


def test_every_action_has_one_step_and_a_label():
    """Every action of the enum is declared once, and the timeline has a word for it."""
    assert set(STEPS) == set(Action)
    assert all(str(step.label) for step in STEPS.values())


BOARD_STATES = (
    "submitted",
    "rejected",
    "withdrawn",
    "received",
    "assigned",
    "in_progress",
    "replied",
    "closed",
    "reopened",
)
PETITION_STATES = (
    "submitted",
    "rejected",
    "withdrawn",
    "received",
    "assigned",
    "in_progress",
    "not_accepted",
    "replied",
    "closed",
    "review_requested",
    "reviewed",
    "rereview_requested",
    "rereviewed",
)
CELLS = [(BOARD, s) for s in BOARD_STATES] + [(PETITION, s) for s in PETITION_STATES]
PETITION_FIELDS = {
    "kind": "claim",
    "real_name": "陈明亮",
    "phone": "13912345678",
    "address": "杭州市西湖区文三路 1 号",
}
BODY = "经核查，相关问题已经责成有关部门处理完毕，请知悉。"


def _latest(m: Message):
    return db.session.scalar(select(func.max(Event.created_at)).where(Event.message_id == m.id))


def _events(m: Message) -> int:
    return db.session.scalar(select(func.count(Event.id)).where(Event.message_id == m.id))


@pytest.fixture
def quiet(app, monkeypatch):
    """Nothing here searches or reads mail: skip index writes, and the rendering and queueing
    of each step's mails (a quarter of this module's time; tests/test_notify*.py test them)."""
    app.config["SEARCH_APPLY_INLINE"] = False
    monkeypatch.setattr(events.notify, "queue_event_mail", lambda: 0)


@pytest.fixture
def world(quiet, make_message, make_user, citizen, troll, handler, coordinator, moderator, admin):
    """The actors and a builder of messages in a state, with the variant an action needs."""
    actors = {
        "author": citizen,
        "other_citizen": troll,
        "handler": handler,
        "other_handler": make_user(Role.HANDLER, unit_code="330106-zj"),
        "coordinator": coordinator,
        "other_coordinator": make_user(Role.COORDINATOR, unit_code="330100-governor-office"),
        "reviewer": make_user(Role.COORDINATOR, unit_code="330000-secretary-office"),
        "moderator": moderator,
        "admin": admin,
    }

    def build(track: str, state: str, variant: str) -> Message:
        extra = PETITION_FIELDS if track == PETITION else {}
        if variant == "unhappy":  # closed by a dissatisfied rating
            m = make_message("replied", track=track, **extra)
            when = _latest(m) + timedelta(hours=1)
            return msg.rate_message(m, citizen, resolution=1, attitude=2, speed=1, now=when)
        m = make_message(state, track=track, **extra)
        when = _latest(m) + timedelta(hours=1)
        if variant == "request" and state == "assigned":
            msg.request_return(m, handler, reason="return:not_our_duty", note="", now=when)
        elif variant == "request":
            msg.request_extension(m, handler, reason="需要多个部门协调核查", now=when)
        elif variant == "awaiting":
            outcome = "explained" if track == PETITION else None
            msg.reply_message(m, handler, body=BODY, outcome=outcome, now=when)
        return m

    return actors, build


def _variant(action: str, track: str, state: str) -> str:
    """The message an action is tried on: with the thing it decides, where one can exist."""
    if action in ("approve_request", "decline_request") and state in UNIT_HOLDS:
        return "request"
    if action in ("sign_off", "decline_sign_off") and state in UNIT_HOLDS:
        return "awaiting"
    if action == "reopen" and state == "closed" and track == BOARD:
        return "unhappy"
    return "plain"


def _calls(m: Message, actor, track: str, now, earlier: str) -> dict:
    """The service behind each action, called with valid arguments."""
    petition_outcome = "explained" if track == PETITION else None
    return {
        "withdraw": lambda: msg.withdraw_message(m, actor, now=now),
        "approve": lambda: msg.approve_message(m, actor, now=now),
        "reject": lambda: msg.reject_message(m, actor, reason="unclear", now=now),
        "hide": lambda: msg.hide_message(m, actor, reason="hide:privacy_leak", now=now),
        "cosign": lambda: msg.cosign_message(m, actor, now=now),
        "assign": lambda: msg.assign_message(m, unit("330100-zj"), actor, now=now),
        "accept": lambda: msg.accept_message(m, actor, now=now, note="予以受理"),
        "not_accept": lambda: msg.not_accept_message(
            m, actor, reason="not_accept:court_or_arbitration", now=now
        ),
        "return": lambda: msg.request_return(
            m, actor, reason="return:not_our_duty", note="不属于本单位职责", now=now
        ),
        "approve_request": lambda: msg.approve_request(
            msg.pending_request(m) or _missing(), actor, note="同意", now=now
        ),
        "decline_request": lambda: msg.decline_request(
            msg.pending_request(m) or _missing(), actor, note="不同意", now=now
        ),
        "transfer": lambda: msg.transfer_message(
            m, unit("330106-zj"), actor, note="属地办理", now=now
        ),
        "extend": lambda: msg.request_extension(m, actor, reason="需要多个部门协调核查", now=now),
        "interim": lambda: msg.interim_reply(m, actor, body=BODY, now=now),
        "reply": lambda: msg.reply_message(m, actor, body=BODY, outcome=petition_outcome, now=now),
        "sign_off": lambda: msg.sign_off_reply(m, actor, now=now),
        "decline_sign_off": lambda: msg.decline_sign_off(m, actor, note="请补充依据", now=now),
        "urge": lambda: msg.urge_message(m, actor, note="请尽快办理", now=now),
        "rate": lambda: msg.rate_message(m, actor, resolution=4, attitude=4, speed=4, now=now),
        "follow_up": lambda: msg.follow_up_message(
            m, actor, body="请问退还的费用什么时候到账？", now=now
        ),
        "reopen": lambda: msg.reopen_message(m, actor, note="留言人不满意，重新办理", now=now),
        "request_review": lambda: msg.request_review(
            m, actor, body="答复没有回应我的诉求，请求复查。", now=now
        ),
        "decide_review": lambda: msg.decide_review(
            m, actor, body="经复查，维持原处理意见。", outcome="not_supported", now=now
        ),
        "request_rereview": lambda: msg.request_rereview(
            m, actor, body="复查意见仍未回应诉求，请求复核。", now=now
        ),
        "hearing": lambda: msg.hold_hearing(m, actor, days=5, note="", now=now),
        "decide_rereview": lambda: msg.decide_rereview(
            m, actor, body="经复核，维持复查意见。", outcome="not_supported", now=now
        ),
        "refuse_repeat": lambda: msg.refuse_repeat(m, actor, earlier=earlier, now=now),
    }


def _run(action: str, m: Message, actor, track: str, now, earlier: str):
    """Call the service behind `action` with valid arguments."""
    return _calls(m, actor, track, now, earlier)[action]()


def _missing():
    raise NotFound("no pending request on this message")


def test_expectation_table_covers_every_api_action():
    """The API offers exactly the registry's steps with a summary, and each has a service."""
    assert set(EXPECTED) == {str(a) for a, step in STEPS.items() if step.summary}
    assert set(EXPECTED) <= set(_calls(None, None, BOARD, None, ""))


@pytest.mark.parametrize(("track", "state"), CELLS, ids=[f"{t}-{s}" for t, s in CELLS])
def test_every_action_and_role_in_one_state(world, make_message, track, state):
    """Allowed exactly where WORKFLOW.md says; refused (and nothing changed) everywhere else."""
    actors, build = world
    earlier = "MS-2026-ZZZZZZ"
    if track == PETITION and state == "received":
        earlier = make_message("rereviewed", track=track, **PETITION_FIELDS).code
    variants: dict[str, Message] = {}
    allowed: list[tuple[str, str]] = []
    for action, expectation in EXPECTED.items():
        variant = _variant(action, track, state)
        if variant not in variants:
            variants[variant] = build(track, state, variant)
        m = variants[variant]
        may = state in expectation.states and track in expectation.tracks
        for role in ROLES:
            if may and role in expectation.roles:
                allowed.append((action, role))
                continue
            before = (m.state, _events(m))
            now = _latest(m) + timedelta(hours=1)
            with pytest.raises((PermissionDenied, InvalidTransition, NotFound)):
                _run(action, m, actors[role], track, now, earlier)
                pytest.fail(f"{action} by {role} on {track}/{state} was allowed")  # not reached
            db.session.rollback()
            db.session.refresh(m)
            assert (m.state, _events(m)) == before, (action, role)
    # Allowed attempts that neither change the state nor each other's permissions share the
    # plain message; each other one uses a message of its own (the cell's one first).
    allowed.sort(key=lambda pair: pair[0] not in STACKABLE)
    spare = dict(variants)
    for action, role in allowed:
        expectation = EXPECTED[action]
        variant = _variant(action, track, state)
        if action in STACKABLE:
            m = variants[variant]
        elif variant in spare:
            m = spare.pop(variant)
        else:
            m = build(track, state, variant)
        before = _events(m)
        now = _latest(m) + timedelta(hours=1)
        result = _run(action, m, actors[role], track, now, earlier)
        db.session.refresh(result)
        assert result.state == expectation.target(track, state), (action, role)
        written = list(
            db.session.scalars(
                select(Event.action).where(Event.message_id == m.id).order_by(Event.id)
            )
        )[before:]
        if expectation.event == "":
            assert written == [], (action, role)
        elif expectation.event is None:
            assert written == [action], (action, role, written)
        else:  # a request decision names what was decided
            assert len(written) == 1 and written[0] in (
                "return_approved",
                "return_declined",
                "extend",
                "extension_declined",
            ), (action, role, written)
    expected_allowed = {
        (a, r)
        for a, e in EXPECTED.items()
        if state in e.states and track in e.tracks
        for r in e.roles
    }
    assert set(allowed) == expected_allowed
