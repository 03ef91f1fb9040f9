"""The Whoosh index: its schema, where it lives, opening it, writers and per-thread searchers.

Layout of SEARCH_INDEX_DIR: `current` is a symlink to the live generation directory `gen-…`;
`flask search rebuild` builds a new generation beside it and swaps the link atomically. Every
index is opened through the link's real path, so a writer or searcher that started before a swap
keeps working on its own generation and never writes into the new one. `applied.json` in a
generation directory records the outbox sequence that generation has applied.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import struct
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from flask import current_app
from whoosh import columns, formats
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.formats import tokens
from whoosh.index import FileIndex
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

from ..clock import utcnow
from .analysis import BigramTokenizer, analyzer

T = TypeVar("T")

INDEX_NAME = "messages"
CURRENT = "current"
STATE_FILE = "applied.json"
GENERATION_PREFIX = "gen-"
# Storage, measured on 11k real messages (2 cores): the default (compound segments read through
# mmap) cost +114 MB RSS per searcher; compound without mmap +1.3 MB but queries 1.4x slower;
# non-compound segments +1.3 MB at full speed, so segments are written non-compound, merges
# included. Their column files open lazily, so a search that meets a file a concurrent merge just
# removed is retried once on a fresh searcher (see `run_search`). mmap stays off so a compound
# segment written by other tools could not blow up memory either.
USE_MMAP = False
COMPOUND = False


def _refs() -> columns.RefBytesColumn:
    """Facet columns: a few distinct values, one small reference per document, read whole by
    `engine.docarrays.segment` (a plain sortable ID column can only be read value by value)."""
    return columns.RefBytesColumn()


class PackedPositions(formats.Positions):
    """Whoosh's `Positions` with each posting's positions stored as little-endian 32-bit
    integers instead of a pickled list of deltas behind a 4-byte count.

    A posting of one position takes 4 bytes instead of 13 to 15, and a whole posting list's
    positions decode with one `numpy.frombuffer` (`fast`), where Whoosh's encoding needs a
    `pickle.loads` per posting: 0.7 s per common word at 300k messages. The tokenizers here give
    every token the boost 1, so a posting's weight is its count times the field boost, as in
    Whoosh's `Positions`. Whoosh's own phrase matcher and merges read it through the methods
    below."""

    def term_positions(self, value, analyzer, **kwargs) -> dict[str, list[int]]:
        """Each term of `value` with its positions, straight from the tokenizers here when
        they are asked for index terms (no Token object per term)."""
        if isinstance(value, str) and kwargs.get("mode") == "index" and len(kwargs) == 1:
            direct = getattr(analyzer, "term_positions", None)
            if direct is not None:
                return direct(value)
        found: defaultdict[str, list[int]] = defaultdict(list)
        kwargs["positions"] = True
        for token in tokens(value, analyzer, kwargs):
            found[token.text].append(token.pos)
        return found

    def word_values(self, value, analyzer, **kwargs):
        boost = self.field_boost
        for text, poslist in self.term_positions(value, analyzer, **kwargs).items():
            yield text, len(poslist), len(poslist) * boost, self.encode(poslist)

    def encode(self, poslist) -> bytes:
        if len(poslist) == 1:
            return _ONE_POSITION(poslist[0])
        return struct.pack(f"<{len(poslist)}I", *poslist)

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return list(struct.unpack(f"<{len(valuestring) // 4}I", valuestring))

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost

    def decode_position_boosts(self, valuestring: bytes) -> list[tuple[int, int]]:
        return [(pos, 1) for pos in self.decode_positions(valuestring)]


_ONE_POSITION = struct.Struct("<I").pack


def _text(analyzer_, field_boost: float = 1.0) -> TEXT:
    """A full-text field with positions (phrases) stored as `PackedPositions`."""
    field_ = TEXT(analyzer=analyzer_, field_boost=field_boost)
    field_.format = PackedPositions(field_boost=field_boost)
    return field_


def _datetime(**kwargs) -> DATETIME:
    """A date field whose range terms step 16 bits at a time instead of Whoosh's 8: 4 terms a
    value instead of 8, most of them unique to the message (timestamps in microseconds), and a
    writer keeps every distinct term of a segment in memory. Ranges read the column (`fast`)."""
    field_ = DATETIME(**kwargs)
    field_.shift_step = 16
    return field_


def build_schema() -> Schema:
    """Fields of a public message document; only `message_id`, `code`, `state`, `stamp` stored."""
    text = analyzer()
    return Schema(
        message_id=ID(stored=True, unique=True),
        code=ID(stored=True, unique=True),
        code_text=_text(text),
        title=_text(text, 3.0),
        body=_text(text),
        reply=_text(text, 2.0),
        # Title, body and replies as overlapping character pairs: text as written, for fragments.
        grams=_text(BigramTokenizer(), 0.5),
        region=KEYWORD(),  # every code on the path: 330000 330100 330106
        region_name=_text(text),
        board=ID(),
        board_title=_text(text),
        unit=ID(),
        kind=ID(sortable=_refs()),
        domain=ID(sortable=_refs()),
        state=ID(stored=True, sortable=_refs()),
        replied=BOOLEAN(),
        published_on=_datetime(sortable=True),
        replied_on=_datetime(),
        year=ID(sortable=_refs()),
        top_region=ID(sortable=_refs()),
        topic=ID(sortable=_refs()),  # the first-level topic's id (`topics`); absent without one
        cosigns=NUMERIC(sortable=True),
        # Whole days from publication to the first reply; -1 until then (always set: whoosh 2.7
        # cannot pack a default for a sortable column, nor sort floats).
        reply_days=NUMERIC(bits=32, sortable=True),
        stamp=STORED(),  # the message's updated_at: `flask search check` finds stale documents
    )


SCHEMA = build_schema()


# ---------------------------------------------------------------------------------------------
# Where the index lives


def index_root() -> Path:
    """SEARCH_INDEX_DIR: the folder holding the `current` link and the generations."""
    return Path(current_app.config["SEARCH_INDEX_DIR"])


@contextmanager
def root_lock(root: Path) -> Iterator[None]:
    """Serialize creating and swapping generations across processes (flock: local disks only)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _resolve(root: Path) -> Path | None:
    """The real directory the `current` link points to, if there is a live index."""
    link = root / CURRENT
    if not (link / STATE_FILE).exists():
        return None
    return Path(os.path.realpath(link))


def live_dir(create: bool = True) -> Path | None:
    """The live generation directory; an empty index is created when there is none."""
    root = index_root()
    found = _resolve(root)
    if found is not None or not create:
        return found
    with root_lock(root):
        found = _resolve(root)
        if found is None:
            found = new_generation(root)
            create_index(found)
            write_state(found, ApplyState(seq=0))
            swap_in(root, found)
    return found


def new_generation(root: Path) -> Path:
    """A fresh, empty generation directory beside the live one."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    path = root / f"{GENERATION_PREFIX}{stamp}-{secrets.token_hex(3)}"
    path.mkdir(parents=True)
    return path


def swap_in(root: Path, generation: Path) -> None:
    """Point `current` at `generation` atomically, keeping the previous generation for readers."""
    link = root / CURRENT
    previous = Path(os.path.realpath(link)) if link.exists() else None
    if link.is_dir() and not link.is_symlink():  # a hand-made directory: move it aside first
        moved = root / f"{GENERATION_PREFIX}moved-{secrets.token_hex(3)}"
        os.rename(link, moved)
        previous = moved
    temp = root / f".{CURRENT}-{secrets.token_hex(4)}"
    os.symlink(generation.name, temp)
    os.replace(temp, link)
    directory = os.open(root, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    # Older generations go; the previous one stays so a search running in another process can
    # finish (each process notices the new link before its next search).
    keep = {generation.resolve(), previous.resolve() if previous else None}
    for path in root.glob(f"{GENERATION_PREFIX}*"):
        if path.is_dir() and path.resolve() not in keep:
            shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Opening, writing


def storage(path: Path) -> FileStorage:
    """File storage over a generation directory (mmap off: see USE_MMAP)."""
    return FileStorage(str(path), supports_mmap=USE_MMAP)


def create_index(path: Path) -> FileIndex:
    """An empty index with the current schema in `path`."""
    return FileIndex.create(storage(path), SCHEMA, INDEX_NAME)


def open_index(path: Path) -> FileIndex:
    """The index in generation directory `path`."""
    return FileIndex(storage(path), indexname=INDEX_NAME)


def writer(ix: FileIndex, timeout: float = 0.0, **kwargs) -> SegmentWriter:
    """A writer holding the index lock (waits up to `timeout` s, else whoosh's LockError)."""
    return ix.writer(timeout=timeout, compound=COMPOUND, **kwargs)


# ---------------------------------------------------------------------------------------------
# The applied outbox sequence of a generation


# What an indexed document holds (its fields, and the masking applied to its text). Bump it
# whenever that changes: the search worker then finds every index built under an older version
# out of date and rebuilds it in the background, while the old one keeps answering (pages mask
# again when they show a hit; only matching by a newly masked value lasts until the swap).
# 2: the masking of issue 14 (normalised numbers, QQ/WeChat, office phones); 3: the `topic` field;
# 4: numbers in Chinese numerals or with zero-width characters inside, spelt e-mails, other
# platforms' accounts, bank accounts after their name and private values in the other script
# masked; traditional characters indexed as simplified (board/chinese.py), counted one-digit
# numbers as digits (三号线 as 3号线).
DOCUMENTS_VERSION = 4


@dataclass
class ApplyState:
    """How far a generation has applied the outbox: everything up to `seq`, except `gaps`.

    Gaps are ids above an older `seq` that were not visible yet when it advanced (PostgreSQL can
    commit ids out of order); they are looked up again until they expire.
    """

    seq: int = 0
    gaps: dict[int, float] = field(default_factory=dict)  # id → when first missed (epoch s)
    version: int = DOCUMENTS_VERSION  # the DOCUMENTS_VERSION the generation was built under


def read_state(path: Path) -> ApplyState:
    """The state stored in a generation directory (zero if absent or unreadable)."""
    try:
        data = json.loads((path / STATE_FILE).read_text())
        return ApplyState(
            int(data["seq"]),
            {int(k): float(v) for k, v in data["gaps"].items()},
            int(data.get("version", 1)),  # written before versions existed: 1
        )
    except (OSError, ValueError, KeyError, TypeError):
        return ApplyState()


def write_state(path: Path, state: ApplyState) -> None:
    """Replace the state file atomically (write a temp file, then rename over)."""
    temp = path / f".{STATE_FILE}.{secrets.token_hex(4)}"
    temp.write_text(json.dumps({"seq": state.seq, "gaps": state.gaps, "version": state.version}))
    os.replace(temp, path / STATE_FILE)


# ---------------------------------------------------------------------------------------------
# One searcher per thread, reopened when the index changed


@dataclass
class _Held:
    path: Path | None  # None: the empty index in memory
    searcher: Searcher


_local = threading.local()


def searcher() -> Searcher:
    """This thread's searcher over the live index, reopened if a commit or swap made it stale.

    Never `Searcher.refresh()`: it keeps old segments after updates and merges. Without a live
    index (none built yet, or lost) it searches an empty one in memory: a web process never
    creates an index; the indexer builds it from the database (`indexer.heal`).
    """
    if current_app.config.get("SEARCH_APPLY_ON_READ"):  # the test suite's setting only
        from .outbox import apply_before_read

        apply_before_read()
    path = live_dir(create=False)
    held: _Held | None = getattr(_local, "held", None)
    if held is not None:
        if held.path == path and (path is None or held.searcher.up_to_date()):
            return held.searcher
        held.searcher.close()
        _local.held = None
    ix = open_index(path) if path is not None else _empty_index()
    fresh = ix.searcher()
    _local.held = _Held(path, fresh)
    return fresh


def _empty_index() -> FileIndex:
    """An empty index in memory with the current schema."""
    return RamStorage().create_index(SCHEMA, indexname=INDEX_NAME)


def run_search(fn: Callable[[Searcher], T]) -> T:
    """Call `fn` with this thread's searcher; retry once on a fresh one if a file vanished."""
    try:
        return fn(searcher())
    except OSError:
        close_searcher()
        return fn(searcher())


def close_searcher() -> None:
    """Close this thread's searcher (tests, and before a worker forks)."""
    held: _Held | None = getattr(_local, "held", None)
    if held is not None:
        held.searcher.close()
        _local.held = None
