"""Planning demo messages: what each says, who writes it, where, and the state and times it
is brought to (`plan_messages`: pure, seeded, no database writes). `demo.apply_plan` drives the
plans through the real services; `bulk` writes the same plans as rows. The words come from
`board/seed/data/` (`texts`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from stdnum.cn import ric

from ..extensions import db
from ..models import (
    PUBLIC_STATES,
    Board,
    Domain,
    Kind,
    Outcome,
    Region,
    RegionLevel,
    State,
    Track,
    Unit,
)
from ..privacy import truncate_ip
from . import texts

DOMAIN_UNIT = {
    Domain.URBAN: "zj",
    Domain.TRANSPORT: "jt",
    Domain.RURAL: "nn",
    Domain.ENVIRONMENT: "hb",
    Domain.EDUCATION: "jy",
    Domain.HEALTH: "wj",
    Domain.SECURITY: "ga",
    Domain.TOURISM: "wl",
    Domain.EMPLOYMENT: "rs",
    Domain.CULTURE: "wl",
    Domain.FINANCE: "jr",
    Domain.BUSINESS: "sj",
    Domain.GOVERNMENT: "zw",
    Domain.OTHER: "mz",
}


def _is_municipality(region: Region | None) -> bool:
    """北京, 天津, 上海, 重庆: province-level cities."""
    return bool(region and region.level == RegionLevel.PROVINCE and region.name.endswith("市"))


# key, pen name, real name, phone, address (data/words.toml)
CITIZENS = texts.citizens()
# Boards the demo messages go to, with weights: mostly Zhejiang, some elsewhere.
DEMO_BOARDS: tuple[tuple[str, int], ...] = (
    ("330000-secretary", 6),
    ("330000-governor", 5),
    ("330100-secretary", 14),
    ("330100-governor", 10),
    ("330106-secretary", 8),
    ("330110-secretary", 5),
    ("330102-secretary", 4),
    ("330200-secretary", 6),
    ("330200-governor", 4),
    ("330300-secretary", 4),
    ("330782-secretary", 3),
    ("110000-secretary", 3),
    ("110000-governor", 2),
    ("440000-governor", 2),
    ("440100-secretary", 3),
    ("440300-governor", 2),
    ("510100-secretary", 2),
    ("320500-governor", 2),
    ("420000-secretary", 1),
)
# ---------------------------------------------------------------------------------------------
# Message templates


Template = texts.Template
BOARD_TEMPLATES = texts.templates("board")
PETITION_TEMPLATES = texts.templates("petition")
TAILS = texts.tails()
PERSONAL = texts.personal()
KIND_WEIGHTS = {
    Kind.COMPLAINT: 40,
    Kind.HELP: 22,
    Kind.INQUIRY: 20,
    Kind.SUGGESTION: 14,
    Kind.THANKS: 4,
    Kind.CLAIM: 50,
    Kind.OPINION: 35,
    Kind.REPORT: 15,
}

# Replies (data/replies.toml): put together in `compose_reply`.
_REPLIES = texts.load("replies")
OPENINGS: tuple[str, ...] = tuple(_REPLIES["openings"])
RECEIPTS: tuple[str, ...] = tuple(_REPLIES["receipts"])
CLOSINGS: tuple[str, ...] = tuple(_REPLIES["closings"])
REPLIES = {Domain(k): tuple(v) for k, v in _REPLIES["domain"].items()}
KIND_REPLIES = {Kind(k): tuple(v) for k, v in _REPLIES["kind"].items()}
PETITION_REPLIES = texts.by_outcome(
    {k: v for k, v in _REPLIES["petition"].items() if k != "closing"}
)
PETITION_CLOSING: str = _REPLIES["petition"]["closing"]
RATING_PROFILES = tuple(
    (row["weight"], tuple(row["scores"]), tuple(row["comments"])) for row in _REPLIES["rating"]
)
XQ = texts.words("xq")
ROADS = texts.words("roads")
COMPANIES = texts.words("companies")
SHOPS = texts.words("shops")
VILLAGES = texts.words("villages")
SCHOOLS = texts.words("schools")
HOSPITALS = texts.words("hospitals")
REJECT_REASONS = (
    "unclear",
    "multiple_matters",
    "wrong_board",
    "duplicate",
    "others_privacy",
    "advertising",
)
HIDE_REASONS = ("hide:privacy_leak", "hide:unlawful", "hide:author_request")
IP_PREFIXES = ("115.236", "60.191", "183.129", "112.10", "39.174", "223.104", "36.27", "122.224")

# Target states and their weights; every state appears once before weights apply.
STATE_WEIGHTS = {
    State.SUBMITTED: 6,
    State.REJECTED: 5,
    State.WITHDRAWN: 3,
    State.RECEIVED: 8,
    State.ASSIGNED: 8,
    State.IN_PROGRESS: 12,
    State.REPLIED: 18,
    State.CLOSED: 40,
    State.NOT_ACCEPTED: 2,
    State.REOPENED: 2,
    State.REVIEW_REQUESTED: 2,
    State.REVIEWED: 1,
    State.REREVIEW_REQUESTED: 1,
    State.REREVIEWED: 1,
}
# States only a petition (信访事项) reaches, and the one only a board message reaches.
PETITION_STATES = frozenset(
    {
        State.NOT_ACCEPTED,
        State.REVIEW_REQUESTED,
        State.REVIEWED,
        State.REREVIEW_REQUESTED,
        State.REREVIEWED,
    }
)
BOARD_STATES = frozenset({State.REOPENED})
# States whose message carries a signed-off reply.
ANSWERED = frozenset(
    {
        State.REPLIED,
        State.CLOSED,
        State.REOPENED,
        State.REVIEW_REQUESTED,
        State.REVIEWED,
        State.REREVIEW_REQUESTED,
        State.REREVIEWED,
    }
)
REVIEW_STEPS = (State.REVIEW_REQUESTED, State.REVIEWED, State.REREVIEW_REQUESTED, State.REREVIEWED)
REVIEW_REQUESTS: tuple[str, ...] = tuple(_REPLIES["review"]["requests"])
REREVIEW_REQUESTS: tuple[str, ...] = tuple(_REPLIES["review"]["rerequests"])
REVIEW_DECISIONS = texts.by_outcome(_REPLIES["review"]["decisions"])
REREVIEW_DECISIONS = texts.by_outcome(_REPLIES["review"]["redecisions"])
INTERIM_TEXT: str = _REPLIES["steps"]["interim"]
EXTENSION_REASON: str = _REPLIES["steps"]["extension"]
RETURN_NOTE: str = _REPLIES["steps"]["return_note"]
REOPEN_NOTE: str = _REPLIES["steps"]["reopen_note"]
# How long before `now` the message's last step happened, in days (min, max), per target state.
LAST_STEP_AGO = {
    State.SUBMITTED: (0.04, 2.5),
    State.REJECTED: (1, 700),
    State.WITHDRAWN: (1, 700),
    State.RECEIVED: (0.1, 5),
    State.ASSIGNED: (0.1, 4),
    State.IN_PROGRESS: (0.5, 20),
    State.REPLIED: (0.05, 25),
    State.CLOSED: (1, 700),
    State.NOT_ACCEPTED: (1, 300),
    State.REOPENED: (0.5, 15),
    State.REVIEW_REQUESTED: (0.5, 25),
    State.REVIEWED: (0.5, 25),
    State.REREVIEW_REQUESTED: (0.5, 25),
    State.REREVIEWED: (1, 500),
}


# ---------------------------------------------------------------------------------------------
# Planning


@dataclass(frozen=True)
class Place:
    """Where a problem occurred: a region and the codes from the board's region down to it."""

    region_code: str
    name: str  # 西湖区
    city: str  # 杭州市 (the region itself when it has no city above it)
    area: str  # 杭州市西湖区
    chain: tuple[str, ...]


@dataclass
class Scope:
    """A demo board, the places its messages are about and the units it can assign to."""

    board_code: str
    weight: int
    places: list[Place]
    domains: frozenset[Domain]
    unit_codes: frozenset[str]

    def units_for(self, place: Place, domain: Domain) -> list[str]:
        """Unit codes on the way from the board's region down to the place, for a domain."""
        suffix = DOMAIN_UNIT[domain]
        return [f"{c}-{suffix}" for c in place.chain if f"{c}-{suffix}" in self.unit_codes]


@dataclass
class PlannedMessage:
    """One demo message: its content, the state to bring it to, and when each step happens."""

    board_code: str
    region_code: str
    author: int  # index into the demo citizens
    track: Track
    kind: Kind
    domain: Domain
    title: str
    body: str
    private_note: str
    wants_public: bool
    state: State
    times: dict[str, datetime]
    ip: str | None = None
    unit_code: str | None = None
    reply: str = ""
    outcome: Outcome | None = None
    rating: tuple[int, int, int, str] | None = None
    reject_reason: str | None = None
    withdraw_from: State | None = None
    hide_reason: str | None = None
    cosigners: list[int] = field(default_factory=list)
    # While handling: "signoff" (a reply waits for the coordinator), "extension" or "return"
    # (a request waits), "interim" (an interim reply was published) — or nothing.
    pending: str | None = None
    review_request: str = ""
    review_decision: str = ""
    review_outcome: Outcome | None = None
    rereview_request: str = ""
    rereview_decision: str = ""

    def submission(self) -> dict:
        """What the author writes and chooses on the submit form (`submit_message`'s keyword
        arguments besides the board, the region and the time)."""
        return {name: getattr(self, name) for name in SUBMITTED_FIELDS}


SUBMITTED_FIELDS = (
    "track",
    "kind",
    "domain",
    "title",
    "body",
    "private_note",
    "wants_public",
    "ip",
)


def demo_scopes() -> list[Scope]:
    """The demo boards present in the directory, with their places and units."""
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    children: dict[str, list[Region]] = {}
    for region in regions.values():
        if region.parent_code:
            children.setdefault(region.parent_code, []).append(region)
    unit_codes = frozenset(db.session.scalars(select(Unit.code).where(Unit.is_office.is_(False))))
    scopes = []
    for code, weight in DEMO_BOARDS:
        board = db.session.scalar(select(Board).where(Board.code == code))
        if board is None:
            continue
        root = board.region
        leaves: list[Region] = []
        stack = [root]
        while stack:
            region = stack.pop()
            below = children.get(region.code, [])
            if below:
                stack.extend(below)
            else:
                leaves.append(region)
        places = []
        for leaf in sorted(leaves, key=lambda r: r.code):
            codes = leaf.path.split("/")
            chain = tuple(codes[codes.index(root.code) :])
            parent = regions.get(leaf.parent_code) if leaf.parent_code else None
            has_city = parent is not None and (
                parent.level == RegionLevel.CITY or _is_municipality(parent)
            )
            city = parent.name if has_city else leaf.name
            area = f"{parent.name}{leaf.name}" if has_city else leaf.name
            places.append(Place(leaf.code, leaf.name, city, area, chain))
        domains = frozenset(d for d, s in DOMAIN_UNIT.items() if f"{root.code}-{s}" in unit_codes)
        if places and domains:
            scopes.append(Scope(code, weight, places, domains, unit_codes))
    return scopes


def _id_number(rng: random.Random, region_code: str) -> str:
    """A resident ID number that python-stdnum accepts, born in the region when it knows it."""
    for code in (region_code, region_code, "330106"):
        born = datetime(1985, 1, 1) + timedelta(days=rng.randint(0, 20 * 365))
        first = f"{code}{born:%Y%m%d}{rng.randint(10, 999):03d}"
        number = first + ric.calc_check_digit(first + "0")  # the function skips the last digit
        try:
            if ric.is_valid(number):
                return number
        except KeyError:  # stdnum's birth-place table lacks a few recent codes
            continue
    return number


def _phone(rng: random.Random) -> str:
    """A mobile number of the usual shape."""
    return f"1{rng.choice('3456789')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


def _slots(rng: random.Random, place: Place, citizen: tuple, now: datetime) -> dict[str, object]:
    """Values for a template's slots, drawn once per message."""
    road, road2 = rng.sample(ROADS, 2)
    fee1 = rng.choice((1.8, 2.2, 2.5, 2.8, 3.2))
    when = now - timedelta(days=rng.randint(3, 60))
    return {
        "place": place.name,
        "city": place.city,
        "area": place.area,
        "xq": rng.choice(XQ),
        "road": road,
        "road2": road2,
        "company": f"{place.city.removesuffix('市')}{rng.choice(COMPANIES)}",
        "shop": rng.choice(SHOPS),
        "village": rng.choice(VILLAGES),
        "school": f"{place.name}{rng.choice(SCHOOLS)}",
        "hospital": f"{place.city}{rng.choice(HOSPITALS)}",
        "bus": rng.randint(2, 399),
        "n": rng.randint(6, 60),
        "m": rng.randint(2, 8),
        "year": now.year - rng.randint(1, 4),
        "fee1": fee1,
        "fee2": round(fee1 + rng.choice((0.5, 0.8, 1.2)), 1),
        "fee3": rng.choice((600, 800, 1200, 1500)),
        "amount": rng.choice((3800, 12600, 26800, 56000, 138000)),
        "date": f"{when.month}月{when.day}日",
        "real_name": citizen[2],
    }


def _personal_data(rng: random.Random, place: Place, citizen: tuple, template: Template) -> str:
    """A sentence with an ID number or phone number (or a plate where a vehicle is the
    matter), for the masking to find."""
    values = {
        "phone": citizen[3],
        "id_number": _id_number(rng, place.region_code),
        "mobile": _phone(rng),
        "plate": f"浙A{rng.choice('BCDFGHK')}{rng.randint(1000, 9999)}",
    }
    kinds = ["phone", "id_number", "call"] + (["plate"] if template.plate else [])
    return PERSONAL[rng.choice(kinds)].format(**values)


def _skeleton(template: Template, tail: str, personal: str) -> tuple:
    """What a body reads like once its slot values are set aside: two bodies with the same
    skeleton read as the same message about another road or estate."""
    return (template.title, template.body, tail, personal[:4])


def compose_reply(
    rng: random.Random, template: Template, track: Track, outcome: Outcome | None
) -> str:
    """A reply as the real boards write one: an opening (the only greeting), a line saying
    the message was received, the substance, a closing line; {title}, {unit} and {pen_name}
    are left for the caller. A petition's substance is its outcome's opinion, then how to ask
    for a review; a board reply's is the template's own lines, else its kind's, else its
    domain's."""
    opening = rng.choice(OPENINGS)
    if track == Track.PETITION:
        return opening + rng.choice(PETITION_REPLIES[outcome]) + PETITION_CLOSING
    substance = rng.choice(
        template.replies
        or KIND_REPLIES.get(template.kind)
        or REPLIES.get(template.domain)
        or REPLIES[Domain.OTHER]
    )
    if template.kind == Kind.THANKS:
        return opening + substance
    receipts = RECEIPTS
    if template.kind not in (Kind.COMPLAINT, Kind.HELP):  # nothing was reported or checked
        receipts = tuple(r for r in RECEIPTS if "反映" not in r and "调查" not in r)
    return opening + rng.choice(receipts) + substance + rng.choice(CLOSINGS)


def _weighted(rng: random.Random, items: list, weights: list) -> object:
    """One item drawn by weight."""
    return rng.choices(items, weights=weights, k=1)[0]


def _timeline(
    rng: random.Random, state: State, withdraw_from: State | None, now: datetime
) -> dict[str, datetime]:
    """When each step happens: offsets forward from submission, anchored before `now`."""
    hours = timedelta(hours=1)
    steps: list[tuple[str, timedelta]] = [("submit", timedelta(0))]
    if state == State.WITHDRAWN and withdraw_from == State.SUBMITTED:
        steps.append(("withdraw", hours * rng.uniform(1, 20)))
    elif state != State.SUBMITTED:
        steps.append(("screen", hours * rng.uniform(1, 30)))
    if state == State.WITHDRAWN and withdraw_from == State.RECEIVED:
        steps.append(("withdraw", hours * rng.uniform(1, 48)))
    if state in ANSWERED | {State.ASSIGNED, State.IN_PROGRESS, State.NOT_ACCEPTED}:
        steps.append(("assign", hours * rng.uniform(2, 72)))
    if state == State.NOT_ACCEPTED:
        steps.append(("not_accept", hours * rng.uniform(24, 300)))
    if state in ANSWERED | {State.IN_PROGRESS}:
        steps.append(("accept", hours * rng.uniform(1, 48)))
    if state == State.IN_PROGRESS:
        steps.append(("pending", hours * rng.uniform(4, 96)))
    if state in ANSWERED:
        steps.append(("reply", timedelta(days=rng.triangular(1, 30, 8))))
        steps.append(("sign_off", hours * rng.uniform(2, 72)))
    if state in (State.CLOSED, State.REOPENED):
        steps.append(("rate", hours * rng.uniform(2, 360)))
    if state == State.REOPENED:
        steps.append(("reopen", hours * rng.uniform(4, 72)))
    if state in REVIEW_STEPS:
        steps.append(("request_review", timedelta(days=rng.uniform(1, 25))))
    if state in REVIEW_STEPS[1:]:
        steps.append(("decide_review", timedelta(days=rng.uniform(5, 28))))
    if state in REVIEW_STEPS[2:]:
        steps.append(("request_rereview", timedelta(days=rng.uniform(1, 25))))
    if state == State.REREVIEWED:
        steps.append(("decide_rereview", timedelta(days=rng.uniform(5, 28))))
    total = sum((d for _, d in steps), timedelta(0))
    low, high = LAST_STEP_AGO[state]
    lag = timedelta(days=rng.uniform(low, high))
    moment = now - lag - total
    times = {}
    for name, delta in steps:
        moment += delta
        times[name] = moment
    # Optional later steps, always before `now`.
    times["hide"] = moment + lag * rng.uniform(0.2, 0.6)
    published = times.get("screen", moment)
    times["cosign"] = published + (now - published) * rng.uniform(0.05, 0.5)
    return times


def _draw_content(
    rng: random.Random, pool: list[Template], track: Track, place: Place, now: datetime, seen: set
) -> tuple[Template, int, str, str]:
    """Template, author, title and body of a message that reads like no earlier one in `seen`
    (not the same template with the same ending on another road): a few weighted draws, then
    any template and ending not used yet; only when every one is used (large seeds) a repeat."""

    def draw(template: Template, tail: str | None = None) -> tuple:
        author = rng.randrange(len(CITIZENS))
        citizen = CITIZENS[author]
        slots = _slots(rng, place, citizen, now)
        if tail is None:
            tail = rng.choice(TAILS.get(template.kind) or ("",))
        personal = ""
        if track == Track.BOARD and rng.random() < 0.18:
            personal = _personal_data(rng, place, citizen, template)
        body = template.body.format(**slots) + tail + personal
        return template, author, template.title.format(**slots)[:40], body, tail, personal

    def fresh(found: tuple) -> bool:
        return _skeleton(found[0], found[4], found[5]) not in seen and found[3] not in seen

    weights = [KIND_WEIGHTS[t.kind] for t in pool]
    found = next(
        (c for c in (draw(_weighted(rng, pool, weights)) for _ in range(8)) if fresh(c)), None
    )
    if found is None:
        unused = [
            (t, tail)
            for t in pool
            for tail in TAILS.get(t.kind) or ("",)
            if _skeleton(t, tail, "") not in seen
        ]
        found = draw(*rng.choice(unused)) if unused else draw(_weighted(rng, pool, weights))
    template, author, title, body, tail, personal = found
    seen.add(_skeleton(template, tail, personal))
    seen.add(body)
    return template, author, title, body


def plan_messages(
    count: int, scopes: list[Scope], *, now: datetime, rng: random.Random
) -> list[PlannedMessage]:
    """Plan `count` demo messages over the scopes; every state is covered once count ≥ 8."""
    if not scopes:
        return []
    states = list(STATE_WEIGHTS)
    cover = rng.sample(states, len(states))
    plans = []
    seen_bodies: set = set()  # bodies and their skeletons
    for i in range(count):
        state = cover[i] if i < len(cover) else _weighted(rng, states, list(STATE_WEIGHTS.values()))
        scope = _weighted(rng, scopes, [s.weight for s in scopes])
        place = rng.choice(scope.places)
        track = Track.PETITION if rng.random() < 0.12 else Track.BOARD
        if state in PETITION_STATES:
            track = Track.PETITION
        elif state in BOARD_STATES:
            track = Track.BOARD
        pool = PETITION_TEMPLATES if track == Track.PETITION else BOARD_TEMPLATES
        pool = [t for t in pool if t.domain in scope.domains and scope.units_for(place, t.domain)]
        if not pool:
            if state in PETITION_STATES:
                state = State.REPLIED  # no petition fits this place: an answered board message
            track = Track.BOARD
            pool = [
                t
                for t in BOARD_TEMPLATES
                if t.domain in scope.domains and scope.units_for(place, t.domain)
            ]
        template, author, title, body = _draw_content(rng, pool, track, place, now, seen_bodies)
        citizen = CITIZENS[author]
        private_note = ""
        if rng.random() < 0.3:
            private_note = f"联系人：{citizen[2]}，电话{citizen[3]}，住址{citizen[4]}。"
        withdraw_from = None
        if state == State.WITHDRAWN:
            withdraw_from = rng.choice((State.SUBMITTED, State.RECEIVED))
        units = scope.units_for(place, template.domain)
        # County-level units take most of the work, as on the real boards.
        unit_code = units[-1] if rng.random() < 0.6 else rng.choice(units)
        plan = PlannedMessage(
            board_code=scope.board_code,
            region_code=place.region_code,
            author=author,
            track=track,
            kind=template.kind,
            domain=template.domain,
            title=title,
            body=body,
            private_note=private_note,
            wants_public=rng.random() >= 0.1,
            state=state,
            times=_timeline(rng, state, withdraw_from, now),
            ip=truncate_ip(
                f"{rng.choice(IP_PREFIXES)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            ),
            unit_code=unit_code,
            withdraw_from=withdraw_from,
        )
        if state == State.REJECTED:
            plan.reject_reason = rng.choice(REJECT_REASONS)
        if track == Track.PETITION and (state in ANSWERED or state == State.IN_PROGRESS):
            plan.outcome = rng.choice(list(Outcome))
        if state in ANSWERED or state == State.IN_PROGRESS:  # in progress: a reply may wait
            reply = compose_reply(rng, template, track, plan.outcome)
            plan.reply = reply.format(title=title, unit="{unit}", pen_name=CITIZENS[author][1])
        if state == State.CLOSED and track == Track.PETITION:
            # A petition closes when its review window lapses (flask deadlines tick).
            plan.times["close"] = plan.times["sign_off"] + timedelta(days=45)
            late = plan.times["close"] - (now - timedelta(hours=1))
            if late > timedelta(0):  # everything earlier, so the window lapsed before `now`
                plan.times = {step: moment - late for step, moment in plan.times.items()}
        elif state in (State.CLOSED, State.REOPENED):
            profiles = list(RATING_PROFILES)
            if state == State.REOPENED:  # only a dissatisfied author's message is re-handled
                profiles = [p for p in profiles if sum(p[1]) <= 7]
            profile = _weighted(rng, profiles, [p[0] for p in profiles])
            resolution, attitude, speed = profile[1]
            plan.rating = (resolution, attitude, speed, rng.choice(profile[2]))
        if state == State.IN_PROGRESS:
            plan.pending = _weighted(
                rng, [None, "signoff", "extension", "interim"], [55, 20, 10, 15]
            )
        elif state == State.ASSIGNED and rng.random() < 0.15:
            plan.pending = "return"
        if state in REVIEW_STEPS:
            plan.review_request = rng.choice(REVIEW_REQUESTS)
            plan.review_outcome = rng.choice(list(Outcome))
            plan.review_decision = rng.choice(REVIEW_DECISIONS[plan.review_outcome])
            plan.rereview_request = rng.choice(REREVIEW_REQUESTS)
            # The re-review decides with the review's outcome (see `_handle`).
            plan.rereview_decision = rng.choice(REREVIEW_DECISIONS[plan.review_outcome])
        publishable = plan.wants_public and plan.kind != Kind.REPORT
        if publishable and state in ANSWERED and rng.random() < 0.04:
            plan.hide_reason = rng.choice(HIDE_REASONS)
        if publishable and state in PUBLIC_STATES and rng.random() < 0.25:
            others = [n for n in range(len(CITIZENS)) if n != author]
            plan.cosigners = rng.sample(others, rng.randint(1, 3))
        plans.append(plan)
    _ensure_variety(plans, rng)
    return plans


def _ensure_variety(plans: list[PlannedMessage], rng: random.Random) -> None:
    """Make sure a demo shows at least one hidden and one private published message."""
    answered = [
        p for p in plans if p.state in ANSWERED and p.wants_public and p.kind != Kind.REPORT
    ]
    if answered and not any(p.hide_reason for p in plans):
        answered[0].hide_reason = rng.choice(HIDE_REASONS)
    published = [p for p in plans if p.state in PUBLIC_STATES and not p.hide_reason]
    if len(published) > 1 and all(p.wants_public and p.kind != Kind.REPORT for p in published):
        published[-1].wants_public = False
        published[-1].cosigners = []
