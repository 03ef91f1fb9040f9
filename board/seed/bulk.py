"""Bulk demo messages: the demo plans written with multi-row INSERTs, for 10⁵–10⁶ messages.

`demo.add_demo_messages` drives every message through the workflow services (a few commits per
message: right for a few hundred, hours for a million). Here the same plans (`demo.plan_messages`)
become rows directly: the message, its events (with the due dates the clocks set), its clocks
(opened and closed as the services would), its published reply, rating and co-signs, and one
search outbox row per message that was ever published, so `flask search sync` or `rebuild` finds
everything and the outbox stays the log of what changed. What the services would do is mirrored
step by step in `_rows` (tests compare the two on the same plans). No notification mail is queued
for this synthetic past.

Bodies are varied beyond the templates: one or two sentences of other templates of the same
domain are appended, so words co-occur in more combinations than the templates alone give.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from operator import itemgetter

from flask import current_app
from sqlalchemy import Connection, Table, insert, select, text

from .. import deadlines
from ..calendar import services as calendar_services
from ..clock import local_date
from ..deadlines import PolicyName
from ..extensions import db
from ..messages.services import CODE_ALPHABET
from ..models import (
    PUBLIC_STATES,
    Board,
    Clock,
    ClockState,
    Cosign,
    Event,
    Kind,
    Message,
    Rating,
    ReasonCode,
    Region,
    Reply,
    ReplyState,
    SearchOutbox,
    State,
    Track,
    Unit,
    Visibility,
)
from ..stats import daily as stats_daily
from ..stats import facts as stats_facts
from . import demo

Progress = Callable[[int], None] | None

CHUNK = 5000  # messages planned and inserted per transaction
BULK_THRESHOLD = 2000  # `flask seed demo --messages N` writes in bulk above this


# ---------------------------------------------------------------------------------------------
# Clocks without a query per clock


class _Clocks:
    """Due dates per (policy, start day), computed once from the calendar table."""

    def __init__(self) -> None:
        self.calendar = calendar_services.db_calendar()
        self.policies: dict[str, deadlines.Policy] = {}
        self.cache: dict[tuple[str, date], tuple[date, date, str]] = {}

    def due(self, policy_name: str, start: date) -> tuple[deadlines.Policy, date, date, str]:
        """(policy, due_on, double_due_on, explanation JSON) as `calendar.start_clock` sets them."""
        policy = self.policies.get(policy_name)
        if policy is None:
            policy = self.policies[policy_name] = calendar_services.get_policy(policy_name)
        key = (policy_name, start)
        if key not in self.cache:
            deadline = deadlines.compute(start, policy, self.calendar)
            double = deadlines.compute(
                start, deadlines.Policy(policy.name, policy.days * 2, policy.unit), self.calendar
            )
            self.cache[key] = (
                deadline.due_on,
                double.due_on,
                json.dumps(deadlines.dump_explanation(deadline.explanation), ensure_ascii=False),
            )
        return (policy, *self.cache[key])


# ---------------------------------------------------------------------------------------------
# One message as rows


@dataclass
class _Rows:
    """The rows of one message; children refer to it by its position in the chunk."""

    message: dict
    events: list[dict] = field(default_factory=list)
    clocks: list[dict] = field(default_factory=list)
    replies: list[dict] = field(default_factory=list)
    ratings: list[dict] = field(default_factory=list)
    cosigns: list[dict] = field(default_factory=list)
    outbox: bool = False


class _Builder:
    """Turns plans into rows exactly as the services would have written them."""

    def __init__(self, accounts: demo.DemoAccounts, rng: random.Random) -> None:
        self.accounts = accounts
        self.rng = rng
        self.clocks = _Clocks()
        self.boards = {b.code: b for b in db.session.scalars(select(Board))}
        self.regions = {r.code: r.path for r in db.session.scalars(select(Region))}
        self.units: dict[str, Unit] = {}
        self.reasons = dict(db.session.execute(select(ReasonCode.code, ReasonCode.label)).all())
        self.codes: set[str] = set()
        self.sentences = _sentence_pool()
        self.vary_bodies = True
        # Tracking codes' first characters: every `lanes`-th one from `lane`, so that writers
        # running side by side (`lanes` of them) never draw the same code.
        self.first_characters = CODE_ALPHABET

    # -- helpers

    def unit(self, code: str) -> Unit:
        if code not in self.units:
            self.units[code] = db.session.scalar(select(Unit).where(Unit.code == code))
        return self.units[code]

    def code(self, now: datetime) -> str:
        """A fresh tracking code (uniqueness checked against every code loaded or made)."""
        while True:
            tail = self.rng.choice(self.first_characters) + "".join(
                self.rng.choice(CODE_ALPHABET) for _ in range(5)
            )
            code = f"MS-{now.year}-{tail}"
            if code not in self.codes:
                self.codes.add(code)
                return code

    def vary(self, plan: demo.PlannedMessage) -> str:
        """The planned body plus one or two sentences of the same domain's other templates."""
        pool = self.sentences.get(plan.domain)
        if not (pool and self.vary_bodies) or self.rng.random() < 0.3:
            return plan.body
        extra = "".join(self.rng.sample(pool, min(len(pool), self.rng.randint(1, 2))))
        body = plan.body + extra
        return body if len(body) <= 5000 else plan.body

    # -- the workflow, step by step

    def rows(self, plan: demo.PlannedMessage) -> _Rows:
        """The rows `demo._apply_one` would leave for this plan (through the services)."""
        plan = normalize(plan)
        times = plan.times
        author = self.accounts.citizens[plan.author]
        board = self.boards[plan.board_code]
        petition = plan.track == Track.PETITION
        submitted = times["submit"]
        m = {
            "code": self.code(submitted),
            "track": plan.track,
            "kind": plan.kind,
            "domain": plan.domain,
            "board_id": board.id,
            "region_code": plan.region_code,
            "region_path": self.regions[plan.region_code],
            "title": plan.title,
            "body": self.vary(plan),
            "private_note": plan.private_note,
            "wants_public": bool(plan.wants_public) and plan.kind != Kind.REPORT,
            "visibility": Visibility.PRIVATE,
            "is_hidden": False,
            "hidden_reason": None,
            "state": State.SUBMITTED,
            "author_id": author.id,
            "pen_name": author.pen_name,
            "real_name": author.real_name if petition else None,
            "phone": author.phone if petition else None,
            "address": author.address if petition else None,
            "unit_id": None,
            "rejection_reason": None,
            "cosign_count": 0,
            "source": demo.DEMO_SOURCE,
            "external_id": None,
            "author_ip": plan.ip,
            "created_at": submitted,
            "published_at": None,
            "assigned_at": None,
            "replied_at": None,
            "closed_at": None,
            "updated_at": submitted,
        }
        out = _Rows(m)
        open_clocks: list[dict] = []

        def event(action, actor, now, to_state=None, note="", is_public=True, first=False):
            row = {
                "actor_id": actor.id if actor is not None else None,
                "action": action,
                "from_state": None if first else m["state"],
                "to_state": to_state or m["state"],
                "note": note,
                "is_public": is_public,
                "due_on": None,
                "created_at": now,
            }
            if to_state is not None:
                m["state"] = to_state
            m["updated_at"] = now
            out.events.append(row)
            return row

        def advance(row, now, close=(), start=None, closed_state=ClockState.MET):
            if close is None or close:
                for clock in list(open_clocks):
                    if close is None or clock["policy"] in close:
                        clock["state"], clock["closed_at"] = closed_state, now
                        open_clocks.remove(clock)
            if start is None:
                return
            started = local_date(now)
            policy, due_on, double_due_on, explanation = self.clocks.due(start, started)
            clock = {
                "policy": policy.name,
                "started_on": started,
                "due_on": due_on,
                "double_due_on": double_due_on,
                "days": policy.days,
                "unit": policy.unit,
                "state": ClockState.OPEN,
                "explanation": explanation,
                "created_at": now,
                "closed_at": None,
            }
            out.clocks.append(clock)
            open_clocks.append(clock)
            row["due_on"] = due_on

        moderator = self.accounts.moderator
        advance(
            event("submit", author, submitted, State.SUBMITTED, first=True),
            submitted,
            start=PolicyName.BOARD_MODERATION,
        )
        if plan.state == State.SUBMITTED:
            return out
        if plan.withdraw_from == State.SUBMITTED:
            now = times["withdraw"]
            advance(event("withdraw", author, now, State.WITHDRAWN), now, None, None, "stopped")
            out.outbox = True
            return out
        if plan.state == State.REJECTED:
            now = times["screen"]
            label = self.reasons.get(plan.reject_reason, plan.reject_reason)
            row = event("reject", moderator, now, State.REJECTED, note=label, is_public=False)
            advance(row, now, None, None, "stopped")
            m["rejection_reason"] = plan.reject_reason
            return out
        now = times["screen"]
        row = event("approve", moderator, now, State.RECEIVED)
        advance(row, now, (PolicyName.BOARD_MODERATION,), PolicyName.BOARD_ASSIGNMENT)
        if m["wants_public"]:
            m["visibility"], m["published_at"] = Visibility.PUBLIC, now
        out.outbox = True
        if plan.withdraw_from == State.RECEIVED:
            now = times["withdraw"]
            advance(event("withdraw", author, now, State.WITHDRAWN), now, None, None, "stopped")
            m["visibility"] = Visibility.PRIVATE
            return out
        if m["visibility"] == Visibility.PUBLIC:  # only public messages can be co-signed
            for n in plan.cosigners:
                now = times["cosign"]
                out.cosigns.append({"user_id": self.accounts.citizens[n].id, "created_at": now})
                m["cosign_count"] += 1
                m["updated_at"] = now
        if plan.state != State.RECEIVED:
            unit = self.unit(plan.unit_code)
            coordinator = self.accounts.coordinator_for(board)
            handler = self.accounts.handler_for(unit)
            now = times["assign"]
            row = event("assign", coordinator, now, State.ASSIGNED, note=unit.name)
            advance(row, now, (PolicyName.BOARD_ASSIGNMENT,))
            # messages.services._start_handling: the answer clock, then the return window.
            first = (
                PolicyName.PETITION_ACCEPTANCE
                if petition
                else calendar_services.reply_policy(_KindOnly(plan.kind))
            )
            advance(row, now, (), first)
            due = row["due_on"]
            advance(row, now, (), PolicyName.BOARD_RETURN)
            row["due_on"] = due
            m["unit_id"], m["assigned_at"] = unit.id, now
            if plan.state != State.ASSIGNED:
                now = times["accept"]
                row = event("accept", handler, now, State.IN_PROGRESS)
                advance(row, now, (PolicyName.BOARD_RETURN,), None, "stopped")  # accepting ends it
                if petition:
                    advance(
                        row, now, (PolicyName.PETITION_ACCEPTANCE,), PolicyName.PETITION_HANDLING
                    )
            if plan.state in (State.REPLIED, State.CLOSED):
                now = times["reply"]
                event("reply", handler, now, note=unit.name, is_public=False)
                reply = {
                    "unit_id": unit.id,
                    "author_id": handler.id,
                    "body": plan.reply.replace("{unit}", unit.name),
                    "outcome": plan.outcome if petition else None,
                    "is_interim": False,
                    "state": ReplyState.PUBLISHED,
                    "created_at": now,
                    "published_at": None,
                }
                out.replies.append(reply)
                now = times["sign_off"]
                row = event("sign_off", coordinator, now, State.REPLIED, note=unit.name)
                advance(
                    row, now, tuple(calendar_services.HANDLING_CLOCKS), PolicyName.RATING_WINDOW
                )
                if petition:
                    advance(row, now, (), PolicyName.PETITION_REVIEW_REQUEST)
                reply["published_at"] = now
                m["replied_at"] = now
            if plan.state == State.CLOSED:
                now = times["rate"]
                resolution, attitude, speed, comment = plan.rating
                # A petition stays `replied` after its rating: the review window still runs.
                row = event("rate", author, now, None if petition else State.CLOSED)
                if not petition:
                    m["closed_at"] = now
                advance(row, now, (PolicyName.RATING_WINDOW,))
                out.ratings.append(
                    {
                        "round": 1,
                        "author_id": author.id,
                        "resolution": resolution,
                        "attitude": attitude,
                        "speed": speed,
                        "comment": comment.strip(),
                        "created_at": now,
                    }
                )
        public = m["visibility"] == Visibility.PUBLIC and m["state"] in PUBLIC_STATES
        if plan.hide_reason and public:
            now = times["hide"]
            event("hide", moderator, now, note=self.reasons.get(plan.hide_reason, ""))
            m["is_hidden"], m["hidden_reason"] = True, plan.hide_reason
        return out


MIRRORED = frozenset(
    {
        State.SUBMITTED,
        State.REJECTED,
        State.WITHDRAWN,
        State.RECEIVED,
        State.ASSIGNED,
        State.IN_PROGRESS,
        State.REPLIED,
        State.CLOSED,
    }
)


def mirrored(plan: demo.PlannedMessage) -> bool:
    """Whether the bulk writer reproduces this plan exactly as the services would."""
    if plan.state not in MIRRORED or getattr(plan, "pending", None):
        return False
    if plan.state == State.CLOSED:
        return plan.rating is not None and {"reply", "sign_off", "rate"} <= set(plan.times)
    if plan.state == State.REPLIED:
        return {"reply", "sign_off"} <= set(plan.times)
    return True


def normalize(plan: demo.PlannedMessage) -> demo.PlannedMessage:
    """The main-path plan closest to `plan`: the bulk writer covers the main lifecycle only.

    Review, re-handling, handling requests, interim replies and lapsed closing are left to the
    service-driven seed (`flask seed demo` below the bulk threshold); such a plan is brought to
    the furthest main-path state its planned times reach.
    """
    if mirrored(plan):
        return plan
    times = plan.times
    if plan.state in (State.SUBMITTED, State.REJECTED, State.WITHDRAWN, State.RECEIVED):
        state = plan.state
    elif {"reply", "sign_off", "rate"} <= set(times) and plan.rating is not None:
        state = State.CLOSED
    elif {"reply", "sign_off"} <= set(times) and plan.reply:
        state = State.REPLIED
    elif "accept" in times:
        state = State.IN_PROGRESS
    elif "assign" in times:
        state = State.ASSIGNED
    else:
        state = State.RECEIVED
    return (
        replace(plan, state=state, pending=None)
        if hasattr(plan, "pending")
        else replace(plan, state=state)
    )


@dataclass
class _KindOnly:
    """What `messages.services.reply_policy` reads of a message."""

    kind: str


def _sentence_pool() -> dict[str, list[str]]:
    """Template sentences without slots, by domain: material to vary bodies with."""
    pool: dict[str, list[str]] = {}
    for template in (*demo.BOARD_TEMPLATES, *demo.PETITION_TEMPLATES):
        for sentence in template.body.split("。"):
            if sentence and "{" not in sentence and len(sentence) >= 8:
                pool.setdefault(template.domain, []).append(sentence + "。")
    return pool


# ---------------------------------------------------------------------------------------------
# Writing


def _copy(conn: Connection, table: Table, rows: list[dict]) -> None:
    """PostgreSQL: write rows with COPY … FROM STDIN (no statement text to build or parse).

    Columns a row leaves out get their Python-side default, as an INSERT through SQLAlchemy
    would; an autoincremented id left out is numbered by the database."""
    columns = [
        c
        for c in table.columns
        if not (c.primary_key and c.autoincrement and c.name not in rows[0])
    ]
    defaults = {
        c.name: c.default.arg if c.default is not None and c.default.is_scalar else None
        for c in columns
    }
    values = itemgetter(*defaults)
    names = ", ".join(f'"{name}"' for name in defaults)
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(values(defaults | row))


def _new_message_ids(conn: Connection, count: int) -> list[int]:
    """PostgreSQL: `count` ids taken from the message table's own sequence, ascending."""
    return sorted(
        conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('message', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": count},
        ).scalars()
    )


def _write(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Rows into a table: COPY on PostgreSQL, a multi-row INSERT elsewhere."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, rows)
    else:
        conn.execute(insert(table), rows)


def _insert_chunk(built: list[_Rows], outbox_time: datetime) -> None:
    """Insert a chunk of messages, their children and their statistics rows in the current
    transaction."""
    # Core statements (or COPY) on the session's connection: no ORM bookkeeping.
    conn = db.session.connection()
    table = Message.__table__
    if conn.dialect.name == "postgresql":
        ids = _new_message_ids(conn, len(built))
        for message_id, rows in zip(ids, built, strict=True):
            rows.message["id"] = message_id
        _copy(conn, table, [b.message for b in built])
    else:
        ids = list(
            conn.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [b.message for b in built],
            ).scalars()
        )
    children: dict[type, list[dict]] = {
        Event: [],
        Clock: [],
        Reply: [],
        Rating: [],
        Cosign: [],
    }
    outbox = []
    for message_id, rows in zip(ids, built, strict=True):
        for model, items in (
            (Event, rows.events),
            (Clock, rows.clocks),
            (Reply, rows.replies),
            (Rating, rows.ratings),
            (Cosign, rows.cosigns),
        ):
            for item in items:
                item["message_id"] = message_id
                children[model].append(item)
        if rows.outbox:
            outbox.append({"message_id": message_id, "created_at": outbox_time})
    for model, items in children.items():
        _write(conn, model.__table__, items)
    _write(conn, SearchOutbox.__table__, outbox)
    # The statistics' fact rows, in the same transaction (the ORM hooks do not see Core inserts).
    stats_facts.refresh(conn, ids)
    stats_daily.add_new(conn, ids)


LOADED = (
    "message",
    "event",
    "clock",
    "reply",
    "rating",
    "cosign",
    "search_outbox",
    "stats_case",
    "stats_tally",
    "stats_day",
)


def _analyze(tables: Iterable[str]) -> None:
    """PostgreSQL: planner statistics for freshly loaded tables (autovacuum comes much later;
    without them the planner picks plans that take minutes)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for name in tables:
        db.session.execute(text(f'ANALYZE "{name}"'))
    db.session.commit()


def add_bulk_messages(
    count: int,
    accounts: demo.DemoAccounts,
    *,
    now: datetime,
    seed: int = 2026,
    progress: Progress = None,
    chunk: int = CHUNK,
    lane: tuple[int, int] = (0, 1),
) -> int:
    """Plan `count` demo messages and insert them in chunks; returns how many were added.

    Each chunk is one transaction: an interrupted run leaves whole messages only, and running
    again adds the rest (`demo.messages_to_add`). The outbox rows carry `now`. Writers running
    side by side take one `lane` (number, of how many) each, with their own `seed`, after
    `prepare_accounts` (bench/seed_parallel.py).
    """
    if count <= 0:
        return 0
    scopes = demo.demo_scopes()
    if not scopes:
        raise LookupError("no demo board found: load the regions first (flask seed regions)")
    rng = random.Random(f"{seed}:{demo.demo_message_count()}:bulk")
    builder = _Builder(accounts, rng)
    number, lanes = lane
    builder.first_characters = CODE_ALPHABET[number::lanes]
    builder.codes.update(db.session.scalars(select(Message.code)))
    # The accounts, boards and units the builder holds do not change while it writes: keep
    # them loaded across commits instead of reloading each one after every chunk.
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        added = _add_chunks(builder, count, scopes, now, rng, chunk, progress)
    finally:
        session.expire_on_commit = expire_on_commit
    _analyze(LOADED)
    return added


def _add_chunks(builder, count, scopes, now, rng, chunk, progress) -> int:
    """Plan and write `count` messages, one transaction per chunk."""
    added = 0
    while added < count:
        size = min(chunk, count - added)
        plans = demo.plan_messages(size, scopes, now=now, rng=rng)
        # Coordinators and handlers are created on first use (ORM), before the chunk's rows.
        for code in {p.board_code for p in plans}:
            builder.accounts.coordinator_for(builder.boards[code])
        assigned = (State.SUBMITTED, State.REJECTED, State.WITHDRAWN, State.RECEIVED)
        for code in {p.unit_code for p in plans if p.state not in assigned}:
            builder.accounts.handler_for(builder.unit(code))
        db.session.flush()
        built = [builder.rows(plan) for plan in plans]
        _insert_chunk(built, now)
        db.session.commit()
        added += size
        if progress:
            progress(size)
    return added


def prepare_accounts(accounts: demo.DemoAccounts) -> int:
    """Create the coordinator of every demo board and the handler of every unit a plan can
    name (each writer otherwise creates them on first use: side by side, twice). Returns the
    units."""
    units = set()
    for scope in demo.demo_scopes():
        accounts.coordinator_for(
            db.session.scalar(select(Board).where(Board.code == scope.board_code))
        )
        for place in scope.places:
            for domain in scope.domains:
                units.update(scope.units_for(place, domain))
    for code in sorted(units):
        accounts.handler_for(db.session.scalar(select(Unit).where(Unit.code == code)))
    db.session.commit()
    return len(units)


def use_bulk(count: int) -> bool:
    """Whether `flask seed demo` should write this many messages in bulk."""
    threshold = current_app.config.get("SEED_BULK_THRESHOLD", BULK_THRESHOLD)
    return count > threshold
