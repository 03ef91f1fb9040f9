"""A known dataset for the open-data tests: cases with replies, answer clocks, ratings and events.

Rows are written directly (not through the workflow services) so that the figures the tests
expect can be computed independently, in plain Python, from exactly what was stored.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from board.extensions import db
from board.models import (
    Board,
    Clock,
    Cosign,
    Event,
    Message,
    Rating,
    Region,
    Reply,
    Unit,
    User,
)

NOW = datetime(2026, 3, 20, 2, 0, 0)  # 2026-03-20 10:00 Beijing
SECRET_TITLE = "私密留言不得公开"
HIDDEN_TITLE = "已屏蔽留言不得公开"
SECRET_BODY = "这是一条私密留言的正文，任何公开页面都不应出现。"


def beijing_date(moment: datetime) -> date:
    """The Beijing date of a naive-UTC moment (UTC+8, no daylight saving)."""
    return (moment + timedelta(hours=8)).date()


@dataclass
class ClockRow:
    """What the test stored for one answer clock."""

    policy: str
    due_on: date
    state: str
    closed_at: datetime | None


@dataclass
class Case:
    """What the test stored for one message."""

    code: str
    board: str
    unit: str | None
    region: str
    kind: str
    domain: str
    public: bool
    created_at: datetime
    published_at: datetime
    replied_at: datetime | None
    outcome: str | None = None
    rating: tuple[int, int, int] | None = None
    clocks: list[ClockRow] = field(default_factory=list)
    cosigns: int = 0
    title: str = ""


def build(n: int = 60, seed: int = 7) -> list[Case]:
    """Write `n` public cases plus a private and a hidden one; returns what was written."""
    rng = random.Random(seed)
    boards = {b.code: b for b in db.session.scalars(select(Board))}
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    author = User(
        email="opendata-author@example.org",
        password_hash="x",
        pen_name="张三丰",
        real_name="张真人",
        phone="13800001111",
        created_at=NOW - timedelta(days=400),
    )
    db.session.add(author)
    db.session.flush()
    layout = [
        ("330100-secretary", "330106", "330100-zj"),
        ("330100-secretary", "330127", "330100-jt"),
        ("330106-secretary", "330106", "330106-zj"),
        ("440100-secretary", "440106", "440100-zj"),
    ]
    kinds = ["complaint", "inquiry", "suggestion", "help"]
    domains = ["urban", "transport", "education"]
    cases: list[Case] = []
    for i in range(n + 2):
        board_code, region_code, unit_code = layout[i % len(layout)]
        created = datetime(2026, 1, 3, 1, 0) + timedelta(hours=17 * i + rng.randint(0, 5))
        published = created + timedelta(hours=2)
        replied = None
        if rng.random() < 0.7 and published + timedelta(days=2) < NOW:
            replied = created + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 23))
            if replied >= NOW:
                replied = None
        public = i < n
        hidden = i == n + 1
        title = f"公开案例{i:03d}"
        if i == n:
            title = SECRET_TITLE
        if hidden:
            title = HIDDEN_TITLE
        kind = kinds[i % len(kinds)]
        outcome = rng.choice(["supported", "explained", None]) if replied else None
        case = Case(
            code=f"MS-2026-T{i:05d}",
            board=board_code,
            unit=unit_code,
            region=region_code,
            kind=kind,
            domain=domains[i % len(domains)],
            public=public,
            created_at=created,
            published_at=published,
            replied_at=replied,
            outcome=outcome,
            title=title,
        )
        state = "replied" if replied else "in_progress"
        region = regions[region_code]
        message = Message(
            code=case.code,
            track="board",
            kind=kind,
            domain=case.domain,
            board_id=boards[board_code].id,
            region_code=region_code,
            region_path=region.path,
            title=title,
            body=SECRET_BODY if not public else f"{title}的正文，反映情况，电话13912345678。",
            private_note="备注不公开",
            visibility="public" if (public or hidden) else "private",
            is_hidden=hidden,
            state=state,
            author_id=author.id,
            pen_name=author.pen_name,
            unit_id=units[unit_code].id,
            created_at=created,
            published_at=published,
            assigned_at=published + timedelta(hours=1),
            replied_at=replied,
            updated_at=replied or published,
        )
        db.session.add(message)
        db.session.flush()
        # The answer clock: due 10 days after assignment; met when replied, else open.
        start = beijing_date(published + timedelta(hours=1))
        due = start + timedelta(days=10)
        if replied:
            clock = ClockRow("board_reply_long", due, "met", replied)
        else:
            clock = ClockRow("board_reply_long", due, "open", None)
        clocks = [clock]
        if i % 9 == 0:  # an earlier clock stopped by a transfer: never counted
            clocks.insert(
                0, ClockRow("board_reply_short", start + timedelta(days=3), "stopped", published)
            )
        for c in clocks:
            db.session.add(
                Clock(
                    message_id=message.id,
                    policy=c.policy,
                    started_on=start,
                    due_on=c.due_on,
                    double_due_on=c.due_on + timedelta(days=10),
                    days=10,
                    unit="calendar",
                    state=c.state,
                    explanation="[]",
                    created_at=published,
                    closed_at=c.closed_at,
                )
            )
        # A rating-window clock, never an answer clock: must not count.
        db.session.add(
            Clock(
                message_id=message.id,
                policy="rating_window",
                started_on=start,
                due_on=start,
                double_due_on=start,
                days=30,
                unit="calendar",
                state="met",
                explanation="[]",
                created_at=published,
                closed_at=published + timedelta(days=40),
            )
        )
        case.clocks = clocks
        db.session.add(
            Event(
                message_id=message.id,
                action="assign",
                from_state="received",
                to_state="assigned",
                note="",
                is_public=True,
                created_at=published + timedelta(hours=1),
            )
        )
        if i % 5 == 0:
            for _ in range(2):
                db.session.add(
                    Event(
                        message_id=message.id,
                        action="urge",
                        note="请加快办理",
                        is_public=False,
                        created_at=published + timedelta(days=1),
                    )
                )
        if replied:
            db.session.add(
                Reply(
                    message_id=message.id,
                    unit_id=units[unit_code].id,
                    body=f"答复{case.code}：已核实处理。",
                    outcome=outcome,
                    state="published",
                    created_at=replied,
                    published_at=replied,
                )
            )
            if rng.random() < 0.6:
                case.rating = (rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5))
                res, att, spd = case.rating
                db.session.add(
                    Rating(
                        message_id=message.id,
                        author_id=author.id,
                        resolution=res,
                        attitude=att,
                        speed=spd,
                        created_at=replied + timedelta(days=1),
                    )
                )
        if i % 7 == 0:
            case.cosigns = 1 + i % 3
            for k in range(case.cosigns):
                voter = User(
                    email=f"voter{i}-{k}@example.org",
                    password_hash="x",
                    pen_name=f"附议人{i}{k}",
                    created_at=NOW - timedelta(days=100),
                )
                db.session.add(voter)
                db.session.flush()
                db.session.add(
                    Cosign(
                        message_id=message.id, user_id=voter.id, created_at=NOW - timedelta(days=1)
                    )
                )
            message.cosign_count = case.cosigns
        cases.append(case)
    db.session.commit()
    return cases


# ---------------------------------------------------------------------------------------------
# Independent computations


def quantile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between order statistics (numpy's default, percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (position - lower) * (ordered[upper] - ordered[lower])


def expected(cases: list[Case], now: datetime = NOW) -> dict:
    """The figures of these cases, computed from what was stored."""
    public = [c for c in cases if c.public]
    replied = [c for c in public if c.replied_at]
    days = [(c.replied_at - c.created_at).total_seconds() / 86400 for c in replied]
    today = beijing_date(now)
    decided = on_time = overdue = 0
    for c in public:
        late_open = False
        for clock in c.clocks:
            if clock.policy not in ("board_reply_short", "board_reply_long", "petition_handling"):
                continue
            if clock.state == "met":
                decided += 1
                on_time += beijing_date(clock.closed_at) <= clock.due_on
            elif clock.state == "open" and clock.due_on < today:
                decided += 1
                late_open = True
        overdue += late_open
    ratings = [c.rating for c in public if c.rating]
    return {
        "messages": len(public),
        "replied": len(replied),
        "on_time": (on_time, decided),
        "median": quantile(days, 0.5),
        "p90": quantile(days, 0.9),
        "overdue": overdue,
        "ratings": len(ratings),
        "composite": sum(sum(r) for r in ratings) / 3 / len(ratings) if ratings else None,
    }
