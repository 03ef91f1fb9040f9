"""The per-document arrays of a segment, read whole and cached: alive flags, facet codes, sort
keys and field lengths.

A segment never changes, only its deletions do, so its arrays are cached per process by index
folder, segment id and deletion count (`segment`). Facet columns are `RefBytesColumn`s (one small
reference per document) and numbers fixed-width columns, both read in one piece from the
column file instead of value by value through Whoosh's column readers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from whoosh import columns
from whoosh.util.numeric import length_to_byte

from . import patches

# Columns read per segment: facet fields (codes into a value list) and sort keys (numbers).
CODE_FIELDS = ("domain", "state", "kind", "year", "top_region", "topic")
NUMBER_FIELDS = ("published_on", "cosigns", "reply_days")
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
        read once: `fast._LENGTH_TABLE[byte]` is the length. One byte per document keeps a
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
    """A string column as (codes per docnum, values): read whole for a RefBytes column.

    A field the segment's schema lacks (an index built before it existed) has no values."""
    if fieldname not in reader.schema:
        return np.zeros(doccount, dtype=np.uint8), [""]
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


def segment_key(reader) -> tuple[str, str]:
    """A segment's identity: its index folder and its id. Whoosh draws segment ids from the
    global `random`, which a program may have seeded, so the id alone may repeat in another
    index (a rebuilt generation lives in a new folder)."""
    storage = getattr(reader, "_storage", None)
    return str(getattr(storage, "folder", id(storage))), reader.segment().segment_id()


def segment(reader) -> Segment:
    """The arrays of a segment reader, from the cache when its segment and deletions are known."""
    seg = reader.segment()
    key = (*segment_key(reader), seg.deleted_count() if hasattr(seg, "deleted_count") else 0)
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
