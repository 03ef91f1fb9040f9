"""Counting, faceting, sorting and ranking the matches of a query with numpy, segment by segment.

Whoosh computes a total count, facet counts, sort orders and relevance by visiting every
matching document in Python with a collector (270 ms at 100k messages for a common word). Here
the query's document set is computed from posting blocks read whole (`Term`, `Phrase`), combined
with numpy set operations (`And`, `Or`, `AndNot`), counted and sorted against per-segment arrays
of the sortable columns, read once per segment and cached (a segment never changes; only its
deletions do), and ranked with Whoosh's BM25F over the postings' weights (`ranked`). Query shapes
not handled here fall back to Whoosh's own matcher for the candidates.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import partial
from itertools import chain

import numpy as np
from whoosh import columns
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.fields import DATETIME
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import length_to_byte

from ..index import PackedPositions
from . import patches
from .base import (
    Asked,
    Found,
    Relevance,
    bm25,
    phrase_idf,
    positive_phrases,
    scoring_terms,
    title_query,
)
from .segment import term_arrays

# Columns read per segment: facet fields (codes into a value list) and sort keys (numbers).
CODE_FIELDS = ("domain", "state", "kind", "year", "top_region")
NUMBER_FIELDS = ("published_on", "cosigns", "reply_days")
_EMPTY = np.empty(0, dtype=np.int64)
_LENGTH_TABLE = np.array(patches.FIELD_LENGTHS, dtype=np.float64)  # Whoosh's length bytes
_CACHE_SEGMENTS = 64


@dataclass
class Segment:
    """The cached arrays of one segment: alive documents, codes and numbers."""

    doc_count_all: int
    alive: np.ndarray  # bool per docnum
    codes: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)
    numbers: dict[str, np.ndarray] = field(default_factory=dict)
    lengths: dict[str, np.ndarray] = field(default_factory=dict)  # field → length per docnum

    def field_lengths(self, reader, fieldname: str) -> np.ndarray:
        """Each document's length of a field (Whoosh's one-byte approximation) as its byte,
        read once: `_LENGTH_TABLE[byte]` is the length. One byte per document keeps a
        worker's arrays small at a million messages."""
        found = self.lengths.get(fieldname)
        if found is None:
            lengths = patches.segment_lengths(reader, fieldname)
            if lengths is not None:
                found = np.frombuffer(lengths, dtype=np.uint8)
                if found.size < self.doc_count_all:
                    pad = np.zeros(self.doc_count_all - found.size, dtype=np.uint8)
                    found = np.concatenate([found, pad])
            else:
                found = np.fromiter(
                    (
                        length_to_byte(reader.doc_field_length(n, fieldname) or 0)
                        for n in range(self.doc_count_all)
                    ),
                    dtype=np.uint8,
                    count=self.doc_count_all,
                )
            self.lengths[fieldname] = found
        return found


_cache: OrderedDict[tuple, Segment] = OrderedDict()
_cache_lock = threading.Lock()


def _numeric_array(reader, fieldname: str, doccount: int) -> np.ndarray:
    """A numeric column as int64, read from the column file in one piece when possible."""
    fieldobj = reader.schema[fieldname]
    creader = reader.column_reader(fieldname, translate=False)
    if isinstance(creader, columns.NumericColumn.Reader):
        typecode, size = creader._typecode, creader._fixedlen
        stored = creader._count
        raw = creader._dbfile.get(creader._basepos, stored * size) if stored else b""
        # Kept in the column's own width (a date is 8 bytes, a count 4), in native order.
        values = np.frombuffer(raw, dtype=">" + typecode)
        values = values.astype(values.dtype.newbyteorder("="))
        if stored < doccount:
            pad = np.full(doccount - stored, creader._default, dtype=values.dtype)
            values = np.concatenate([values, pad])
        return values[:doccount]
    if isinstance(creader, columns.EmptyColumnReader):
        default = fieldobj.column_type.default_value() if fieldobj.column_type else 0
        return np.full(doccount, int(default or 0), dtype=np.int64)
    return np.fromiter((int(v) for v in creader), dtype=np.int64, count=doccount)


def _code_array(reader, fieldname: str, doccount: int) -> tuple[np.ndarray, list[str]]:
    """A string column as (codes per docnum, values): read whole for a RefBytes column."""
    fieldobj = reader.schema[fieldname]
    creader = reader.column_reader(fieldname, translate=False)
    if isinstance(creader, columns.RefBytesColumn.Reader):
        size = creader._itemsize
        raw = creader._dbfile.get(creader._basepos, doccount * size)
        values = [fieldobj.from_bytes(v) if v else "" for v in creader._uniques]
        codes = np.frombuffer(raw, dtype=">" + creader._typecode).astype(_code_type(len(values)))
        return codes, values
    found: dict[str, int] = {}
    translate = fieldobj.from_column_value
    codes = np.fromiter(
        (found.setdefault(translate(v) if v else "", len(found)) for v in creader),
        dtype=np.int32,
        count=doccount,
    )
    return codes.astype(_code_type(len(found))), list(found)


def _code_type(distinct: int):
    """The smallest unsigned type for codes of `distinct` values (facets have a few dozen)."""
    return np.uint8 if distinct <= 256 else np.uint16 if distinct <= 65536 else np.int32


def _segment_key(reader) -> tuple[str, str]:
    """A segment's identity: its index folder and its id. Whoosh draws segment ids from the
    global `random`, which a program may have seeded, so the id alone may repeat in another
    index (a rebuilt generation lives in a new folder)."""
    storage = getattr(reader, "_storage", None)
    return str(getattr(storage, "folder", id(storage))), reader.segment().segment_id()


def segment(reader) -> Segment:
    """The arrays of a segment reader, from the cache when its segment and deletions are known."""
    seg = reader.segment()
    key = (*_segment_key(reader), seg.deleted_count() if hasattr(seg, "deleted_count") else 0)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    doccount = reader.doc_count_all()
    alive = np.ones(doccount, dtype=bool)
    if reader.has_deletions():
        deleted = np.fromiter(seg.deleted_docs(), dtype=np.int64)
        alive[deleted[deleted < doccount]] = False
    built = Segment(doccount, alive)
    for name in CODE_FIELDS:
        built.codes[name] = _code_array(reader, name, doccount)
    for name in NUMBER_FIELDS:
        built.numbers[name] = _numeric_array(reader, name, doccount)
    with _cache_lock:
        _cache[key] = built
        while len(_cache) > _CACHE_SEGMENTS:
            _cache.popitem(last=False)
    return built


# ---------------------------------------------------------------------------------------------
# The documents of a query


def _unfiltered(matcher):
    """The posting matcher under Whoosh's filter of a segment's deleted documents: callers
    drop deleted documents with the segment's `alive` array, whole blocks at a time."""
    if isinstance(matcher, FilterMatcher) and matcher._exclude:
        return matcher.child
    return matcher


def _term_ids(searcher: Searcher, q: wq.Term) -> np.ndarray:
    if q.fieldname not in searcher.schema:
        return _EMPTY
    if q.fieldname in _UNCACHED:
        found = _read_postings(searcher, q.fieldname, q.text, weights=False)
    else:
        found = postings(searcher, q.fieldname, q.text)
    return _EMPTY if found is None else found.ids


# Filter fields (region, board, unit…): read directly; their postings are long and cheap.
_UNCACHED = frozenset({"region", "board", "unit", "kind", "domain", "state", "replied", "year"})


@dataclass
class Postings:
    """A term's postings in one segment: docnums, weights and (on request) their positions,
    posting i's being flat[starts[i]:starts[i + 1]]."""

    ids: np.ndarray
    weights: np.ndarray | None = None
    starts: np.ndarray | None = None
    flat: np.ndarray | None = None

    def positions_of(self, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(counts, flat positions) of the postings at indexes `where`."""
        first = self.starts[where]
        counts = self.starts[where + 1] - first
        offsets = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        return counts, self.flat[offsets]


def _packed(values) -> tuple[np.ndarray, np.ndarray]:
    """(counts, flat) of `PackedPositions` values: 32-bit little-endian positions."""
    counts = np.fromiter(map(len, values), dtype=np.int64, count=len(values)) // 4
    return counts, np.frombuffer(b"".join(values), dtype="<u4").astype(np.int32)


# Decoded position lists by their encoded bytes (Whoosh's own `Positions`, in indexes built
# before `PackedPositions`): most postings hold one small position.
_decoded: dict[bytes, list[int]] = {}


def _pickled(values, decode) -> tuple[np.ndarray, np.ndarray]:
    """(counts, flat) of Whoosh `Positions` values, one `decode` per distinct value."""
    if len(_decoded) > 200_000:
        _decoded.clear()
    lists = []
    for value in values:
        found = _decoded.get(value)
        if found is None:
            found = _decoded[value] = decode(value)
        lists.append(found)
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    flat = np.fromiter(chain.from_iterable(lists), dtype=np.int32, count=int(counts.sum()))
    return counts, flat


_postings_cache: OrderedDict[tuple, Postings | None] = OrderedDict()
_postings_bytes = 0
POSTINGS_CACHE_BYTES = 32 * 1024 * 1024  # a worker stays under 300 MB at 1M messages


def _size(found: Postings | None) -> int:
    if found is None:
        return 64
    size = 16 * found.ids.size
    if found.flat is not None:
        size += 8 * found.starts.size + 4 * found.flat.size
    return size


def _postings_key(searcher: Searcher, fieldname: str, text: str) -> tuple | None:
    """A term's key in the postings cache; None for a reader that is not one segment's."""
    reader = searcher.reader()
    if not hasattr(reader, "segment"):
        return None
    return (*_segment_key(reader), fieldname, text)


def postings(searcher: Searcher, fieldname: str, text: str, *, positions=False):
    """A term's postings in a leaf searcher (None if absent), from a per-process cache of the
    most recently used ones (32 MB): a segment's postings never change, only its deletions."""
    global _postings_bytes
    key = _postings_key(searcher, fieldname, text)
    if key is None:
        return _read_postings(searcher, fieldname, text, positions=positions)
    with _cache_lock:
        if key in _postings_cache:
            found = _postings_cache[key]
            if found is None or not positions or found.flat is not None:
                _postings_cache.move_to_end(key)
                return found
    found = _read_postings(searcher, fieldname, text, positions=positions)
    with _cache_lock:
        old = _postings_cache.pop(key, False)
        if old is not False:
            _postings_bytes -= _size(old)
        _postings_cache[key] = found
        _postings_bytes += _size(found)
        while _postings_bytes > POSTINGS_CACHE_BYTES and len(_postings_cache) > 1:
            _, dropped = _postings_cache.popitem(last=False)
            _postings_bytes -= _size(dropped)
    return found


def _forget_positions(searcher: Searcher, fieldname: str, text: str) -> None:
    """Keep only the documents and weights of a cached term's postings.

    Positions are read to find a phrase's documents, which the phrase cache then holds; they
    take over half of a posting list's memory, and a common phrase's words' positions over
    eight segments would fill the cache on their own and push out the postings that ranking
    the phrase's documents reads next (44 MB for "政务服务热线" at a million messages)."""
    global _postings_bytes
    key = _postings_key(searcher, fieldname, text)
    if key is None:
        return
    with _cache_lock:
        found = _postings_cache.get(key)
        if found is not None and found.flat is not None:
            lighter = Postings(found.ids, found.weights)
            _postings_cache[key] = lighter
            _postings_bytes += _size(lighter) - _size(found)


def _block_weights(weights, count: int) -> np.ndarray:
    """A W3 block's weights as stored: None (all 1), one float for all, or one per posting."""
    if weights is None:
        return np.ones(count, dtype=np.float64)
    if isinstance(weights, float):
        return np.full(count, weights, dtype=np.float64)
    return np.asarray(weights, dtype=np.float64)


def _read_postings(
    searcher: Searcher, fieldname: str, text: str, *, positions=False, weights=True
) -> Postings | None:
    """A term's postings read from the segment, block by block: each block is one pickled
    tuple of (docnum deltas, weights, values), decoded here with numpy (Whoosh decodes the
    docnums one at a time in Python)."""
    reader = searcher.reader()
    if fieldname not in reader.schema:
        return None
    fieldobj = reader.schema[fieldname]
    try:
        matcher = _unfiltered(reader.postings(fieldname, fieldobj.to_bytes(text)))
    except TermNotFound:
        return None
    fmt = fieldobj.format
    if isinstance(fmt, PackedPositions):
        decode = _packed
    elif positions:
        decode = partial(_pickled, decode=fmt.decode_positions)
    id_parts, weight_parts, values = [], [], []
    if not isinstance(matcher, W3LeafMatcher):  # inlined postings, other codecs: one at a time
        ids = []
        while matcher.is_active():
            ids.append(matcher.id())
            weight_parts.append(matcher.weight())
            if positions:
                values.append(matcher.value())
            matcher.next()
        id_parts.append(np.asarray(ids, dtype=np.int64))
        weight_parts = [np.asarray(weight_parts, dtype=np.float64)]
    elif not matcher._lastblock and (
        arrays := term_arrays(
            matcher._postfile, matcher._startoffset, matcher._length, positions=positions
        )
    ):
        # More than one block, written by `segment.BulkWriter`: the term's arrays in one piece.
        ids, counts, flat = arrays
        found = Postings(ids)
        if weights:
            if counts is None:
                found.weights = np.ones(ids.size, dtype=np.float64)
            else:
                boost = np.float32(fmt.field_boost)
                found.weights = (counts.astype(np.float32) * boost).astype(np.float64)
        if positions and counts is not None:
            found.flat = flat
            found.starts = np.concatenate([[0], np.cumsum(counts)])
        return found
    else:
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            deltas, block_weights, block_values = matcher._data
            id_parts.append(np.cumsum(np.asarray(deltas, dtype=np.int64)))
            if weights:
                weight_parts.append(_block_weights(block_weights, len(deltas)))
            if positions:
                values.extend(block_values)
            if matcher._lastblock:
                break
            matcher._goto(matcher._nextoffset)
    found = Postings(np.concatenate(id_parts) if id_parts else _EMPTY)
    if weights:
        found.weights = np.concatenate(weight_parts) if weight_parts else np.empty(0)
    if positions:
        counts, found.flat = decode(values)
        found.starts = np.concatenate([[0], np.cumsum(counts)])
    return found


_phrase_cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
PHRASE_CACHE_BYTES = 4 * 1024 * 1024


def _phrase_ids(searcher: Searcher, q: wq.Phrase) -> np.ndarray | None:
    """`_find_phrase`, remembered for the last few phrases of each segment: ranking asks again
    for the phrases the matching just found."""
    reader = searcher.reader()
    if not hasattr(reader, "segment"):
        return _find_phrase(searcher, q)
    key = (*_segment_key(reader), q.fieldname, tuple(q.words), q.slop)
    with _cache_lock:
        found = _phrase_cache.get(key)
        if found is not None:
            _phrase_cache.move_to_end(key)
            return found
    found = _find_phrase(searcher, q)
    if found is not None and found.nbytes <= PHRASE_CACHE_BYTES // 4:
        with _cache_lock:
            _phrase_cache[key] = found
            while sum(a.nbytes for a in _phrase_cache.values()) > PHRASE_CACHE_BYTES:
                _phrase_cache.popitem(last=False)
    return found


def _find_phrase(searcher: Searcher, q: wq.Phrase) -> np.ndarray | None:
    """Documents holding the words at consecutive positions (Whoosh's `Phrase` with slop 1):
    the words' documents are intersected with numpy first, then only the positions of the
    remaining candidates are compared. None when the phrase is of a kind not handled here."""
    if q.slop != 1 or not q.words or q.fieldname not in searcher.schema:
        return None
    fieldobj = searcher.schema[q.fieldname]
    if not fieldobj.format.supports("positions"):
        return None
    words = list(q.words)
    if len(words) == 1:
        found = postings(searcher, q.fieldname, words[0])
        return _EMPTY if found is None else found.ids
    lists = []
    for word in dict.fromkeys(words):
        found = postings(searcher, q.fieldname, word, positions=True)
        if found is None or not found.ids.size:
            return _EMPTY
        lists.append((word, found))
    doccount = searcher.reader().doc_count_all()
    candidates = lists[0][1].ids
    for _, found in lists[1:]:
        candidates = _intersection(candidates, found.ids, doccount)
        if not candidates.size:
            return _EMPTY
    # Each word's (document, position − its place in the phrase) as one number: the documents
    # holding the phrase are those of the numbers every word has. Candidates are sorted and a
    # posting's positions ascend, so every word's numbers come sorted and unique: intersected
    # by binary search, without sorting.
    keys = None
    for place, word in enumerate(words):
        found = dict(lists)[word]
        counts, positions = found.positions_of(np.searchsorted(found.ids, candidates))
        positions = positions.astype(np.int64) - place
        docs = np.repeat(candidates, counts)
        kept = positions >= 0
        mine = docs[kept] * _POSITIONS + positions[kept]
        keys = mine if keys is None else _sorted_intersection(keys, mine)
        if not keys.size:
            break
    for word, _ in lists:  # the phrase's documents are cached now (`_phrase_ids`)
        _forget_positions(searcher, q.fieldname, word)
    if not keys.size:
        return _EMPTY
    docs = keys // _POSITIONS
    return docs[np.concatenate(([True], docs[1:] != docs[:-1]))]


def _union(parts: list[np.ndarray], doccount: int) -> np.ndarray:
    """The sorted unique docnums in any of `parts` (each sorted and unique)."""
    if len(parts) == 1:
        return parts[0]
    if sum(p.size for p in parts) * 16 < doccount:
        return np.unique(np.concatenate(parts))
    # Many documents: a flag per document of the segment (no sort).
    mask = np.zeros(doccount, dtype=bool)
    for part in parts:
        mask[part] = True
    return np.flatnonzero(mask)


def _intersection(a: np.ndarray, b: np.ndarray, doccount: int) -> np.ndarray:
    """The sorted docnums in both `a` and `b` (each sorted and unique)."""
    if (a.size + b.size) * 16 < doccount:
        return _sorted_intersection(a, b)
    mask = np.zeros(doccount, dtype=bool)
    mask[a] = True
    return b[mask[b]]


def _difference(a: np.ndarray, b: np.ndarray, doccount: int) -> np.ndarray:
    """The sorted docnums in `a` and not in `b` (each sorted and unique)."""
    if (a.size + b.size) * 16 < doccount:
        return np.setdiff1d(a, b, assume_unique=True)
    mask = np.zeros(doccount, dtype=bool)
    mask[b] = True
    return a[~mask[a]]


def _sorted_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values in both sorted unique arrays (binary search of the shorter in the longer)."""
    if a.size > b.size:
        a, b = b, a
    where = np.searchsorted(b, a)
    where[where == b.size] = 0
    return a[b[where] == a] if b.size else b


_POSITIONS = 1 << 32  # positions in a document stay below this


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
        return _EMPTY
    if type(q) is wq.Term:
        return _term_ids(searcher, q)
    if type(q) is wq.Or:
        parts = [_ids(searcher, sub, seg) for sub in q.subqueries]
        parts = [p for p in parts if p.size]
        if not parts:
            return _EMPTY
        return _union(parts, seg.doc_count_all)
    if type(q) is wq.And:
        result = None
        # Cheapest first: a term missing from the segment ends the intersection at once.
        for sub in q.subqueries:
            part = _ids(searcher, sub, seg)
            result = part if result is None else _intersection(result, part, seg.doc_count_all)
            if not result.size:
                return _EMPTY
        return _EMPTY if result is None else result
    if type(q) is wq.AndNot:
        positive = _ids(searcher, q.a, seg)
        if not positive.size:
            return _EMPTY
        return _difference(positive, _ids(searcher, q.b, seg), seg.doc_count_all)
    if isinstance(q, wq.NumericRange):  # DateRange too
        return _range_ids(searcher, q, seg)
    if type(q) is wq.Phrase:
        found = _phrase_ids(searcher, q)
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
            holding = _phrase_ids(leaf, phrase)
            if holding is None:
                holding = _EMPTY
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


def _exact_titles(found: Matches, leaves: list[str], length: int) -> list[np.ndarray]:
    """Per part of `found`, whether each document's title is exactly the query."""
    q = title_query(leaves)
    out = []
    for leaf, _, seg, ids in found.parts:
        if "title" not in leaf.schema or not ids.size:
            out.append(np.zeros(ids.size, dtype=bool))
            continue
        holding = _ids(leaf, q, seg)
        same_length = seg.field_lengths(leaf.reader(), "title")[ids] == length_to_byte(length)
        out.append(np.isin(ids, holding, assume_unique=True) & same_length)
    return out


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
    exact = None
    if relevance and relevance.exact_title and relevance.exact_title[0]:
        exact = _exact_titles(found, *relevance.exact_title)
    all_docs, all_scores, all_exact = [], [], []
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
        if exact is not None:
            all_exact.append(exact[k])
    if not all_docs:
        return [], []
    docs = np.concatenate(all_docs)
    scores = np.concatenate(all_scores)
    if exact is not None:
        first = np.concatenate(all_exact)
        if first.any():  # above every other match, in their own order
            scores[first] += scores.max()
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
            ids = _intersection(ids, _ids(leaf, narrow, seg), seg.doc_count_all)
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
