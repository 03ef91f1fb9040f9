"""Staff search over the database, within the searching staff member's scope.

Never through the public index (it holds public, masked text only). The query language is the
public one's subset: words (ANDed), "phrases", `OR` between two items, `-word` / `NOT word` to
exclude, and `field:value` filters (state, kind, domain, track, unit, board, region, visibility,
code); a tracking code alone finds that case. Chinese words are segmented with the public
search's jieba dictionary and every segment must occur (停车收费 finds 停车管理费收费), so word
order and inserted words do not hide a case; a phrase must occur as typed.

Scope is the SQL condition of `can_view` for staff: a handler their unit's cases, a coordinator
their boards' cases and those their unit reviews, moderators and admins all. Private fields (the
private note, the petitioner's name, phone and address, the pen name of a 检举控告 report) are
searched only where the searcher may read them (`can_see_private_fields`); where they may only
read the masked text, every term is checked again against that masked text, so a search can
never confirm a number the searcher is not shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, and_, case, exists, false, func, not_, or_, select, true
from sqlalchemy.orm import selectinload

from ..errors import PermissionDenied
from ..extensions import db
from ..messages import services as msg
from ..models import Board, Event, Message, Region, Reply, Unit, User
from ..models.vocab import Domain, Kind, Role, State, Track, Visibility  # the `field:` values
from ..privacy import public_text
from ..search import analysis
from ..search.query import highlight_text, tracking_code
from ..stats.services import within

STAFF_SEARCHERS = frozenset({Role.HANDLER, Role.COORDINATOR, Role.MODERATOR, Role.ADMIN})
MAX_QUERY_CHARS = 200
MAX_ITEMS = 8  # words, phrases and exclusions together; more are ignored
MAX_CANDIDATES = 2000  # newest first; the page says "2000+" beyond
PER_PAGE = 20
SNIPPET_CHARS = 120
FIELDS = ("state", "kind", "domain", "track", "unit", "board", "region", "visibility", "code")

_PUNCTUATION = str.maketrans({"“": '"', "”": '"', "＂": '"', "「": '"', "」": '"', "－": "-"})
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_FIELD = re.compile(r"^([a-z]+)[:：](.+)$", re.IGNORECASE)


@dataclass
class Item:
    """One word or phrase: every term must occur somewhere in the case's text; `whole` is the
    word as typed (cases holding it whole rank first)."""

    terms: list[str]
    whole: str = ""


@dataclass
class StaffQuery:
    """A parsed staff query: groups ANDed (each an OR of items), exclusions, field filters."""

    groups: list[list[Item]] = field(default_factory=list)
    exclude: list[Item] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def terms(self) -> set[str]:
        """The terms to highlight."""
        return {
            analysis.normalize(t) for group in self.groups for item in group for t in item.terms
        }

    @property
    def is_empty(self) -> bool:
        """True if nothing searchable was given."""
        return not self.groups and not self.exclude and not self.filters


def _word_terms(word: str) -> list[str]:
    """A word's segments as typed (jieba, the public index's dictionary), or the word itself.

    `analysis.normalize` keeps offsets, so each segment is cut from the word as typed: the
    database holds the text as written (full-width digits and letters included).
    """
    terms = list(dict.fromkeys(word[w.start : w.end] for w in analysis.words(word)))
    return [t for t in terms if t.strip()] or [word]


def parse(text: str) -> StaffQuery:
    """Read a query string; any input is valid (unknown syntax is read as plain words)."""
    parsed = StaffQuery()
    text = (text or "").replace("\x00", " ").translate(_PUNCTUATION)[:MAX_QUERY_CHARS]
    code = tracking_code(text.upper())
    if code:
        parsed.filters["code"] = code
        return parsed
    join_next = negate_next = False
    count = 0
    for match in _TOKEN.finditer(text):
        minus, phrase, bare = match.groups()
        if bare is not None and bare in ("OR", "|"):
            join_next = bool(parsed.groups)
            continue
        if bare is not None and bare == "NOT":
            negate_next = True
            continue
        negated, negate_next = negate_next or minus == "-", False
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negated, bare = True, bare[1:]
        if phrase is not None:
            phrase = phrase.strip()
            if not phrase:
                continue
            item = Item([phrase], phrase)
        else:
            found = _FIELD.match(bare)
            if found and found.group(1).lower() in FIELDS and not negated:
                parsed.filters[found.group(1).lower()] = found.group(2).strip()
                join_next = False
                continue
            bare = bare.strip("-")
            if not bare:
                continue
            item = Item(_word_terms(bare), bare)
        count += 1
        if count > MAX_ITEMS:
            break
        if negated:
            parsed.exclude.append(item)
        elif join_next:
            parsed.groups[-1].append(item)
        else:
            parsed.groups.append([item])
        join_next = False
    return parsed


# ---------------------------------------------------------------------------------------------
# Scope and conditions


def require_searcher(user: User | None) -> User:
    """Staff who handle cases may search; a handler or coordinator needs a unit."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied()
    if user.role not in STAFF_SEARCHERS:
        raise PermissionDenied(_no_access())
    if user.role in (Role.HANDLER, Role.COORDINATOR) and user.unit_id is None:
        raise PermissionDenied(_no_access())
    return user


def _no_access() -> str:
    from flask_babel import gettext as _

    return _("案件检索只对办理单位、交办员和审核员开放。")


def scope_condition(user: User) -> ColumnElement[bool]:
    """The cases `user` may read as staff (the SQL twin of `can_view`, public ones excluded)."""
    if user.role in (Role.MODERATOR, Role.ADMIN):
        return true()
    if user.role == Role.HANDLER and user.unit_id is not None:
        return Message.unit_id == user.unit_id
    if user.role == Role.COORDINATOR and user.unit_id is not None:
        office_boards = select(Board.id).where(Board.office_unit_id == user.unit_id)
        return or_(Message.board_id.in_(office_boards), Message.review_unit_id == user.unit_id)
    return false()


def private_condition(user: User) -> ColumnElement[bool]:
    """The cases whose private fields `user` may read (the SQL twin of can_see_private_fields)."""
    if user.role in (Role.MODERATOR, Role.ADMIN):
        return true()
    sides = []
    if user.role == Role.COORDINATOR and user.unit_id is not None:
        sides.append(
            Message.board_id.in_(select(Board.id).where(Board.office_unit_id == user.unit_id))
        )
    if user.role == Role.HANDLER and user.unit_id is not None:
        sides.append(Message.unit_id == user.unit_id)
    if not sides:
        return false()
    return and_(Message.kind != Kind.REPORT, or_(*sides))


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _term_condition(term: str, private_ok: ColumnElement[bool]) -> ColumnElement[bool]:
    """The term occurs in the case's title, body, a reply, an event note, or a private field."""
    pattern = _like(term)

    def has(column) -> ColumnElement[bool]:
        # NULL must read as "not there": NOT (… OR NULL) would drop the row from exclusions.
        return func.coalesce(column, "").ilike(pattern, escape="\\")

    in_reply = exists().where(Reply.message_id == Message.id, has(Reply.body))
    in_note = exists().where(Event.message_id == Message.id, has(Event.note))
    private = and_(
        private_ok,
        or_(
            has(Message.private_note),
            has(Message.real_name),
            has(Message.phone),
            has(Message.address),
            has(Message.pen_name),
        ),
    )
    pen_name = and_(Message.kind != Kind.REPORT, has(Message.pen_name))
    return or_(has(Message.title), has(Message.body), in_reply, in_note, pen_name, private)


def _item_condition(item: Item, private_ok: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(*(_term_condition(t, private_ok) for t in item.terms))


def _rank(query: StaffQuery) -> list:
    """Cases holding the words whole (as typed) first: in the title, then in the body."""
    wholes = [i.whole for group in query.groups for i in group if i.whole]
    if not wholes:
        return []
    score = sum(
        case((func.coalesce(column, "").ilike(_like(whole), escape="\\"), weight), else_=0)
        for whole in wholes
        for column, weight in ((Message.title, 2), (Message.body, 1))
    )
    return [score.desc()]


def _filter_conditions(filters: dict[str, str]) -> list[ColumnElement[bool]]:
    """SQL conditions of the field:value filters; an unknown value matches nothing."""
    conds: list[ColumnElement[bool]] = []
    for name, raw in filters.items():
        value = raw.strip()
        if name == "code":
            conds.append(Message.code == (tracking_code(value) or value.upper()))
        elif name in ("state", "kind", "domain", "track", "visibility"):
            allowed = {
                "state": State, "kind": Kind, "domain": Domain, "track": Track,
                "visibility": Visibility,
            }[name]  # fmt: skip
            values = [v for v in value.lower().split(",") if v in {e.value for e in allowed}]
            conds.append(getattr(Message, name).in_(values) if values else false())
        elif name == "unit":
            conds.append(Message.unit_id.in_(select(Unit.id).where(Unit.code == value)))
        elif name == "board":
            conds.append(Message.board_id.in_(select(Board.id).where(Board.code == value)))
        elif name == "region":
            region = db.session.get(Region, value) if len(value) <= 6 else None
            conds.append(within(Message.region_path, region.path) if region else false())
    return conds


# ---------------------------------------------------------------------------------------------
# Searching


@dataclass
class StaffHit:
    """One case found: the message, whether the searcher reads its originals, and a snippet."""

    message: Message
    sees_private: bool
    title: str
    snippet: Markup


@dataclass
class StaffResult:
    """A page of cases, how many matched (capped at MAX_CANDIDATES), and the parsed query."""

    total: int
    page: int
    per_page: int
    hits: list[StaffHit]
    query: StaffQuery
    is_capped: bool = False

    @property
    def pages(self) -> int:
        """Pages the total fills."""
        return max(1, -(-self.total // self.per_page))


def _texts(message: Message, sees_private: bool) -> list[str]:
    """The case's texts as this searcher reads them: originals, or masked."""
    texts = [message.title, message.body]
    texts += [r.body for r in message.replies]
    texts += [e.note for e in message.events if e.note]
    if sees_private:
        texts += [message.private_note, message.real_name, message.phone, message.address]
    if sees_private or message.kind != Kind.REPORT:
        texts.append(message.pen_name)
    texts = [t for t in texts if t]
    return texts if sees_private else [public_text(message, t) for t in texts]


def _matches_visible(message: Message, query: StaffQuery) -> bool:
    """Every word still matches the masked text the searcher reads (and no exclusion does)."""
    blob = analysis.normalize("\n".join(_texts(message, False)))

    def hit(item: Item) -> bool:
        return all(analysis.normalize(t) in blob for t in item.terms)

    return all(any(hit(i) for i in group) for group in query.groups) and not any(
        hit(i) for i in query.exclude
    )


def _snippet(texts: list[str], terms: set[str]) -> Markup:
    for text in texts[1:] + texts[:1]:
        found = highlight_text(text, terms) if terms else None
        if found is not None:
            return found
    body = texts[1] if len(texts) > 1 else (texts[0] if texts else "")
    return escape(body[:SNIPPET_CHARS]) + ("…" if len(body) > SNIPPET_CHARS else "")


def search_cases(user: User, text: str, *, page: int = 1) -> StaffResult:
    """Cases in `user`'s scope matching `text`, most recently changed first, one page of them."""
    user = require_searcher(user)
    query = parse(text)
    page = max(1, page)
    if query.is_empty:
        return StaffResult(0, page, PER_PAGE, [], query)
    private_ok = private_condition(user)
    conds = [scope_condition(user), *_filter_conditions(query.filters)]
    conds += [or_(*(_item_condition(i, private_ok) for i in group)) for group in query.groups]
    # Exclusions hold in SQL only where the originals are read; masked cases are checked below.
    conds += [or_(not_(private_ok), not_(_item_condition(i, private_ok))) for i in query.exclude]
    rows = db.session.execute(
        select(Message.id, private_ok.label("sees_private"))
        .where(*conds)
        .order_by(*_rank(query), Message.updated_at.desc(), Message.id.desc())
        .limit(MAX_CANDIDATES + 1)
    ).all()
    is_capped = len(rows) > MAX_CANDIDATES
    rows = rows[:MAX_CANDIDATES]
    # Cases read masked: the match must hold on the masked text too (checked in batches).
    masked = [ident for ident, sees in rows if not sees]
    if masked and (query.groups or query.exclude):
        dropped = set()
        for start in range(0, len(masked), 200):
            for message in _load(masked[start : start + 200]):
                if not _matches_visible(message, query):
                    dropped.add(message.id)
        rows = [(ident, sees) for ident, sees in rows if ident not in dropped]
    total = len(rows)
    window = rows[(page - 1) * PER_PAGE : page * PER_PAGE]
    loaded = {m.id: m for m in _load([ident for ident, _s in window])}
    hits = []
    for ident, _sees in window:
        message = loaded.get(ident)
        if message is None or not msg.can_view(user, message):
            continue  # the scope condition and can_view must agree; never show otherwise
        sees_private = msg.can_see_private_fields(user, message)
        texts = _texts(message, sees_private)
        hits.append(
            StaffHit(
                message=message,
                sees_private=sees_private,
                title=message.title if sees_private else public_text(message, message.title),
                snippet=_snippet(texts, query.terms),
            )
        )
    return StaffResult(total, page, PER_PAGE, hits, query, is_capped)


def _load(ids: list[int]) -> list[Message]:
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.id.in_(ids))
            .options(
                selectinload(Message.replies),
                selectinload(Message.events),
                selectinload(Message.board),
                selectinload(Message.unit),
            )
        )
    )
