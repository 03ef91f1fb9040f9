"""The changes the fast engine makes to Whoosh's own classes, installed by `engine.init_app`.

Two replacements, both behaviour-preserving (the tests compare them with Whoosh's originals):
- `W3PerDocReader` reads a segment's field-length column whole, once, and remembers missing
  columns (Whoosh asks the disk again, a stat, on every lookup): `fast` reads the lengths as one
  byte array per field, and finishing a segment no longer costs three calls per posting.
- `whoosh.writing.PostingPool` writes and reads its sorted runs as pickled chunks of postings
  instead of one marshal call per posting (a quarter of a rebuild's time).

With `SEARCH_ENGINE = "whoosh"` nothing is replaced (`uninstall` puts the originals back).
"""

from __future__ import annotations

import pickle
from itertools import islice

from whoosh import columns, writing
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3PerDocReader, _lenfield
from whoosh.util.numeric import byte_to_length

# Field length of each length byte Whoosh stores (0: none), shared with `fast`.
FIELD_LENGTHS = tuple(byte_to_length(b) if b else 0 for b in range(256))

_ORIGINAL_POOL = writing.PostingPool
_ORIGINAL_CACHED_READER = W3PerDocReader._cached_reader
_ORIGINAL_DOC_FIELD_LENGTH = W3PerDocReader.doc_field_length


def _cached_reader(self, fieldname, column):
    """Whoosh's column reader lookup, remembering a missing column (None) too: the segment's
    files never change."""
    if fieldname in self._readers:
        return self._readers[fieldname]
    reader = _ORIGINAL_CACHED_READER(self, fieldname, column)
    self._readers[fieldname] = reader
    return reader


def _doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
    """A document's field length from the segment's length column read whole once (Whoosh
    reads one byte through three calls per posting when finishing a segment, 12 % of a build,
    and per document when scoring). One byte per document and field."""
    cache = self.__dict__.setdefault("_board_lengths", {})
    lengths = cache.get(fieldname)
    if lengths is None:
        reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if reader is None:
            lengths = b""
        elif isinstance(reader, columns.NumericColumn.Reader) and reader._fixedlen == 1:
            lengths = reader._dbfile.get(reader._basepos, reader._count)
            lengths += bytes([reader._default]) * (self._doccount - len(lengths))
        else:
            lengths = bytes(reader[n] for n in range(self._doccount))
        cache[fieldname] = lengths
    if not lengths and self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) is None:
        return default
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    # As Whoosh: None for a zero length (the byte 0), callers treat it as 0.
    return FIELD_LENGTHS[lengths[docnum]] if docnum < len(lengths) and lengths[docnum] else None


def segment_lengths(reader, fieldname: str) -> bytes | None:
    """A segment reader's length bytes of a field as `_doc_field_length` read them, or None
    when the replacement is not installed (or the reader is not a W3 segment's)."""
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not is_installed():
        return None
    if reader.doc_count_all():
        perdoc.doc_field_length(0, fieldname)  # reads the column whole
    return perdoc.__dict__.get("_board_lengths", {}).get(fieldname)


def write_chunks(f, items, size: int) -> None:
    """Items to a temporary run file as pickled lists of `size` (one call per chunk, not per
    item: marshal.load from a file is 16x slower than pickle.load on lists of tuples)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)


def read_chunks(f):
    """The items `write_chunks` wrote, in order."""
    while True:
        try:
            chunk = pickle.load(f)  # noqa: S301 (this process's own temporary file)
        except EOFError:
            return
        yield from chunk


class ChunkedPostingPool(_ORIGINAL_POOL):
    """Whoosh's posting pool with its sorted runs written and read in chunks of postings."""

    CHUNK = 8192

    def _write_run(self, f, items) -> None:
        try:
            write_chunks(f, items, self.CHUNK)
        finally:
            f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            yield from read_chunks(f)
        finally:
            f.close()
            self._remove_run(path)


def is_installed() -> bool:
    """True while Whoosh runs with the replacements above."""
    return W3PerDocReader.doc_field_length is _doc_field_length


def install() -> None:
    """Replace Whoosh's length lookups and posting pool (idempotent)."""
    W3PerDocReader._cached_reader = _cached_reader
    W3PerDocReader.doc_field_length = _doc_field_length
    W3PerDocReader.whoosh_doc_field_length = _ORIGINAL_DOC_FIELD_LENGTH  # for the tests
    writing.PostingPool = ChunkedPostingPool


def uninstall() -> None:
    """Put Whoosh's own classes back (idempotent)."""
    W3PerDocReader._cached_reader = _ORIGINAL_CACHED_READER
    W3PerDocReader.doc_field_length = _ORIGINAL_DOC_FIELD_LENGTH
    if "whoosh_doc_field_length" in W3PerDocReader.__dict__:
        del W3PerDocReader.whoosh_doc_field_length
    writing.PostingPool = _ORIGINAL_POOL
