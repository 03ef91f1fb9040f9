"""Public listings with filters, read from a query string the way the search page writes it.

The same parameter names serve the region, board and unit pages, the search page, the Atom feeds
and the CSV / JSON Lines downloads, so a listing's URL parameters can be handed to its feed and
its download unchanged: `region`, `board`, `unit`, `kind`, `domain`, `topic` (a first-level
topic by id or name, as the search takes it: the messages filed under it or any topic below it),
`state` (one state or several, comma-separated), `replied` (`yes` / `no`), `from` / `to` (Beijing
publication dates, inclusive) and `q` (words, answered by the search index).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from ..errors import NotFound
from ..extensions import db
from ..intel.models import PATH_SEPARATOR, Topic
from ..models import (
    PUBLIC_STATES,
    STATE_LABELS,
    Board,
    Domain,
    Kind,
    Message,
    Region,
    Reply,
    State,
    Unit,
)
from ..search.query import matching_codes
from ..search.topics import resolve_topic
from .services import day_start, public_condition, within

# The filters that narrow a listing or a search to some messages (search names its dates
# `date_from`/`date_to`, the listing and saved searches `from`/`to`).
NARROWING = ("region", "board", "unit", "kind", "domain", "topic", "state", "replied")
FILTER_NAMES = (*NARROWING, "from", "to", "q")


@dataclass
class Filters:
    """A validated listing filter; what did not validate is left out (or NotFound if strict)."""

    region: Region | None = None
    board: Board | None = None
    unit: Unit | None = None
    kind: str | None = None
    domain: str | None = None
    topic: Topic | None = None  # a first-level topic: its subtopics are included
    states: list[str] = field(default_factory=list)
    replied: bool | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments (what `read` reads back)."""
        out: dict[str, str] = {}
        if self.region is not None:
            out["region"] = self.region.code
        if self.board is not None:
            out["board"] = self.board.code
        if self.unit is not None:
            out["unit"] = self.unit.code
        if self.kind:
            out["kind"] = self.kind
        if self.domain:
            out["domain"] = self.domain
        if self.topic is not None:
            out["topic"] = str(self.topic.id)
        if self.states:
            out["state"] = ",".join(self.states)
        if self.replied is not None:
            out["replied"] = "yes" if self.replied else "no"
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.q:
            out["q"] = self.q
        return out

    def search_filters(self) -> dict:
        """The filters as `board.search.query.search_messages` takes them."""
        found: dict = {}
        for name in ("region", "board", "unit"):
            value = getattr(self, name)
            if value is not None:
                found[name] = value.code
        for name in ("kind", "domain"):
            if getattr(self, name):
                found[name] = getattr(self, name)
        if self.topic is not None:
            found["topic"] = str(self.topic.id)  # the search indexes the first-level topic's id
        if self.states:
            found["state"] = list(self.states)
        if self.replied is not None:
            found["replied"] = self.replied
        if self.date_from:
            found["date_from"] = self.date_from
        if self.date_to:
            found["date_to"] = self.date_to
        return found


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _with_same_label(states: list[str]) -> list[str]:
    """The states and every public state the public sees under the same label (待回复 = received
    + assigned), in workflow order."""
    labels = {str(STATE_LABELS[State(s)]) for s in states}
    return [s.value for s in State if s in PUBLIC_STATES and str(STATE_LABELS[s]) in labels]


def _topic(raw: str, *, strict: bool) -> Topic | None:
    """The first-level topic a `topic` argument names (its id or its name, as the search reads
    it); None without one. A value naming none is dropped, or refused when `strict`."""
    if not raw:
        return None
    value = resolve_topic(raw) if "\x00" not in raw else None  # PostgreSQL refuses NUL
    topic = db.session.get(Topic, int(value)) if value is not None else None
    if topic is None and strict:
        raise NotFound(_("没有这个一级主题分类。"))
    return topic


def read(args: Mapping[str, str], *, strict: bool = False, **fixed) -> Filters:
    """Filters from query arguments; `fixed` (region=, board=, unit=) wins over the arguments.

    Unknown codes are dropped, or raise NotFound when `strict` (a download or feed naming a board
    that does not exist should say so rather than silently widen to everything)."""

    def text(name: str) -> str:
        value = args.get(name) or ""
        return value.strip()[:200] if "\x00" not in value else ""

    found = Filters()
    lookups = (("region", Region, None), ("board", Board, Board.code), ("unit", Unit, Unit.code))
    for name, model, column in lookups:
        if name in fixed:
            setattr(found, name, fixed[name])
            continue
        code = text(name)
        if not code:
            continue
        if column is None:
            row = db.session.get(model, code) if len(code) <= 6 else None
        else:
            row = (
                db.session.scalar(select(model).where(column == code)) if len(code) <= 40 else None
            )
        if row is None and strict:
            raise NotFound()
        setattr(found, name, row)
    kind, domain = text("kind"), text("domain")
    found.kind = kind if kind in {k.value for k in Kind} else None
    found.domain = domain if domain in {d.value for d in Domain} else None
    found.topic = _topic((args.get("topic") or "").strip(), strict=strict)
    found.states = _with_same_label([s for s in text("state").split(",") if s in PUBLIC_STATES])
    replied = text("replied").lower()
    found.replied = (
        True
        if replied in ("yes", "true", "1")
        else False
        if replied in ("no", "false", "0")
        else None
    )
    found.date_from = _date(text("from"))
    found.date_to = _date(text("to"))
    found.q = text("q")
    return found


def query(filters: Filters) -> Select:
    """Public messages matching the filters (not `q`), newest published first."""
    return (
        select(Message)
        .where(*conditions(filters))
        .order_by(Message.published_at.desc(), Message.id.desc())
    )


def conditions(filters: Filters) -> list:
    """SQL conditions on Message: a public case matching the filters (not `q`)."""
    conds = [public_condition()]
    if filters.region is not None:
        conds.append(within(Message.region_path, filters.region.path))
    if filters.board is not None:
        conds.append(Message.board_id == filters.board.id)
    if filters.unit is not None:
        conds.append(Message.unit_id == filters.unit.id)
    if filters.kind:
        conds.append(Message.kind == filters.kind)
    if filters.domain:
        conds.append(Message.domain == filters.domain)
    if filters.topic is not None:
        conds.append(Message.topic_id.in_(subtree(filters.topic)))
    if filters.states:
        conds.append(Message.state.in_(filters.states))
    if filters.replied is True:
        conds.append(Message.replied_at.is_not(None))
    elif filters.replied is False:
        conds.append(Message.replied_at.is_(None))
    if filters.date_from:
        conds.append(Message.published_at >= day_start(filters.date_from))
    if filters.date_to:
        conds.append(Message.published_at < day_start(filters.date_to + timedelta(days=1)))
    return conds


def subtree(topic: Topic) -> Select:
    """Ids of the topic and every topic below it (by path, so a renamed branch still matches)."""
    return select(Topic.id).where(
        (Topic.id == topic.id) | Topic.path.startswith(topic.path + PATH_SEPARATOR, autoescape=True)
    )


ROW_LOADS = (
    selectinload(Message.board),
    selectinload(Message.region),
    selectinload(Message.unit),
    selectinload(Message.author),
    selectinload(Message.replies).selectinload(Reply.unit),
)


def matching_ids(filters: Filters, limit: int | None = None) -> Iterator[int]:
    """Ids of the public messages matching the filters and `q`, newest first, in batches.

    Without words, keyset batches over the database (constant memory). With words, the search
    index answers (it holds public, masked text only) and its hits are re-checked as public."""
    if filters.q:
        codes = matching_codes(filters.q, filters.search_filters(), limit=limit)
        for start in range(0, len(codes), 500):
            chunk = codes[start : start + 500]
            rows = dict(
                db.session.execute(
                    select(Message.code, Message.id).where(
                        Message.code.in_(chunk), public_condition()
                    )
                ).all()
            )
            yield from (rows[c] for c in chunk if c in rows)
        return
    base = query(filters).with_only_columns(Message.id, Message.published_at)
    last = None
    sent = 0
    while True:
        batch = base
        if last is not None:
            published, ident = last
            batch = batch.where(
                (Message.published_at < published)
                | ((Message.published_at == published) & (Message.id < ident))
            )
        rows = db.session.execute(batch.limit(1000)).all()
        if not rows:
            return
        for ident, _published in rows:
            yield ident
            sent += 1
            if limit is not None and sent >= limit:
                return
        last = (rows[-1][1], rows[-1][0])


def _forget(messages: list[Message]) -> None:
    """Drop streamed messages (and their replies and authors) from the session's identity map."""
    from flask_login import current_user

    me = getattr(current_user, "id", None)
    for message in messages:
        for reply in message.replies:
            db.session.expunge(reply)
        author = message.author
        if author is not None and author in db.session and author.id != me:
            db.session.expunge(author)
        db.session.expunge(message)


def batches(ids: Iterator[int], size: int = 500) -> Iterator[list[Message]]:
    """Messages for the ids in order, loaded `size` at a time, the session cleared between."""
    chunk: list[int] = []

    def load(wanted: list[int]) -> list[Message]:
        found = {
            m.id: m
            for m in db.session.scalars(
                select(Message).where(Message.id.in_(wanted)).options(*ROW_LOADS)
            )
        }
        return [found[i] for i in wanted if i in found and found[i].is_public]

    for ident in ids:
        chunk.append(ident)
        if len(chunk) >= size:
            loaded = load(chunk)
            yield loaded
            _forget(loaded)
            chunk = []
    if chunk:
        yield load(chunk)
