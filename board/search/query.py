"""Searching the public index: the query language, filters, sorts, facets, snippets, similar.

The query language: words are ANDed; `"…"` is a phrase; `OR` between two items makes them
alternatives; `-word` (or `NOT word`) excludes. Any input is valid: unknown syntax is read as
plain words. Hits are loaded from the database in hit order and checked `is_public` again;
snippets are highlighted over the masked database text, never over anything stored in the index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from whoosh import highlight
from whoosh import query as wq
from whoosh.searching import Searcher

from ..clock import from_local
from ..extensions import db
from ..models import Message
from ..privacy import public_text
from . import analysis, engine, index
from .documents import ensure_dictionary
from .topics import topic_labels

TEXT_FIELDS = ("title", "body", "reply", "region_name", "board_title", "code_text")
FACETS = {
    "domain": "domain",
    "state": "state",
    "kind": "kind",
    "year": "year",
    "region": "top_region",
    "topic": "topic",
}
SORTS = ("relevance", "newest", "oldest", "cosigns", "slowest")
MAX_QUERY_CHARS = 200
MAX_CLAUSES = 24
MAX_PER_PAGE = 100
MAX_RESULTS = 10_000  # deepest hit a page may reach
SNIPPET_CHARS = 120
SIMILAR_MIN_RATIO = 0.35  # a similar message scores at least this share of the best one
CODE_PATTERN = re.compile(r"\s*MS-?(\d{4})-?([0-9A-Za-z]{6})\s*")

_PUNCTUATION = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "＂": '"',
        "「": '"',
        "」": '"',
        "(": " ",
        ")": " ",
        "（": " ",
        "）": " ",
        "－": "-",
        "＋": "+",
        "｜": "|",
    }
)
_TOKEN = re.compile(r'(-?)"([^"]*)"?|([^\s"]+)')
_ASCII = re.compile(r"[0-9a-z]+")
_LONG_NUMBER = re.compile(r"[0-9]{5,}")  # a phone, account or ID number (or a piece of one)


@dataclass
class Hit:
    """One search result: the message, its score, and an HTML-safe highlighted snippet."""

    message: Message
    score: float
    snippet: Markup


@dataclass
class SearchResult:
    """A page of hits with the total count and facet counts over all matches."""

    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # Names of facet values that live in the database (topics: their indexed id → name).
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the total fills (at most MAX_RESULTS hits are reachable)."""
        reachable = min(self.total, MAX_RESULTS)
        return max(1, -(-reachable // self.per_page))


# ---------------------------------------------------------------------------------------------
# The query language


@dataclass
class ParsedQuery:
    """A parsed query string: what must match, what must not, and the terms to highlight."""

    include: wq.Query | None = None
    exclude: list[wq.Query] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)

    @property
    def is_empty(self) -> bool:
        """True if the string held nothing searchable."""
        return self.include is None and not self.exclude

    def to_query(self) -> wq.Query:
        """The Whoosh query (everything but the exclusions when only exclusions were given)."""
        include = self.include if self.include is not None else wq.Every()
        if self.exclude:
            return wq.AndNot(include, wq.Or(self.exclude))
        return include


def _term(text: str) -> wq.Query:
    """A term in any text field."""
    return wq.Or([wq.Term(name, text) for name in TEXT_FIELDS])


def _phrase(leaves: list[str]) -> wq.Query:
    """Adjacent leaves in any one text field."""
    if len(leaves) == 1:
        return _term(leaves[0])
    return wq.Or([wq.Phrase(name, leaves) for name in TEXT_FIELDS])


def _segmentation_may_differ(text: str) -> bool:
    """True if the words of `text` may not be the words its occurrences were indexed with.

    jieba segments a span copied from the middle of a sentence by the span's own context: a
    character at a cut edge becomes a single-character word (区物业公司将物 → … 将 物) or is
    glued into a word the dictionary does not know (产对 from 房产对质量, 软实 from 软实力); the
    text around such a place was segmented otherwise, so its words are not there to match. A
    number at either end, glued to Chinese, may be cut short too (000元的奖 in 5000元的奖励,
    管道消费94 in 管道消费940元). Three or more Chinese words typed without a space are such a
    span as well (质量管控不到 in 质量管控不到位, indexed as … 不 到位). A long number is looked
    for as written: usually a piece of a phone, account or ID number (4250048 in
    1474024250048490320), indexed whole as one word. Keywords (物业费, 拖欠工资 农民工) and short
    numbers (2019) are not affected. 3号线 is: it also finds 13号线, ranked below 3号线 itself.
    """
    if _LONG_NUMBER.fullmatch(text):
        return True
    found = analysis.words(text, removestops=False)
    chinese = [w.text for w in found if analysis._HAN_ONLY.fullmatch(w.text)]
    if len(chinese) >= 3 or any(len(w) == 1 or not analysis._is_word(w) for w in chinese):
        return True
    if len(found) < 2:
        return False
    han = analysis._HAN_ONLY.fullmatch
    first, second, before_last, last = found[0], found[1], found[-2], found[-1]
    return (
        first.start == 0 and first.end == second.start and not han(first.text) and han(second.text)
    ) or (
        last.end == len(text)
        and before_last.end == last.start
        and not han(last.text)
        and han(before_last.text)
    )


def _grams(text: str, always: bool = False) -> wq.Query | None:
    """The text as written, through the `grams` field, when word segmentation may miss it.

    For text with Chinese in it (or a long number) whose segmentation may differ from the
    indexed text's (see `_segmentation_may_differ`), and for every quoted phrase: the phrase of
    its character pairs, i.e. the text exactly as written, digits and Latin letters included
    (3号楼2单元, 000元的奖). Text split by a comma or a space is each run as written, ANDed.
    Keyword queries need no character pairs and do not pay for a phrase over common pairs.
    """
    text = analysis.normalize(text).strip()
    if len(text) < 2 or not (analysis._HAN_ONLY.search(text) or _LONG_NUMBER.fullmatch(text)):
        return None
    if not always and not _segmentation_may_differ(text):
        return None
    runs = [
        wq.Term("grams", pairs[0]) if len(pairs) == 1 else wq.Phrase("grams", pairs)
        for pairs in analysis.bigrams(text)
        if len(pairs[0]) == 2  # a lone character is indexed alone only where it stands alone
    ]
    if not runs:
        return None
    return runs[0] if len(runs) == 1 else wq.And(runs)


def _or_grams(
    query: wq.Query | None, text: str, terms: set[str] | None, always: bool = False
) -> wq.Query | None:
    """`query`, or the text as written (see `_grams`; a quoted phrase always may be).

    The text is highlighted whole where it occurs as written (`terms` are marked longest first).
    """
    grams = _grams(text, always)
    if grams is None:
        return query
    if terms is not None:
        folded = analysis.normalize(text)
        terms.update(folded[a:b] for a, b in analysis.gram_runs(folded) if b - a > 1)
    return grams if query is None else wq.Or([query, grams])


def _is_ascii(word: analysis.Word) -> bool:
    return bool(_ASCII.fullmatch(word.text))


def _word_query(text: str, terms: set[str] | None) -> wq.Query | None:
    """One unquoted word: its jieba words ANDed, a number or letter glued to the Chinese next to it.

    A compound word matches whole or by all its leaves (拖欠工资 → 拖欠工资 OR (拖欠 AND 工资)),
    so 工资被拖欠 is found too; 3号线 is the phrase 3 号 线, not "3" anywhere.
    """
    clusters: list[list[analysis.Word]] = []
    for word in analysis.words(text):
        last = clusters[-1][-1] if clusters else None
        if last is not None and last.end == word.start and _is_ascii(last) != _is_ascii(word):
            clusters[-1].append(word)
        else:
            clusters.append([word])
    parts: list[wq.Query] = []
    for cluster in clusters:
        if terms is not None:
            terms.update(w.text for w in cluster)
            terms.update(leaf for w in cluster for leaf in w.leaves)
        if len(cluster) > 1:
            parts.append(_phrase([leaf for w in cluster for leaf in w.leaves]))
            continue
        word = cluster[0]
        if word.is_compound:
            parts.append(wq.Or([_term(word.text), wq.And([_term(x) for x in word.leaves])]))
        else:
            parts.append(_term(word.text))
    if not parts:
        return _or_grams(None, text, terms)
    return _or_grams(parts[0] if len(parts) == 1 else wq.And(parts), text, terms)


def _phrase_query(text: str, terms: set[str] | None) -> wq.Query | None:
    """A quoted phrase: all its leaves, adjacent and in order."""
    words = analysis.words(text)
    leaves = [leaf for word in words for leaf in word.leaves]
    if not leaves:
        return _or_grams(None, text, terms, always=True)
    if terms is not None:
        terms.update(leaves)
        terms.update(word.text for word in words)
    return _or_grams(_phrase(leaves), text, terms, always=True)


def parse_query(text: str, operators: bool = True) -> ParsedQuery:
    """Parse the query language; never raises. Without `operators`, every token is a plain word."""
    text = (text or "")[:MAX_QUERY_CHARS].translate(_PUNCTUATION)
    parsed = ParsedQuery()
    groups: list[list[wq.Query]] = []  # ANDed groups of OR alternatives
    join_or = negate_next = False
    for match in _TOKEN.finditer(text):
        if len(groups) + len(parsed.exclude) >= MAX_CLAUSES:
            break
        minus, quoted, word = match.groups()
        if word is not None:
            if operators and word in ("OR", "|", "||"):
                join_or = bool(groups)
                continue
            if operators and word in ("AND", "&", "&&", "+"):
                continue
            if operators and word == "NOT":
                negate_next = True
                continue
            negated = negate_next or (operators and word.startswith("-"))
            word = word.lstrip("-+") if operators else word
            clause = _word_query(word, None if negated else parsed.terms)
        else:
            negated = negate_next or (operators and bool(minus))
            clause = _phrase_query(quoted, None if negated else parsed.terms)
        negate_next = False
        if clause is None:
            continue
        if negated:
            parsed.exclude.append(clause)
        elif join_or and groups:
            groups[-1].append(clause)
        else:
            groups.append([clause])
        join_or = False
    if groups:
        clauses = [g[0] if len(g) == 1 else wq.Or(g) for g in groups]
        parsed.include = clauses[0] if len(clauses) == 1 else wq.And(clauses)
    if parsed.is_empty and operators:
        return parse_query(text, operators=False)
    return parsed


def _without_field(query: wq.Query, fieldname: str) -> wq.Query:
    """`query` without its clauses on `fieldname` (an index built before that field existed)."""

    def drop(node: wq.Query) -> wq.Query:
        return wq.NullQuery if getattr(node, "fieldname", None) == fieldname else node

    return query.accept(drop).normalize()


def tracking_code(text: str) -> str | None:
    """The tracking code `text` is, normalized (MS-2026-7K3Q9D), or None."""
    match = CODE_PATTERN.fullmatch(text or "")
    return f"MS-{match.group(1)}-{match.group(2).upper()}" if match else None


# ---------------------------------------------------------------------------------------------
# Filters and sorts


def _values(value) -> list[str]:
    """A filter value as a list of non-empty strings (one value or several)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [str(v).strip() for v in value if v is not None and str(v).strip()]


def _day_start(day: date) -> datetime:
    """The first instant of a Beijing calendar day, as stored (naive UTC)."""
    return from_local(datetime.combine(day, time.min))


def filter_query(filters: dict | None) -> wq.Query | None:
    """The filters as one Whoosh query (None for no filters); unknown keys are ignored."""
    filters = filters or {}
    parts: list[wq.Query] = []
    for key, fieldname in (
        ("region", "region"),
        ("board", "board"),
        ("unit", "unit"),
        ("kind", "kind"),
        ("domain", "domain"),
        ("state", "state"),
        ("topic", "topic"),
    ):
        values = _values(filters.get(key))
        if values:
            terms = [wq.Term(fieldname, v) for v in values]
            parts.append(terms[0] if len(terms) == 1 else wq.Or(terms))
    replied = filters.get("replied")
    if replied is not None:
        parts.append(wq.Term("replied", bool(replied)))
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if isinstance(date_from, date) or isinstance(date_to, date):
        start = _day_start(date_from) if isinstance(date_from, date) else None
        end = _day_start(date_to + timedelta(days=1)) if isinstance(date_to, date) else None
        parts.append(wq.DateRange("published_on", start, end, endexcl=True))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


# Sort orders as number columns (name, descending); ties go to the older document.
SORT_KEYS: dict[str, list[tuple[str, bool]]] = {
    "newest": [("published_on", True)],
    "oldest": [("published_on", False)],
    "cosigns": [("cosigns", True), ("published_on", True)],
    # Replied messages, slowest first; unreplied ones (-1) after them.
    "slowest": [("reply_days", True), ("published_on", True)],
}


# ---------------------------------------------------------------------------------------------
# Snippets


class MarkFormatter(highlight.Formatter):
    """HTML with <mark> around matches; everything else escaped; … where text was left out."""

    def _text(self, text: str) -> str:
        return str(escape(text))

    def format_token(self, text, token, replace=False) -> str:
        """A match, escaped, in <mark>."""
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"

    def format(self, fragments, replace=False) -> str:
        """Fragments in text order, joined and bounded by an ellipsis where text was cut."""
        if not fragments:
            return ""
        out = "…".join(self.format_fragment(f, replace=replace) for f in fragments)
        lead = "…" if fragments[0].startchar > 0 else ""
        tail = "…" if fragments[-1].endchar < len(fragments[-1].text) else ""
        return f"{lead}{out}{tail}"


_ASCII_CHAR = re.compile(r"[0-9a-z]")


def _occurrences(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) of the terms in `text` (normalized), longest term first.

    Plain string search: the words were found by the index, so marking where they occur needs
    no second segmentation of the whole text (that took a quarter of a search request). A Latin
    or digit term must not be part of a longer Latin word or number.
    """
    folded = analysis.normalize(text)
    found: list[tuple[int, int]] = []
    for term in sorted(terms, key=len, reverse=True):
        if not term:
            continue
        ascii_term = bool(_ASCII_CHAR.search(term))
        at = folded.find(term)
        while at != -1:
            end = at + len(term)
            clear = not ascii_term or (
                (at == 0 or not _ASCII_CHAR.match(folded[at - 1]))
                and (end == len(folded) or not _ASCII_CHAR.match(folded[end]))
            )
            if clear and all(end <= a or at >= b for a, b in found):
                found.append((at, end))
            at = folded.find(term, at + 1)
    return sorted(found)


def highlight_text(text: str, terms: Iterable[str]) -> Markup | None:
    """Up to two fragments of `text` around the terms, or None if none occurs."""
    terms = frozenset(t for t in terms if t)
    if not text or not terms:
        return None
    spans = _occurrences(text, terms)
    if not spans:
        return _highlight_tokens(text, terms)
    # Fragments: 40 characters around a match, extended over the next matches up to 160.
    fragments: list[list[tuple[int, int]]] = []
    for span in spans:
        if fragments and span[1] - max(fragments[-1][0][0] - 40, 0) <= 160:
            fragments[-1].append(span)
        else:
            fragments.append([span])
    folded = analysis.normalize(text)

    def score(group: list[tuple[int, int]]) -> tuple[int, int]:
        return (len({folded[a:b] for a, b in group}), len(group))

    best = sorted(sorted(fragments, key=score, reverse=True)[:2])
    out = []
    for group in best:
        start = max(group[0][0] - 40, 0)
        stop = min(group[-1][1] + 40, len(text))
        html, cursor = [], start
        for a, b in group:
            html.append(str(escape(text[cursor:a])))
            html.append(f"<mark>{escape(text[a:b])}</mark>")
            cursor = b
        html.append(str(escape(text[cursor:stop])))
        out.append(("".join(html), start, stop))
    lead = "…" if out[0][1] > 0 else ""
    tail = "…" if out[-1][2] < len(text) else ""
    return Markup(lead + "…".join(h for h, _, _ in out) + tail)  # noqa: S704 - escaped + <mark>


def _highlight_tokens(text: str, terms: frozenset[str]) -> Markup | None:
    """Whoosh's highlighter over the analyzer's tokens: stemmed English terms, for instance."""
    html = highlight.highlight(
        text,
        terms,
        index.SCHEMA["body"].analyzer,
        highlight.ContextFragmenter(maxchars=160, surround=40),
        MarkFormatter(),
        top=2,
        mode="index",
    )
    return Markup(html) if html else None  # noqa: S704 - built from escaped text and <mark>


def snippet(message: Message, terms: Iterable[str]) -> Markup:
    """Highlighted masked body (else the replies), or the start of the masked body."""
    terms = set(terms)
    body = public_text(message, message.body)
    found = highlight_text(body, terms)
    if found is None and terms:
        replies = "\n".join(public_text(message, r.body) for r in message.published_replies)
        found = highlight_text(replies, terms)
    if found is not None:
        return found
    cut = body[:SNIPPET_CHARS]
    return escape(cut) + ("…" if len(body) > SNIPPET_CHARS else "")


# ---------------------------------------------------------------------------------------------
# Searching


def _load_public(codes: list[str]) -> list[Message]:
    """Messages with these codes, in this order, that are still public."""
    if not codes:
        return []
    found = {
        m.code: m
        for m in db.session.scalars(
            select(Message)
            .where(Message.code.in_(codes))
            .options(
                selectinload(Message.board),
                selectinload(Message.replies),
                selectinload(Message.author),
            )
        )
    }
    return [found[c] for c in codes if c in found and found[c].is_public]


def _as_title(text: str) -> tuple[list[str], int]:
    """The query as a title would be indexed: its leaves, and its length in the title field."""
    leaves = [leaf for word in analysis.words(text) for leaf in word.leaves]
    length = sum(map(len, analysis.analyzer().term_positions(text).values()))
    return leaves, length


def search_messages(
    q: str,
    *,
    filters: dict | None = None,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = 20,
) -> SearchResult:
    """Search public messages; an empty `q` lists them (newest first unless sorted otherwise)."""
    per_page = min(max(int(per_page or 20), 1), MAX_PER_PAGE)
    page = min(max(int(page or 1), 1), -(-MAX_RESULTS // per_page))
    q = (q or "").strip()
    ensure_dictionary()
    terms: set[str] = set()
    code = tracking_code(q)
    if code:
        main: wq.Query = wq.Term("code", code)
    elif q:
        parsed = parse_query(q)
        if parsed.is_empty:
            return SearchResult(total=0, page=page, per_page=per_page, hits=[])
        main, terms = parsed.to_query(), parsed.terms
    else:
        main = wq.Every()
        if sort not in SORTS or sort == "relevance":
            sort = "newest"
    narrow = filter_query(filters)
    keys = SORT_KEYS.get(sort)
    limit = page * per_page
    relevance = engine.Relevance(exact_title=_as_title(q)) if q and not code and not keys else None

    def run(searcher: Searcher):
        if searcher.doc_count() == 0:
            return 0, [], {}
        query = main if "grams" in searcher.schema else _without_field(main, "grams")
        found = engine.run(
            searcher,
            query,
            narrow,
            limit=limit,
            # An index built before a facet's field existed has none (until its rebuild).
            facets={name: column for name, column in FACETS.items() if column in searcher.schema},
            sort_keys=keys,
            relevance=relevance,
        )
        start = (page - 1) * per_page
        hits = [
            (searcher.stored_fields(d)["code"], score)
            for d, score in zip(found.docnums[start:], found.scores[start:], strict=True)
        ]
        return found.total, hits, found.facets

    total, ranked, facets = index.run_search(run)
    scores = dict(ranked)
    hits = [
        Hit(message=m, score=scores[m.code], snippet=snippet(m, terms))
        for m in _load_public([code for code, _ in ranked])
    ]
    facets = {
        name: [(str(value), count) for value, count in pairs] for name, pairs in facets.items()
    }
    labels = {"topic": topic_labels(value for value, _count in facets.get("topic", []))}
    return SearchResult(
        total=total, page=page, per_page=per_page, hits=hits, facets=facets, labels=labels
    )


def matching_codes(q: str, filters: dict | None = None, limit: int | None = None) -> list[str]:
    """Codes of every indexed message matching the words (or tracking code) `q` and the
    filters, newest published first (all of them when `limit` is None): what a listing's feed
    or download streams. Only the codes are held; callers load the rows in batches."""
    ensure_dictionary()
    code = tracking_code(q)
    if code:
        main: wq.Query = wq.Term("code", code)
    else:
        parsed = parse_query(q)
        if parsed.is_empty:
            return []
        main = parsed.to_query()
    narrow = filter_query(filters)

    def run(searcher: Searcher) -> list[str]:
        if searcher.doc_count() == 0:
            return []
        query = main if "grams" in searcher.schema else _without_field(main, "grams")
        found = engine.run(searcher, query, narrow, limit=limit, sort_keys=SORT_KEYS["newest"])
        return [searcher.stored_fields(d)["code"] for d in found.docnums]

    return index.run_search(run)


def _similar(text: str, exclude: str | None, limit: int) -> list[Message]:
    """Public messages sharing the most telling words of `text` (more-like-this)."""
    if not text.strip():
        return []
    ensure_dictionary()

    def run(searcher: Searcher) -> list[str]:
        if searcher.doc_count() == 0:
            return []
        key_terms = searcher.key_terms_from_text("body", text, numterms=12, normalize=True)
        if not key_terms:
            return []
        query = wq.Or(
            [
                wq.Term(name, word, boost=weight)
                for word, weight in key_terms
                for name in ("title", "body")
            ]
        )
        mask = wq.Term("code", exclude) if exclude else None
        hits = searcher.search(query, limit=limit, mask=mask)
        if not hits:
            return []
        # Only messages sharing much of what the best one shares: a stray common word is not
        # enough to call a message similar.
        floor = hits[0].score * SIMILAR_MIN_RATIO
        return [hit["code"] for hit in hits if hit.score >= floor]

    return _load_public(index.run_search(run))[:limit]


def similar_messages(message: Message, limit: int = 5) -> list[Message]:
    """Messages like this one (its public title and body), itself excluded."""
    text = f"{public_text(message, message.title)}\n{public_text(message, message.body)}"
    return _similar(text, message.code, limit)


def similar_to_text(title: str, body: str, limit: int = 5) -> list[Message]:
    """Public messages like a draft: likely duplicates shown before a citizen posts."""
    return _similar(f"{title or ''}\n{body or ''}", None, limit)
