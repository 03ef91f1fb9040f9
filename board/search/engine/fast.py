"""Counting, faceting, sorting and ranking the matches of a query with numpy, segment by segment.

Whoosh computes a total count, facet counts, sort orders and relevance by visiting every
matching document in Python with a collector (270 ms at 100k messages for a common word). Here
the query's document set is computed from postings read whole (`postings`: `Term`, `Phrase`),
combined with numpy set operations (`docsets`: `And`, `Or`, `AndNot`), counted and sorted
against per-segment arrays of the sortable columns (`docarrays`, read once per segment and
cached: a segment never changes; only its deletions do), and ranked with Whoosh's BM25F over
the postings' weights (`ranked`). Query shapes not handled here fall back to Whoosh's own
matcher for the candidates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.fields import DATETIME
from whoosh.searching import Searcher
from whoosh.util.numeric import length_to_byte

from . import patches
from .base import (
    Asked,
    Found,
    Relevance,
    bm25,
    phrase_idf,
    positive_phrases,
    scoring_terms,
    title_tiers,
)
from .docarrays import Segment, segment
from .docsets import EMPTY, difference, intersection, union
from .postings import phrase_ids, postings, read_postings

_LENGTH_TABLE = np.array(patches.FIELD_LENGTHS, dtype=np.float64)  # Whoosh's length bytes
# Filter fields (region, board, unit…): read directly; their postings are long and cheap.
_UNCACHED = frozenset(
    {"region", "board", "unit", "kind", "domain", "state", "replied", "year", "topic"}
)


# ---------------------------------------------------------------------------------------------
# The documents of a query


def _term_ids(searcher: Searcher, q: wq.Term) -> np.ndarray:
    if q.fieldname not in searcher.schema:
        return EMPTY
    if q.fieldname in _UNCACHED:
        found = read_postings(searcher, q.fieldname, q.text, weights=False)
    else:
        found = postings(searcher, q.fieldname, q.text)
    return EMPTY if found is None else found.ids


def _range_ids(searcher: Searcher, q: wq.NumericRange, seg: Segment) -> np.ndarray:
    values = seg.numbers.get(q.fieldname)
    if values is None:
        return np.fromiter(q.docs(searcher), dtype=np.int64)
    values = values.astype(np.int64, copy=False)  # bounds may lie outside a narrower type
    fieldobj = searcher.schema[q.fieldname]
    keep = np.ones(seg.doc_count_all, dtype=bool)

    # Column values: DATETIME stores the long a DateRange already holds; NUMERIC stores its
    # sortable form of the number.
    def bound(value):
        return value if isinstance(fieldobj, DATETIME) else fieldobj.to_column_value(value)

    if q.start is not None:
        low = bound(q.start)
        keep &= values > low if q.startexcl else values >= low
    if q.end is not None:
        high = bound(q.end)
        keep &= values < high if q.endexcl else values <= high
    return np.flatnonzero(keep).astype(np.int64)


def _ids(searcher: Searcher, q: wq.Query, seg: Segment) -> np.ndarray:
    """Sorted unique docnums of a leaf searcher matching `q` (deleted ones may be included)."""
    if isinstance(q, wq.Every):
        return np.arange(seg.doc_count_all, dtype=np.int64)
    if q is wq.NullQuery:
        return EMPTY
    if type(q) is wq.Term:
        return _term_ids(searcher, q)
    if type(q) is wq.Or:
        parts = [_ids(searcher, sub, seg) for sub in q.subqueries]
        parts = [p for p in parts if p.size]
        if not parts:
            return EMPTY
        return union(parts, seg.doc_count_all)
    if type(q) is wq.And:
        result = None
        # Cheapest first: a term missing from the segment ends the intersection at once.
        for sub in q.subqueries:
            part = _ids(searcher, sub, seg)
            result = part if result is None else intersection(result, part, seg.doc_count_all)
            if not result.size:
                return EMPTY
        return EMPTY if result is None else result
    if type(q) is wq.AndNot:
        positive = _ids(searcher, q.a, seg)
        if not positive.size:
            return EMPTY
        return difference(positive, _ids(searcher, q.b, seg), seg.doc_count_all)
    if isinstance(q, wq.NumericRange):  # DateRange too
        return _range_ids(searcher, q, seg)
    if type(q) is wq.Phrase:
        found = phrase_ids(searcher, q)
        if found is not None:
            return found
    # Phrases and anything else: Whoosh's matcher (phrases intersect their terms first).
    return np.unique(np.fromiter(q.docs(searcher), dtype=np.int64))


@dataclass
class Matches:
    """The documents matching a query, as (leaf searcher, offset, segment arrays, docnums)."""

    parts: list[tuple[Searcher, int, Segment, np.ndarray]]

    @property
    def total(self) -> int:
        return int(sum(ids.size for _, _, _, ids in self.parts))

    def facets(self, fields: dict[str, str]) -> dict[str, list[tuple[str, int]]]:
        """Counts per value for each facet (name → column), most frequent first."""
        out: dict[str, list[tuple[str, int]]] = {}
        for name, column in fields.items():
            counts: Counter = Counter()
            for _, _, seg, ids in self.parts:
                if not ids.size:
                    continue
                codes, values = seg.codes[column]
                tally = np.bincount(codes[ids], minlength=len(values))
                for code in np.flatnonzero(tally):
                    counts[values[code]] += int(tally[code])
            counts.pop("", None)
            out[name] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return out

    def top(self, keys: list[tuple[str, bool]], limit: int) -> list[int]:
        """Global docnums of the first `limit` matches ordered by number columns (name, reverse).

        Ties keep index order (older documents first), like Whoosh's sorting.
        """
        if not self.parts:
            return []
        docs = np.concatenate([ids + offset for _, offset, _, ids in self.parts])
        if not docs.size:
            return []
        columns_ = []
        for name, reverse in keys:
            values = np.concatenate(
                [seg.numbers[name][ids].astype(np.int64) for _, _, seg, ids in self.parts]
            )
            columns_.append(-values if reverse else values)
        # np.lexsort sorts by the last key first; docnum last breaks ties stably.
        order = np.lexsort([docs, *reversed(columns_)])
        return docs[order[:limit]].tolist()


def _phrase_scores(searcher: Searcher, found: Matches, q: wq.Query) -> list[np.ndarray]:
    """Per part of `found`, the phrase-as-a-term scores of its documents."""
    extra = [np.zeros(ids.size) for _, _, _, ids in found.parts]
    total_docs = searcher.doc_count_all()
    for phrase, boost in positive_phrases(q):
        if phrase.fieldname not in searcher.schema:
            continue
        per_part, df = [], 0
        for leaf, _, seg, _ids in found.parts:
            holding = phrase_ids(leaf, phrase)
            if holding is None:
                holding = EMPTY
            holding = holding[seg.alive[holding]] if holding.size else holding
            df += holding.size
            per_part.append(holding)
        if not df:
            continue
        idf = phrase_idf(total_docs, df)
        field_boost = searcher.schema[phrase.fieldname].format.field_boost
        average = searcher.avg_field_length(phrase.fieldname) or 1.0
        for k, (leaf, _, seg, ids) in enumerate(found.parts):
            hit = np.isin(ids, per_part[k], assume_unique=True)
            if hit.any():
                lengths = _LENGTH_TABLE[seg.field_lengths(leaf.reader(), phrase.fieldname)]
                tf = np.full(int(hit.sum()), field_boost)
                score = bm25(idf, tf, lengths[ids[hit]], average)
                # As the sequential dependence model scores each adjacent pair of a phrase.
                extra[k][hit] += boost * (len(phrase.words) - 1) * score
    return extra


def _holding(found: Matches, q: wq.Query, title_length: int | None = None) -> list[np.ndarray]:
    """Per part of `found`, whether each document matches `q` (a title query), and if
    `title_length` is given, whether its title has that length."""
    out = []
    for leaf, _, seg, ids in found.parts:
        if "title" not in leaf.schema or not ids.size:
            out.append(np.zeros(ids.size, dtype=bool))
            continue
        holding = np.isin(ids, _ids(leaf, q, seg), assume_unique=True)
        if title_length is not None:
            lengths = seg.field_lengths(leaf.reader(), "title")[ids]
            holding &= lengths == length_to_byte(title_length)
        out.append(holding)
    return out


def _first(scores: np.ndarray, tiers: list[np.ndarray | None]) -> None:
    """Raise the documents of each tier above every document not in it, in order: each tier
    adds the highest score so far to its documents (plain.py does the same)."""
    for chosen in tiers:
        if chosen is not None and chosen.any():
            scores[chosen] += scores.max()


def ranked(
    searcher: Searcher,
    q: wq.Query,
    found: Matches,
    limit: int,
    relevance: Relevance | None = None,
):
    """The first `limit` matches by relevance as (global docnums, scores).

    BM25F as Whoosh's default weighting computes it (idf and average field length from the
    whole index, the posting weight holding the field boost, times the query boost), summed over
    the scoring terms, for every matching document at once; ties keep index order. With
    `relevance`, phrases and exact titles count too (see `Relevance`)."""
    terms = scoring_terms(q)
    idf = {(f, t): searcher.idf(f, t) for f, t, _ in terms}
    average = {f: searcher.avg_field_length(f) or 1.0 for f, _, _ in terms}
    extra = _phrase_scores(searcher, found, q) if relevance and relevance.phrases else None
    tiers = [_holding(found, title, length) for title, length in title_tiers(q, relevance)]
    all_docs, all_scores = [], []
    for k, (leaf, offset, seg, ids) in enumerate(found.parts):
        if not ids.size:
            continue
        scores = np.zeros(ids.size, dtype=np.float64) if extra is None else extra[k].copy()
        for fieldname, text, boost in terms:
            posting = postings(leaf, fieldname, text)
            if posting is None or not posting.ids.size:
                continue
            where = np.minimum(np.searchsorted(posting.ids, ids), posting.ids.size - 1)
            hit = posting.ids[where] == ids
            if not hit.any():
                continue
            tf = posting.weights[where[hit]]
            length = _LENGTH_TABLE[seg.field_lengths(leaf.reader(), fieldname)[ids[hit]]]
            scores[hit] += boost * bm25(idf[fieldname, text], tf, length, average[fieldname])
        all_docs.append(ids + offset)
        all_scores.append(scores)
    if not all_docs:
        return [], []
    docs = np.concatenate(all_docs)
    scores = np.concatenate(all_scores)
    # Parts without matches were skipped above: so are their (empty) tier flags.
    _first(scores, [np.concatenate([t for t in tier if t.size]) for tier in tiers])
    if docs.size > limit:  # the best `limit` (and all tied with the last) before sorting them
        cut = np.partition(-scores, limit - 1)[limit - 1]
        keep = -scores <= cut
        docs, scores = docs[keep], scores[keep]
    order = np.lexsort((docs, -scores))[:limit]
    return docs[order].tolist(), scores[order].tolist()


def matches(searcher: Searcher, q: wq.Query, narrow: wq.Query | None = None) -> Matches:
    """The live documents matching `q` and the filter `narrow`, segment by segment."""
    parts = []
    for leaf, offset in searcher.leaf_searchers():
        seg = segment(leaf.reader())
        ids = _ids(leaf, q, seg)
        if narrow is not None and ids.size:
            ids = intersection(ids, _ids(leaf, narrow, seg), seg.doc_count_all)
        if ids.size:
            ids = ids[seg.alive[ids]]
        parts.append((leaf, offset, seg, ids))
    return Matches(parts)


def run(searcher: Searcher, q: wq.Query, narrow: wq.Query | None, asked: Asked) -> Found:
    """The engine's answer (see `engine.run`) from numpy arrays."""
    found = matches(searcher, q, narrow)
    result = Found(total=found.total, facets=found.facets(asked.facets) if asked.facets else {})
    if not found.total:
        return result
    limit = found.total if asked.limit is None else asked.limit
    if asked.sort_keys:
        result.docnums = found.top(asked.sort_keys, limit)
        result.scores = [0.0] * len(result.docnums)
    else:
        result.docnums, result.scores = ranked(searcher, q, found, limit, asked.relevance)
    return result
