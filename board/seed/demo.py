"""Demo data: handling units for every region, accounts of every role, and realistic messages.

Messages are planned first (`plans.plan_messages`: pure, seeded, no database writes) and then
driven through the real workflow services (`apply_plan`: submit → approve/reject → assign → accept →
reply → rate, with explicit `now=` values) so events and dates are right. A bulk writer for
large volumes can reuse the same plans.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, insert, select

from ..auth.services import hash_password
from ..extensions import db
from ..messages import services as msg
from ..models import (
    Board,
    Message,
    Outcome,
    Region,
    RegionLevel,
    Role,
    State,
    Track,
    Unit,
    User,
)
from . import texts
from .directory import REGIONS_WITHOUT_BOARDS
from .plans import (  # noqa: F401 (BOARD_TEMPLATES… are read through this module by `bulk`)
    ANSWERED,
    BOARD_TEMPLATES,
    CITIZENS,
    COMPANIES,
    DEMO_BOARDS,
    EXTENSION_REASON,
    HOSPITALS,
    INTERIM_TEXT,
    PETITION_CLOSING,
    PETITION_TEMPLATES,
    REOPEN_NOTE,
    RETURN_NOTE,
    REVIEW_STEPS,
    ROADS,
    SCHOOLS,
    SHOPS,
    VILLAGES,
    XQ,
    PlannedMessage,
    _is_municipality,
    demo_scopes,
    plan_messages,
)
from .reference import seed_reason_codes

Progress = Callable[[int], None] | None

DEMO_SOURCE = "demo"
DEMO_EMAIL_DOMAIN = "demo.minsheng.example"
DEMO_PASSWORDS = {
    Role.CITIZEN: "demo-citizen-2026",
    Role.HANDLER: "demo-handler-2026",
    Role.COORDINATOR: "demo-coordinator-2026",
    Role.MODERATOR: "demo-moderator-2026",
    Role.ADMIN: "demo-admin-2026",
}

# ---------------------------------------------------------------------------------------------
# Handling units

# suffix → name at a 省/自治区, at a city or county-level city, at a 直辖市 (data/words.toml)
DEPARTMENTS = texts.departments()
COUNTY_DEPARTMENTS = texts.county_departments()


def department_units(region: Region, parent: Region | None) -> list[tuple[str, str]]:
    """The demo departments of a region as (suffix, name): 杭州市住房和城乡建设局…"""
    if region.level == RegionLevel.COUNTY:
        units = []
        for suffix, name in COUNTY_DEPARTMENTS.items():
            if suffix == "ga" and region.name.endswith("区") and parent is not None:
                units.append((suffix, f"{parent.name}公安局{region.name}分局"))
            else:
                units.append((suffix, f"{region.name}{name}"))
        return units
    column = 3 if _is_municipality(region) else 1 if region.level == RegionLevel.PROVINCE else 2
    return [(row[0], f"{region.name}{row[column]}") for row in DEPARTMENTS]


def ensure_demo_units(progress: Progress = None) -> int:
    """Add the missing demo departments of every region (codes like 330100-zj); returns how many."""
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    ids = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    added = 0
    for level in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY):
        rows = []
        for region in sorted(
            (r for r in regions.values() if r.level == level), key=lambda r: r.code
        ):
            if region.path.split("/")[0] in REGIONS_WITHOUT_BOARDS:
                continue
            parent = regions.get(region.parent_code) if region.parent_code else None
            for suffix, name in department_units(region, parent):
                code = f"{region.code}-{suffix}"
                if code in ids:
                    continue
                parent_id = ids.get(f"{region.parent_code}-{suffix}") if parent else None
                rows.append(
                    {
                        "code": code,
                        "name": name,
                        "region_code": region.code,
                        "parent_id": parent_id,
                        "is_office": False,
                    }
                )
            if progress:
                progress(1)
        if rows:
            db.session.execute(insert(Unit), rows)
            ids.update(db.session.execute(select(Unit.code, Unit.id)).all())
            added += len(rows)
    db.session.commit()
    return added


# ---------------------------------------------------------------------------------------------
# Accounts

# Units that always get a demo handler, even before any message is assigned to them.
KEY_HANDLER_UNITS = ("330100-zj", "330106-zj", "330100-jt", "330000-jy")


def demo_email(key: str) -> str:
    """The e-mail address of a demo account."""
    return f"{key}@{DEMO_EMAIL_DOMAIN}"


@dataclass
class DemoAccounts:
    """The demo accounts, created or found."""

    citizens: list[User] = field(default_factory=list)
    moderator: User | None = None
    admin: User | None = None
    coordinators: dict[str, User] = field(default_factory=dict)  # board code → user
    handlers: dict[str, User] = field(default_factory=dict)  # unit code → user
    added: int = 0
    _hashes: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None  # before the oldest demo message

    def account(
        self, key: str, role: Role, pen_name: str, unit: Unit | None = None, **profile
    ) -> User:
        """Find the demo account `key`, or create it with its role's demo password."""
        email = demo_email(key)
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            return user
        # One hash per role: every demo account of a role shares its printed password.
        if role not in self._hashes:
            self._hashes[role] = hash_password(DEMO_PASSWORDS[role])
        user = User(
            email=email,
            password_hash=self._hashes[role],
            pen_name=pen_name,
            role=role,
            unit=unit,
            created_at=self.created_at,
            **profile,
        )
        db.session.add(user)
        db.session.flush()
        self.added += 1
        return user

    def coordinator_for(self, board: Board) -> User:
        """The demo coordinator of a board's office (created on first use)."""
        if board.code not in self.coordinators:
            self.coordinators[board.code] = self.account(
                f"coordinator.{board.code}",
                Role.COORDINATOR,
                f"{board.title}交办员",
                unit=board.office_unit,
            )
        return self.coordinators[board.code]

    def handler_for(self, unit: Unit) -> User:
        """The demo handler of a unit (created on first use)."""
        if unit.code not in self.handlers:
            self.handlers[unit.code] = self.account(
                f"handler.{unit.code}", Role.HANDLER, f"{unit.name}承办人"[:40], unit=unit
            )
        return self.handlers[unit.code]


def ensure_demo_accounts(*, now: datetime) -> DemoAccounts:
    """Citizens, a moderator, an admin, coordinators of the demo boards, key handlers."""
    accounts = DemoAccounts(created_at=now - timedelta(days=800))
    for key, pen_name, real_name, phone, address in CITIZENS:
        accounts.citizens.append(
            accounts.account(
                key, Role.CITIZEN, pen_name, real_name=real_name, phone=phone, address=address
            )
        )
    accounts.moderator = accounts.account("moderator", Role.MODERATOR, "审核员小周")
    accounts.admin = accounts.account("admin", Role.ADMIN, "平台管理员")
    for code, _weight in DEMO_BOARDS:
        board = db.session.scalar(select(Board).where(Board.code == code))
        if board is not None:
            accounts.coordinator_for(board)
    for code in KEY_HANDLER_UNITS:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is not None:
            accounts.handler_for(unit)
    # Handlers created by earlier runs for other units.
    prefix = "handler."
    for user in db.session.scalars(
        select(User).where(User.email.like(f"{prefix}%@{DEMO_EMAIL_DOMAIN}"))
    ):
        if user.unit is not None:
            accounts.handlers.setdefault(user.unit.code, user)
    db.session.commit()
    return accounts


def account_lines(accounts: DemoAccounts) -> list[str]:
    """What `flask seed demo` prints: every role's demo accounts and password."""
    lines = [
        f"citizen      {demo_email('citizen1')} … {demo_email(CITIZENS[-1][0])}"
        f"  password {DEMO_PASSWORDS[Role.CITIZEN]}",
        f"moderator    {accounts.moderator.email}  password {DEMO_PASSWORDS[Role.MODERATOR]}",
        f"admin        {accounts.admin.email}  password {DEMO_PASSWORDS[Role.ADMIN]}",
    ]
    for _code, user in sorted(accounts.coordinators.items()):
        lines.append(
            f"coordinator  {user.email}  password {DEMO_PASSWORDS[Role.COORDINATOR]}"
            f"  ({user.unit.name})"
        )
    key_handlers = [accounts.handlers[c] for c in KEY_HANDLER_UNITS if c in accounts.handlers]
    for user in key_handlers:
        lines.append(
            f"handler      {user.email}  password {DEMO_PASSWORDS[Role.HANDLER]}"
            f"  ({user.unit.name})"
        )
    others = len(accounts.handlers) - len(key_handlers)
    if others > 0:
        lines.append(
            f"handler      … and {others} more: {demo_email('handler.<unit code>')}"
            f"  password {DEMO_PASSWORDS[Role.HANDLER]}"
        )
    return lines


# ---------------------------------------------------------------------------------------------
# Writing through the services


def apply_plan(
    plans: Iterable[PlannedMessage], accounts: DemoAccounts, progress: Progress = None
) -> int:
    """Bring each planned message to its state through the real services; returns how many."""
    plans = list(plans)
    # Only the boards in use: every commit expires what the session holds.
    codes = {p.board_code for p in plans}
    boards = {b.code: b for b in db.session.scalars(select(Board).where(Board.code.in_(codes)))}
    count = 0
    for plan in plans:
        _apply_one(plan, accounts, boards)
        count += 1
        if progress:
            progress(1)
    return count


def _apply_one(plan: PlannedMessage, accounts: DemoAccounts, boards: dict[str, Board]) -> Message:
    """Drive one message through submit → … → rate with the planned times."""
    author = accounts.citizens[plan.author]
    board = boards[plan.board_code]
    times = plan.times
    m = msg.submit_message(
        author,
        board=board,
        region=db.session.get(Region, plan.region_code),
        now=times["submit"],
        source=DEMO_SOURCE,
        **plan.submission(),
    )
    if plan.state == State.SUBMITTED:
        return m
    if plan.withdraw_from == State.SUBMITTED:
        return msg.withdraw_message(m, author, now=times["withdraw"])
    if plan.state == State.REJECTED:
        return msg.reject_message(
            m, accounts.moderator, reason=plan.reject_reason, now=times["screen"]
        )
    msg.approve_message(m, accounts.moderator, now=times["screen"])
    if plan.withdraw_from == State.RECEIVED:
        return msg.withdraw_message(m, author, now=times["withdraw"])
    for n in plan.cosigners:
        msg.cosign_message(m, accounts.citizens[n], now=times["cosign"])
    if plan.state != State.RECEIVED:
        _handle(m, plan, accounts, board)
    if plan.hide_reason and m.is_public:
        msg.hide_message(m, accounts.moderator, reason=plan.hide_reason, now=times["hide"])
    return m


def _handle(m: Message, plan: PlannedMessage, accounts: DemoAccounts, board: Board) -> None:
    """assign → accept → reply → sign-off → rate / follow the review path, as planned."""
    times, author = plan.times, accounts.citizens[plan.author]
    coordinator = accounts.coordinator_for(board)
    unit = db.session.scalar(select(Unit).where(Unit.code == plan.unit_code))
    msg.assign_message(m, unit, coordinator, now=times["assign"])
    handler = accounts.handler_for(unit)
    if plan.state == State.ASSIGNED:
        if plan.pending == "return":
            at = times["assign"] + timedelta(hours=2)
            msg.request_return(m, handler, reason="return:not_our_duty", note=RETURN_NOTE, now=at)
        return
    if plan.state == State.NOT_ACCEPTED:
        reason = "not_accept:court_or_arbitration"
        msg.not_accept_message(m, handler, reason=reason, now=times["not_accept"])
        return
    msg.accept_message(m, handler, now=times["accept"])
    if plan.state == State.IN_PROGRESS:
        body = plan.reply.replace("{unit}", unit.name) or INTERIM_TEXT
        if plan.pending == "extension":
            msg.request_extension(m, handler, reason=EXTENSION_REASON, now=times["pending"])
        elif plan.pending == "interim":
            msg.interim_reply(m, handler, body=INTERIM_TEXT, now=times["pending"])
        elif plan.pending == "signoff":
            outcome = plan.outcome or (Outcome.EXPLAINED if plan.track == Track.PETITION else None)
            msg.reply_message(m, handler, body=body, outcome=outcome, now=times["pending"])
        return
    body = plan.reply.replace("{unit}", unit.name)
    msg.reply_message(m, handler, body=body, outcome=plan.outcome, now=times["reply"])
    msg.sign_off_reply(m, coordinator, now=times["sign_off"])
    if plan.rating is not None:
        resolution, attitude, speed, comment = plan.rating
        msg.rate_message(
            m,
            author,
            resolution=resolution,
            attitude=attitude,
            speed=speed,
            comment=comment,
            now=times["rate"],
        )
    if plan.state == State.REOPENED:
        msg.reopen_message(m, coordinator, note=REOPEN_NOTE, now=times["reopen"])
    if plan.state == State.CLOSED and "close" in times:
        msg.close_lapsed_messages(times["close"])
    if plan.state not in REVIEW_STEPS:
        return
    msg.request_review(m, author, body=plan.review_request, now=times["request_review"])
    if plan.state == State.REVIEW_REQUESTED:
        return
    outcome = plan.review_outcome or Outcome.EXPLAINED
    reviewer = accounts.coordinator_for(_board_of_office(m.review_unit_id))
    body = plan.review_decision
    msg.decide_review(m, reviewer, body=body, outcome=outcome, now=times["decide_review"])
    if plan.state == State.REVIEWED:
        return
    msg.request_rereview(m, author, body=plan.rereview_request, now=times["request_rereview"])
    if plan.state == State.REREVIEW_REQUESTED:
        return
    reviewer = accounts.coordinator_for(_board_of_office(m.review_unit_id))
    body = plan.rereview_decision
    msg.decide_rereview(m, reviewer, body=body, outcome=outcome, now=times["decide_rereview"])


def _board_of_office(unit_id: int | None) -> Board:
    """The board whose coordinator office is this unit."""
    return db.session.scalar(select(Board).where(Board.office_unit_id == unit_id))


# ---------------------------------------------------------------------------------------------
# The whole seed


@dataclass
class DemoReport:
    """What a demo seed run added and found."""

    units_added: int = 0
    accounts_added: int = 0
    messages_added: int = 0
    messages_before: int = 0
    states: Counter = field(default_factory=Counter)
    accounts: DemoAccounts | None = None


def demo_message_count() -> int:
    """How many demo messages exist."""
    return db.session.scalar(
        select(func.count()).select_from(Message).where(Message.source == DEMO_SOURCE)
    )


def messages_to_add(wanted: int, *, force: bool) -> int:
    """`wanted` more with --force; otherwise only what is missing up to `wanted`."""
    return wanted if force else max(0, wanted - demo_message_count())


def add_demo_messages(
    count: int,
    accounts: DemoAccounts,
    *,
    now: datetime,
    seed: int = 2026,
    progress: Progress = None,
) -> int:
    """Plan and write `count` demo messages; the search index is left to the outbox."""
    if count <= 0:
        return 0
    scopes = demo_scopes()
    if not scopes:
        raise LookupError("no demo board found: load the regions first (flask seed regions)")
    rng = random.Random(f"{seed}:{demo_message_count()}")
    plans = plan_messages(count, scopes, now=now, rng=rng)
    inline = current_app.config.get("SEARCH_APPLY_INLINE", True)
    # Each service commit would index inline; leave the rows for `flask search sync` instead.
    current_app.config["SEARCH_APPLY_INLINE"] = False
    try:
        return apply_plan(plans, accounts, progress)
    finally:
        current_app.config["SEARCH_APPLY_INLINE"] = inline


def seed_demo(
    messages: int = 300, *, force: bool = False, now: datetime, seed: int = 2026
) -> DemoReport:
    """Units, accounts and messages for a demo; a second run adds only what is missing."""
    seed_reason_codes()
    report = DemoReport(messages_before=demo_message_count())
    report.units_added = ensure_demo_units()
    accounts = ensure_demo_accounts(now=now)
    report.messages_added = add_demo_messages(
        messages_to_add(messages, force=force), accounts, now=now, seed=seed
    )
    report.accounts_added = accounts.added
    report.accounts = accounts
    report.states = Counter(
        dict(
            db.session.execute(
                select(Message.state, func.count())
                .where(Message.source == DEMO_SOURCE)
                .group_by(Message.state)
            ).all()
        )
    )
    return report
