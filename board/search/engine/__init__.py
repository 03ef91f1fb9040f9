"""The search engine behind one narrow interface: what matches, how many, facets, the page.

`run` answers a parsed query (a Whoosh query tree from `search.query`) over a searcher with a
`Found`; `SEARCH_ENGINE` picks who computes it:

- `"fast"` (default): `fast`, numpy over posting arrays read from the segment files, with
  Whoosh's BM25F reproduced; it reads Whoosh internals and replaces two Whoosh methods and its
  posting pool (`patches`), and rebuilds write segments with `segment.BulkWriter`. Every
  internal it relies on is listed in docs/search.md.
- `"whoosh"`: `plain`, Whoosh's own collectors and writers through its public API; nothing is
  patched. Slower, same answers (tests/test_search_engines.py).

`init_app` installs (or removes) the patches from `create_app`; nothing happens at import. The
index files are the same for both: an index built by either is read by either.
"""

from __future__ import annotations

from flask import Flask, current_app
from whoosh import query as wq
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

from . import fast, patches, plain
from .base import Asked, Found, Relevance
from .segment import BulkWriter

__all__ = ["ENGINES", "Asked", "Found", "Relevance", "init_app", "name", "run"]

ENGINES = {"fast": fast, "whoosh": plain}


def init_app(app: Flask) -> None:
    """Check SEARCH_ENGINE and install the fast engine's Whoosh patches (or take them out)."""
    chosen = app.config.setdefault("SEARCH_ENGINE", "fast")
    if chosen not in ENGINES:
        raise ValueError(f"SEARCH_ENGINE must be one of {sorted(ENGINES)}, not {chosen!r}")
    if chosen == "fast":
        patches.install()
    else:
        patches.uninstall()


def name() -> str:
    """The engine this app runs ("fast" or "whoosh")."""
    return current_app.config.get("SEARCH_ENGINE") or "fast"


def run(
    searcher: Searcher,
    q: wq.Query,
    narrow: wq.Query | None = None,
    *,
    limit: int | None,
    facets: dict[str, str] | None = None,
    sort_keys: list[tuple[str, bool]] | None = None,
    relevance: Relevance | None = None,
) -> Found:
    """The live documents matching `q` and the filter `narrow`: their total, the counts of each
    facet (name → column) over all of them, and the first `limit` (None: all) as global
    docnums — ordered by the number columns `sort_keys` (name, descending), else by BM25F
    relevance (plus `relevance`'s extras) — with their scores. Ties keep index order."""
    asked = Asked(limit, facets or {}, sort_keys, relevance)
    return ENGINES[name()].run(searcher, q, narrow, asked)


# ---------------------------------------------------------------------------------------------
# Writing whole segments (rebuilds): sub-writers without the lock, committed together


def segment_writer(ix, compound: bool) -> SegmentWriter:
    """A writer of one new segment for a rebuild, not taking the index lock (the caller's
    writer holds it): `BulkWriter` for the fast engine, Whoosh's own otherwise."""
    if name() == "fast":
        return BulkWriter(ix, _lk=False, compound=compound)
    return SegmentWriter(ix, _lk=False, compound=compound)


def finish_segment(writer: SegmentWriter):
    """Write the segment of a `segment_writer` and return it (for `commit_segments`)."""
    return writer._finalize_segment()


def abandon_segment(writer: SegmentWriter) -> None:
    """Close a `segment_writer` that will not be committed (its temporary files go)."""
    writer._close_segment()  # not cancel(): the temporary folder is shared


def commit_segments(writer: SegmentWriter, segments: list) -> None:
    """Make `segments` (written by segment writers, in order) the index, under `writer`'s lock
    (as Whoosh's MpWriter with `multisegment` does)."""
    writer._close_segment()  # this writer added nothing itself
    writer._commit_toc(segments)
    writer._finish()
