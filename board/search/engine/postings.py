"""A term's postings read whole from a segment with numpy, a per-process cache of them, and the
documents of a phrase.

Whoosh decodes a posting list one posting at a time in Python. Here a term's W3 blocks (one
pickled tuple of docnum deltas, weights and values each) are decoded with numpy, or, for a term
written by `segment.BulkWriter`, its whole arrays are read after its last block
(`segment.term_arrays`). Positions stored as `PackedPositions` decode with one `frombuffer`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from itertools import chain

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from ..index import PackedPositions
from .docarrays import segment_key
from .docsets import EMPTY, intersection, sorted_intersection
from .segment import term_arrays

_cache_lock = threading.Lock()


def _unfiltered(matcher):
    """The posting matcher under Whoosh's filter of a segment's deleted documents: callers
    drop deleted documents with the segment's `alive` array, whole blocks at a time."""
    if isinstance(matcher, FilterMatcher) and matcher._exclude:
        return matcher.child
    return matcher


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
    return (*segment_key(reader), fieldname, text)


def postings(searcher: Searcher, fieldname: str, text: str, *, positions=False):
    """A term's postings in a leaf searcher (None if absent), from a per-process cache of the
    most recently used ones (32 MB): a segment's postings never change, only its deletions."""
    global _postings_bytes
    key = _postings_key(searcher, fieldname, text)
    if key is None:
        return read_postings(searcher, fieldname, text, positions=positions)
    with _cache_lock:
        if key in _postings_cache:
            found = _postings_cache[key]
            if found is None or not positions or found.flat is not None:
                _postings_cache.move_to_end(key)
                return found
    found = read_postings(searcher, fieldname, text, positions=positions)
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


def read_postings(
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
    found = Postings(np.concatenate(id_parts) if id_parts else EMPTY)
    if weights:
        found.weights = np.concatenate(weight_parts) if weight_parts else np.empty(0)
    if positions:
        counts, found.flat = decode(values)
        found.starts = np.concatenate([[0], np.cumsum(counts)])
    return found


_phrase_cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
_POSITIONS = 1 << 32  # positions in a document stay below this
PHRASE_CACHE_BYTES = 4 * 1024 * 1024


def phrase_ids(searcher: Searcher, q: wq.Phrase) -> np.ndarray | None:
    """`_find_phrase`, remembered for the last few phrases of each segment: ranking asks again
    for the phrases the matching just found."""
    reader = searcher.reader()
    if not hasattr(reader, "segment"):
        return _find_phrase(searcher, q)
    key = (*segment_key(reader), q.fieldname, tuple(q.words), q.slop)
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
        return EMPTY if found is None else found.ids
    lists = []
    for word in dict.fromkeys(words):
        found = postings(searcher, q.fieldname, word, positions=True)
        if found is None or not found.ids.size:
            return EMPTY
        lists.append((word, found))
    doccount = searcher.reader().doc_count_all()
    candidates = lists[0][1].ids
    for _, found in lists[1:]:
        candidates = intersection(candidates, found.ids, doccount)
        if not candidates.size:
            return EMPTY
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
        keys = mine if keys is None else sorted_intersection(keys, mine)
        if not keys.size:
            break
    for word, _ in lists:  # the phrase's documents are cached now (`phrase_ids`)
        _forget_positions(searcher, q.fieldname, word)
    if not keys.size:
        return EMPTY
    docs = keys // _POSITIONS
    return docs[np.concatenate(([True], docs[1:] != docs[:-1]))]
