"""A segment writer for rebuilds that writes the full-text postings a term at a time.

Whoosh's `SegmentWriter` sends every posting through Python one at a time, three times: into
its posting pool (a tuple, a size estimate, an append), through the pool's sort and merge of
temporary runs, and into the postings writer (type checks, a field-length lookup, appends).
For ~290 postings a message that was half of a rebuild. `BulkWriter` keeps the postings of the
`PackedPositions` fields (title, body, replies, character pairs…) and of the `Existence`
fields (filters, dates, numbers) grouped by term as they are added, in compact arrays:
documents arrive in docnum order, so each term's list is already sorted. At the end it writes
each term's blocks in exactly Whoosh's W3 layout (`tests/test_search_engine.py` reads both
writers' segments back and compares every term), followed, for terms of more than one block,
by the whole posting list as arrays that `fast` reads in one piece (`term_arrays`).

Memory stays bounded: past `spill_postings` buffered postings, the buffer is written to a
temporary file as one run sorted by term, and the runs are merged term by term at the end
(not posting by posting). The segment's term table is held until the segment is written, in
arrays (`CompactTermTable`), and a rebuild also bounds the documents per segment
(`rebuild.segment_docs`).
"""

from __future__ import annotations

import heapq
import pickle
import struct
import sys
import tempfile
import zlib
from array import array
from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.filedb.filetables import _lengths as _KEY_LENGTHS
from whoosh.filedb.filetables import _pointer as _HASH_POINTER
from whoosh.formats import Existence
from whoosh.system import pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from ..index import PackedPositions
from .patches import read_chunks, write_chunks

# A term's buffered postings: docnums, position counts, positions.
_Entry = tuple[array, array, array]
assert array("I").itemsize == 4
_BIG_ENDIAN = sys.byteorder == "big"
# A term as written to a run and merged: (field, term, docnums, counts, positions) as bytes.
_Record = tuple[str, bytes, bytes, bytes, bytes]


class BulkWriter(SegmentWriter):
    """`SegmentWriter` for whole new segments (rebuilds): the same segment, written faster.

    Documents must not carry Whoosh's per-document options (`_boost`, `_stored_…`); fields
    with vectors or separate spelling go through Whoosh's path as before.
    """

    SPILL_POSTINGS = 3_000_000  # with the terms, about 110 MB of buffer in a process
    # Whoosh's pool holds the postings of the other fields (`region`: 3–4 a message). It
    # counts ~80 bytes a posting where a tuple of a posting takes ~250: its default of 128 MB
    # held a whole 125k-message segment's, ~120 MB.
    POOL_LIMIT_MB = 16
    # Terms per pickled chunk of a run: the merge holds one chunk of every run at a time.
    RUN_CHUNK = 1024

    def __init__(self, ix, *, spill_postings: int | None = None, **kwargs):
        kwargs.setdefault("limitmb", self.POOL_LIMIT_MB)
        super().__init__(ix, **kwargs)
        CompactTermTable.adopt(self.fieldwriter._tindex)
        self._bulk = {
            name: field
            for name, field in self.schema.items()
            if field.indexed
            and not field.vector
            and not field.separate_spelling()
            and (
                (isinstance(field.format, PackedPositions) and field.scorable)
                or (type(field.format) is Existence and field.format.field_boost == 1.0)
            )
        }
        self._terms: dict[str, dict[bytes, _Entry]] = {name: {} for name in self._bulk}
        self._length_bytes = {name: bytearray() for name in self._bulk}
        self._buffered = 0
        self._spill_at = spill_postings or self.SPILL_POSTINGS
        self._runs: list = []

    # -----------------------------------------------------------------------------------------
    # Adding documents

    def add_document(self, **fields) -> None:
        """Whoosh's `add_document`, with the postings of the bulk fields kept by term."""
        self._check_state()
        if any(name.startswith("_") for name in fields):
            raise ValueError("BulkWriter takes no per-document options (_boost, _stored_…)")
        fieldnames = sorted(fields)
        self._check_fields(self.schema, fieldnames)
        perdoc = self.perdocwriter
        docnum = self.docnum
        add_post = self.pool.add
        perdoc.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = self.schema[fieldname]
                length = 0
                if fieldname in self._bulk:
                    length = self._add_bulk(fieldname, field, docnum, value)
                elif field.indexed:
                    for tbytes, freq, weight, vbytes in field.index(value):
                        if field.scorable:
                            length += freq
                        add_post((fieldname, tbytes, docnum, weight, vbytes))
                perdoc.add_field(fieldname, field, value if field.stored else None, length)
                if field.column_type:
                    perdoc.add_column_value(
                        fieldname, field.column_type, field.to_column_value(value)
                    )
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1
        if self._buffered >= self._spill_at:
            self._spill()

    def _add_bulk(self, fieldname: str, field, docnum: int, value) -> int:
        terms = self._terms[fieldname]
        if type(field.format) is Existence:  # filters, dates, numbers: one posting per term
            for tbytes, _freq, _weight, _vbytes in field.index(value):
                entry = terms.get(tbytes)
                if entry is None:
                    entry = terms[tbytes] = (array("I"), array("I"), array("I"))
                entry[0].append(docnum)
                self._buffered += 1
            return 0
        length = 0
        found = field.format.term_positions(value, field.analyzer, mode="index")
        for text, positions in found.items():
            tbytes = text.encode("utf-8")
            entry = terms.get(tbytes)
            if entry is None:
                entry = terms[tbytes] = (array("I"), array("I"), array("I"))
            entry[0].append(docnum)
            entry[1].append(len(positions))
            entry[2].extend(positions)
            length += len(positions)
        self._buffered += len(found)
        lengths = self._length_bytes[fieldname]
        if len(lengths) < docnum:
            lengths.extend(bytes(docnum - len(lengths)))
        lengths.append(length_to_byte(length) if length else 0)
        return length

    # -----------------------------------------------------------------------------------------
    # Runs

    def _records(self) -> Iterator[_Record]:
        """The buffer as records sorted by field and term, emptying it as it goes (each term's
        arrays are dropped once copied, so the buffer is never held twice)."""
        buffers, self._terms = self._terms, {name: {} for name in self._bulk}
        self._buffered = 0
        for name in sorted(buffers):
            terms = buffers.pop(name)
            for tbytes in sorted(terms):
                docs, counts, positions = terms.pop(tbytes)
                if _BIG_ENDIAN:  # the values are little-endian (PackedPositions)
                    positions.byteswap()
                yield name, tbytes, docs.tobytes(), counts.tobytes(), positions.tobytes()

    def _spill(self) -> None:
        handle = tempfile.TemporaryFile(prefix="board-run-")
        write_chunks(handle, self._records(), self.RUN_CHUNK)
        handle.seek(0)
        self._runs.append(handle)

    @staticmethod
    def _read_run(handle):
        try:
            yield from read_chunks(handle)
        finally:
            handle.close()

    def _merged(self):
        """Every term's postings, runs and buffer merged in field and term order (runs hold
        earlier documents than later runs and the buffer, so concatenating keeps docnums
        sorted)."""
        streams = [self._read_run(handle) for handle in self._runs]
        streams.append(self._records())
        self._runs = []
        merged = heapq.merge(*streams, key=itemgetter(0, 1)) if len(streams) > 1 else streams[0]
        for key, group in groupby(merged, key=itemgetter(0, 1)):
            parts = list(group)
            if len(parts) == 1:
                yield parts[0]
            else:
                yield (
                    *key,
                    b"".join(p[2] for p in parts),
                    b"".join(p[3] for p in parts),
                    b"".join(p[4] for p in parts),
                )

    # -----------------------------------------------------------------------------------------
    # Writing the segment

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        fieldwriter = self.fieldwriter
        pool_fields = groupby(self.pool.iter_postings(), key=itemgetter(0))
        pending = next(pool_fields, None)
        bulk_fields = groupby(self._merged(), key=itemgetter(0))
        for fieldname, records in bulk_fields:
            while pending is not None and pending[0] < fieldname:
                fieldwriter.add_postings(self.schema, lengths, pending[1])
                pending = next(pool_fields, None)
            self._write_field(fieldname, records)
        while pending is not None:
            fieldwriter.add_postings(self.schema, lengths, pending[1])
            pending = next(pool_fields, None)
        fieldwriter.close()
        if lengths is not None:
            lengths.close()

    def _write_field(self, fieldname: str, records) -> None:
        fieldwriter = self.fieldwriter
        field = self._bulk[fieldname]
        fieldwriter.start_field(fieldname, field)
        postwriter = fieldwriter._postwriter
        boost = field.format.field_boost
        positions = isinstance(field.format, PackedPositions)
        length_bytes = bytes(self._length_bytes[fieldname])
        length_bytes += bytes(max(self.docnum - len(length_bytes), 0))
        prefix = pack_ushort(fieldwriter._fieldid)
        add_term = fieldwriter._tindex.add
        for _, tbytes, docs, counts, values in records:
            terminfo = _write_postings(
                postwriter, docs, counts if positions else None, values, boost, length_bytes
            )
            add_term(prefix + tbytes, terminfo.to_bytes())
        fieldwriter.finish_field()

    def _close_segment(self) -> None:
        for handle in self._runs:  # temporary files: closing deletes them
            handle.close()
        self._runs = []
        super()._close_segment()


class CompactTermTable(OrderedHashWriter):
    """Whoosh's term table writer (an ordered CDB-like hash file), writing the same file, with
    the hash entries kept in arrays until it is closed: 12 bytes a term where Whoosh keeps a
    tuple of two ints in a list (about 130 bytes). A 125k-message segment has some 1.5 million
    terms."""

    @classmethod
    def adopt(cls, writer: OrderedHashWriter) -> CompactTermTable:
        """Turn a new `OrderedHashWriter` (its header written, nothing added) into this."""
        if type(writer) is not OrderedHashWriter or any(writer.buckets) or len(writer.index):
            raise TypeError("CompactTermTable adopts a new, empty OrderedHashWriter")
        writer.__class__ = cls
        writer.buckets = None
        writer.hashes = [array("I") for _ in range(256)]
        writer.offsets = [array("q") for _ in range(256)]
        return writer

    def add(self, key: bytes, value: bytes) -> None:
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        dbfile = self.dbfile
        pos = dbfile.tell()
        self.index.append(pos)
        dbfile.write(_KEY_LENGTHS.pack(len(key), len(value)) + key + value)
        h = self.hashfn(key)
        self.hashes[h & 255].append(h)
        self.offsets[h & 255].append(pos)
        self.lastkey = key

    def _write_hashes(self) -> None:
        """Whoosh's 256 open-addressing tables (slot = hash >> 8 mod 2n, linear probing, the
        entries placed in the order added), written as arrays."""
        dbfile = self.dbfile
        for hashes, offsets in zip(self.hashes, self.offsets, strict=True):
            numslots = 2 * len(hashes)
            self.directory.append((dbfile.tell(), numslots))
            taken = [-1] * numslots
            for entry, hashval in enumerate(hashes):
                slot = (hashval >> 8) % numslots
                while taken[slot] >= 0:
                    slot = (slot + 1) % numslots
                taken[slot] = entry
            where = np.array(taken, dtype=np.int64)
            filled = where >= 0
            table = np.zeros(numslots, dtype=_HASH_SLOT)
            table["hash"][filled] = np.frombuffer(hashes, dtype=np.uint32)[where[filled]]
            table["offset"][filled] = np.frombuffer(offsets, dtype=np.int64)[where[filled]]
            dbfile.write(table.tobytes())
        self.hashes = self.offsets = None


# Whoosh's hash table slot (`_HASH_POINTER`, "!Iq") as a numpy record, to write whole tables.
_HASH_SLOT = np.dtype([("hash", ">u4"), ("offset", ">i8")])
assert _HASH_POINTER.format == "!Iq" and _HASH_SLOT.itemsize == _HASH_POINTER.size

# Blocks whose pickle is shorter are stored uncompressed (the flag is per block): zlib's set-up
# costs more than it saves on a term of one or two postings, writing and reading.
_COMPRESS_FROM = 64

# Terms with at least this many postings also get their postings as compressed arrays after
# their last block (see `term_arrays`).
ARRAYS_FROM = 128
# Version 1 (indexes of session 4): one zlib stream of gaps, counts and positions.
ARRAYS_MAGIC_V1 = b"MSnp\x01\x00\xfe\xed"
_TRAILER_V1 = struct.Struct("<IIIII8s")  # postings, positions, blob bytes, raw bytes, flags, magic
# Version 2: the gaps and counts in one zlib stream, the positions in a second one, so that a
# term read without positions (every search's words, scoring) decompresses only the first.
ARRAYS_MAGIC = b"MSnp\x02\x00\xfe\xed"
# postings, positions, head bytes, head raw bytes, positions bytes, flags, magic
_TRAILER = struct.Struct("<IIIIII8s")


_HAS_POSITIONS, _NARROW_GAPS, _NARROW_COUNTS, _NARROW_POSITIONS = 1, 2, 4, 8


def _narrow(values: np.ndarray, flag: int) -> tuple[bytes, int]:
    """Little-endian 16-bit values if they all fit (half the bytes to decompress), else 32."""
    if not values.size or int(values.max()) < 1 << 16:
        return values.astype("<u2").tobytes(), flag
    return values.astype("<u4").tobytes(), 0


def _append_arrays(postfile, ids: array, counts: array | None, positions: bytes) -> None:
    """The term's docnum gaps and position counts (one zlib stream), its positions (another),
    then a trailer.

    Each array is stored in 16 bits when its values fit (nearly always), else 32; little-endian.
    Whoosh reads a term's blocks up to the last one and never past it (the extent's length is
    unused), so the arrays are invisible to it; `fast` reads them with two or three reads,
    one decompression per stream and `numpy.frombuffer`, instead of unpickling a block per 128
    postings (a common word at a million messages has thousands)."""
    docs = np.frombuffer(ids.tobytes(), dtype=np.uint32)
    gaps, flags = _narrow(np.diff(docs, prepend=np.uint32(0)), _NARROW_GAPS)
    head = [gaps]
    npos = 0
    tail = b""
    if counts is not None:
        flags |= _HAS_POSITIONS
        packed, flag = _narrow(np.frombuffer(counts.tobytes(), dtype=np.uint32), _NARROW_COUNTS)
        head.append(packed)
        flags |= flag
        values = np.frombuffer(positions, dtype="<u4")
        npos = values.size
        packed, flag = _narrow(values, _NARROW_POSITIONS)
        tail = zlib.compress(packed, 1)
        flags |= flag
    raw = b"".join(head)
    blob = zlib.compress(raw, 1)
    postfile.write(blob)
    postfile.write(tail)
    postfile.write(
        _TRAILER.pack(len(docs), npos, len(blob), len(raw), len(tail), flags, ARRAYS_MAGIC)
    )


def term_arrays(postfile, offset: int, length: int, positions: bool = True):
    """(docnums, counts or None, positions or None) of a term written with `_append_arrays`,
    or None if it has no arrays (written by Whoosh, or too short). Without `positions`, the
    positions are not read (None). Whoosh reads the extent's length back as a 1-tuple (it
    never uses it)."""
    if isinstance(length, tuple):
        length = length[0]
    if length is None or length < _TRAILER_V1.size:
        return None
    end = offset + length
    trailer = postfile.get(end - min(length, _TRAILER.size), min(length, _TRAILER.size))
    if trailer[-8:] == ARRAYS_MAGIC and len(trailer) == _TRAILER.size:
        n, npos, size, raw_size, tail_size, flags, _ = _TRAILER.unpack(trailer)
        head_at = end - _TRAILER.size - tail_size - size
    elif trailer[-8:] == ARRAYS_MAGIC_V1:
        n, npos, size, raw_size, flags, _ = _TRAILER_V1.unpack(trailer[-_TRAILER_V1.size :])
        tail_size = None
        head_at = end - _TRAILER_V1.size - size
    else:
        return None
    if head_at < offset:
        return None
    has_positions = bool(flags & _HAS_POSITIONS)
    widths = [(n, 2 if flags & _NARROW_GAPS else 4)]
    if has_positions:
        widths.append((n, 2 if flags & _NARROW_COUNTS else 4))
    position_width = 2 if flags & _NARROW_POSITIONS else 4
    if tail_size is None and has_positions:  # version 1: the positions in the same stream
        widths.append((npos, position_width))
    if raw_size != sum(count * width for count, width in widths):
        return None
    raw = zlib.decompress(postfile.get(head_at, size))
    if len(raw) != raw_size:
        return None
    arrays, start = [], 0
    for count, width in widths:
        arrays.append(np.frombuffer(raw, dtype=f"<u{width}", count=count, offset=start))
        start += count * width
    docs = np.cumsum(arrays[0], dtype=np.int64)
    if not has_positions:
        return docs, None, None
    counts = arrays[1].astype(np.int64)
    if not positions:
        return docs, counts, None
    if tail_size is None:
        flat = arrays[2]
    else:
        tail = zlib.decompress(postfile.get(head_at + size, tail_size))
        if len(tail) != npos * position_width:
            return None
        flat = np.frombuffer(tail, dtype=f"<u{position_width}")
    return docs, counts, flat.astype(np.int32)


def _write_postings(
    postwriter,
    docs: bytes,
    counts: bytes | None,
    positions: bytes,
    boost: float,
    length_bytes: bytes,
) -> W3TermInfo:
    """One term's postings in W3 blocks (`W3PostingsWriter._write_block`), with its term info.

    `counts` (positions per posting) is None for a field without values (`Existence`). Plain
    Python over arrays: most terms have one or two postings, where numpy's per-call cost would
    dominate."""
    postfile = postwriter._postfile
    limit = postwriter._blocklimit
    compression = postwriter._compression
    start_offset = postfile.tell()
    ids = array("I")
    ids.frombytes(docs)
    total = len(ids)
    lengths = bytes(itemgetter(*ids)(length_bytes)) if total > 1 else bytes([length_bytes[ids[0]]])
    if counts is None:
        weights = None
        values = None
    else:
        per_posting = array("I")
        per_posting.frombytes(counts)
        weights = array("f", [c * boost for c in per_posting])
        values, offset = [], 0
        for c in per_posting:
            values.append(positions[offset : offset + 4 * c])
            offset += 4 * c
    weight_sum = max_weight = 0.0
    for begin in range(0, total, limit):
        end = min(begin + limit, total)
        block = ids[begin:end]
        if begin == 0:
            postfile.write(WHOOSH3_HEADER_MAGIC)
        deltas = [block[0]]
        deltas.extend(b - a for a, b in zip(block, block[1:], strict=False))
        if weights is None:
            stored_weights, block_max, block_sum = None, 1.0, float(end - begin)
        else:
            block_weights = weights[begin:end]
            block_max, block_sum = max(block_weights), sum(block_weights)
            if block_max == 1.0 and min(block_weights) == 1.0:
                stored_weights = None
            elif min(block_weights) == block_max:
                stored_weights = block_weights[0]
            else:
                stored_weights = tuple(block_weights)
        weight_sum += block_sum
        max_weight = max(max_weight, block_max)
        stored_values = None if values is None else tuple(values[begin:end])
        data = pickle.dumps((tuple(deltas), stored_weights, stored_values), 2)
        comp = compression if len(data) >= _COMPRESS_FROM else 0
        if comp:
            data = zlib.compress(data, comp)
        block_lengths = lengths[begin:end]
        info = pickle.dumps(
            (end - begin, block[-1], block_max, comp, min(block_lengths), max(block_lengths)), 2
        )
        size = len(info) + len(data)
        postfile.write_int(-size if end == total else size)
        postfile.write(info)
        postfile.write(data)
    if total >= ARRAYS_FROM:
        _append_arrays(postfile, ids, None if counts is None else per_posting, positions)
    terminfo = W3TermInfo()
    terminfo._weight = weight_sum
    terminfo._df = total
    terminfo._minlength = byte_to_length(min(lengths))
    terminfo._maxlength = byte_to_length(max(lengths))
    terminfo._maxweight = max_weight
    terminfo._minid = ids[0]
    terminfo._maxid = ids[-1]
    terminfo.set_extent(start_offset, postfile.tell() - start_offset)
    return terminfo
