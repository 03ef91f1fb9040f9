"""Keeping the index equal to the public messages: the outbox applier, check, heal, worker.

Each index generation records the outbox sequence it has applied (index.ApplyState), so
applying is idempotent and at-least-once, and several nodes may each keep their own index.
What a message's document holds is `documents`; whole rebuilds are `rebuild`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from whoosh.index import LockError

from ..clock import utcnow
from ..extensions import db
from ..models import Message, SearchOutbox
from . import index
from .documents import count_public, ensure_dictionary, public_condition, write_documents
from .rebuild import rebuild

logger = logging.getLogger(__name__)

BATCH = 500  # outbox rows per writer commit
GAP_SECONDS = 600.0  # how long an id skipped by the sequence is looked for again
GAP_WINDOW = 5000  # only ids this close below the newest are tracked as gaps
STALE_AFTER = 60.0  # index_status is not ok when a pending row is older than this (seconds)


# ---------------------------------------------------------------------------------------------
# The outbox


def _pending_rows(state: index.ApplyState, limit: int) -> list[tuple[int, int]]:
    """(id, message_id) of outbox rows not applied yet: beyond the sequence, or filled gaps."""
    rows = list(
        db.session.execute(
            select(SearchOutbox.id, SearchOutbox.message_id)
            .where(SearchOutbox.id > state.seq)
            .order_by(SearchOutbox.id)
            .limit(limit)
        )
    )
    gaps = sorted(state.gaps)
    for start in range(0, len(gaps), 500):
        rows += db.session.execute(
            select(SearchOutbox.id, SearchOutbox.message_id).where(
                SearchOutbox.id.in_(gaps[start : start + 500])
            )
        )
    return rows


def _has_pending(state: index.ApplyState) -> bool:
    """Cheap check, without the index lock, for rows to apply."""
    beyond = db.session.scalar(select(SearchOutbox.id).where(SearchOutbox.id > state.seq).limit(1))
    if beyond is not None:
        return True
    gaps = sorted(state.gaps)[:500]
    return bool(gaps) and (
        db.session.scalar(select(SearchOutbox.id).where(SearchOutbox.id.in_(gaps)).limit(1))
        is not None
    )


def _advance(state: index.ApplyState, applied: Iterable[int], now: float) -> index.ApplyState:
    """The state after applying these row ids: a higher sequence, and the ids it skipped."""
    seen = set(applied)
    seq = max((i for i in seen if i > state.seq), default=state.seq)
    gaps = {i: t for i, t in state.gaps.items() if i not in seen and now - t < GAP_SECONDS}
    for skipped in range(max(state.seq + 1, seq - GAP_WINDOW), seq):
        if skipped not in seen:
            gaps[skipped] = now
    return index.ApplyState(seq=seq, gaps=gaps, version=state.version)


def apply_pending(timeout: float = 2.0, batch: int = BATCH) -> int:
    """Apply up to `batch` pending outbox rows with one writer; returns how many were applied.

    Returns 0 without waiting longer than `timeout` if another process holds the index lock:
    the rows stay and that process, the worker or `flask search sync` applies them.
    """
    path = index.live_dir()
    if not _has_pending(index.read_state(path)):
        return 0
    ensure_dictionary()
    try:
        writer = index.writer(index.open_index(path), timeout=timeout)
    except LockError:
        return 0
    try:
        state = index.read_state(path)  # again, now that we hold the lock
        rows = _pending_rows(state, batch)
        if not rows:
            writer.cancel()
            return 0
        write_documents(writer, (message_id for _, message_id in rows))
        writer.commit()
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    # After the commit: a crash before this line only means the rows are applied again.
    index.write_state(path, _advance(state, (row_id for row_id, _ in rows), time.time()))
    return len(rows)


def sync(timeout: float = 30.0) -> int:
    """Apply everything pending now; returns how many rows were applied."""
    total = 0
    while applied := apply_pending(timeout=timeout):
        total += applied
    return total


PRUNE_BATCH = 5000
PRUNE_BATCHES_PER_ROUND = 4  # the worker's share between two polls


def prune_outbox(
    keep_days: int = 7, batch: int = PRUNE_BATCH, max_batches: int | None = None
) -> int:
    """Delete outbox rows older than `keep_days` that this node has applied; returns how many.

    The newest row always stays, so SQLite never hands out an id this node has already passed.
    Rows go `batch` at a time, one short transaction each (a million-row backlog deleted in one
    statement held SQLite's write lock for half a minute, stalling every publication); the
    worker stops after `max_batches` and comes back on its next round.
    """
    path = index.live_dir(create=False)
    if path is None:
        return 0
    seq = index.read_state(path).seq
    newest = db.session.scalar(select(func.max(SearchOutbox.id)))
    if newest is None:
        return 0
    cutoff = utcnow() - timedelta(days=keep_days)
    total = batches = 0
    while max_batches is None or batches < max_batches:
        ids = db.session.scalars(
            select(SearchOutbox.id)
            .where(
                SearchOutbox.created_at < cutoff,
                SearchOutbox.id <= seq,
                SearchOutbox.id < newest,
            )
            .order_by(SearchOutbox.id)
            .limit(batch)
        ).all()
        if not ids:
            break
        db.session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(ids)))
        db.session.commit()
        total += len(ids)
        batches += 1
    db.session.rollback()  # end the read transaction of the last, empty lookup
    return total


def optimize(timeout: float = 60.0) -> int:
    """Merge the index into one segment, purging deleted documents' terms; returns documents.

    Deleting a document (a hidden or withdrawn message) only marks it; its words stay in the
    segment files until a merge rewrites them. The worker does this once a day.
    """
    ix = index.open_index(index.live_dir())
    index.writer(ix, timeout=timeout).commit(optimize=True)
    return ix.doc_count()


_purging: threading.Thread | None = None


def purge_deletions(background: bool = False) -> str:
    """Rewrite the index without its deleted documents' words (hidden and withdrawn messages
    must not stay in the index files); returns what was done.

    A small index is merged in place (`optimize`). Above SEARCH_OPTIMIZE_MAX_DOCS documents
    (100,000) it is rebuilt from the database instead: Whoosh's merge copies every posting in
    Python under the index lock and keeps a whole segment's terms in memory (an hour and over
    a gigabyte at a million messages), while a rebuild takes ~18 minutes there on two cores,
    bounded memory, and swaps in atomically. With `background` (the worker) the rebuild runs in
    a thread, so the worker keeps applying the outbox to the live index meanwhile; the new
    generation applies again whatever changed during the build."""
    global _purging
    limit = current_app.config.get("SEARCH_OPTIMIZE_MAX_DOCS")
    limit = 100_000 if limit is None else int(limit)
    with index.open_index(index.live_dir()).reader() as reader:
        documents = reader.doc_count_all()
    if documents <= limit:
        return f"optimized, {optimize()} documents"
    if not background:
        return f"rebuilt, {rebuild()} documents"
    if _purging is not None and _purging.is_alive():
        return "a rebuild is still running"
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                logger.info("search: rebuilt without deletions, %d documents", rebuild())
            except Exception:
                logger.exception("search: the rebuild that purges deletions failed")

    _purging = threading.Thread(target=run, name="search-purge", daemon=True)
    _purging.start()
    return "rebuilding in the background"


def has_deletions() -> bool:
    """True if some segment still holds deleted documents."""
    with index.open_index(index.live_dir()).reader() as reader:
        return reader.has_deletions()


# ---------------------------------------------------------------------------------------------
# Check and heal


@dataclass
class Drift:
    """Differences between the index and the public messages in the database (codes)."""

    missing: list[str] = field(default_factory=list)  # public, not indexed
    extra: list[str] = field(default_factory=list)  # indexed, not public (or gone)
    stale: list[str] = field(default_factory=list)  # indexed from an older version
    documents: int = 0
    public: int = 0

    @property
    def ok(self) -> bool:
        """True when the index holds exactly the current public messages."""
        return not (self.missing or self.extra or self.stale)


def check(repair: bool = False) -> Drift:
    """Compare the index with the database; with `repair`, rewrite the documents that differ."""
    path = index.live_dir()
    ix = index.open_index(path)
    with ix.searcher() as searcher:
        indexed = {
            f["code"]: (int(f["message_id"]), f.get("stamp")) for f in searcher.all_stored_fields()
        }
    rows = db.session.execute(
        select(Message.code, Message.id, Message.updated_at).where(public_condition())
    )
    public = {code: (message_id, updated.isoformat()) for code, message_id, updated in rows}
    drift = Drift(documents=len(indexed), public=len(public))
    drift.missing = sorted(set(public) - set(indexed))
    drift.extra = sorted(set(indexed) - set(public))
    drift.stale = sorted(c for c in set(public) & set(indexed) if public[c][1] != indexed[c][1])
    if repair and not drift.ok:
        ensure_dictionary()
        ids = [public[c][0] for c in drift.missing + drift.stale]
        ids += [indexed[c][0] for c in drift.extra]
        writer = index.writer(ix, timeout=30.0)
        try:
            write_documents(writer, ids)
            writer.commit()
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
    return drift


@dataclass
class Completeness:
    """Whether the live index holds what the database says is public, and if not, why."""

    ok: bool
    reason: str = ""
    documents: int = 0
    public: int = 0
    pending: int = 0
    outdated: bool = False  # whole, but built under an older DOCUMENTS_VERSION: rebuild quietly


def completeness() -> Completeness:
    """Compare the index's document count with the public messages, allowing one document of
    difference for each outbox row not applied yet.

    Read in this order — documents, then the applied sequence, then the public count and the
    pending rows — a change committed at any moment in between is covered by its pending row,
    so an index that followed the outbox always passes, and one that lost documents (its
    directory deleted after the outbox was pruned, a half-restored backup) fails.
    """
    path = index.live_dir(create=False)
    if path is None:
        public = count_public()
        if public == 0:
            return Completeness(True, public=0)
        return Completeness(False, "no index", public=public)
    documents = index.open_index(path).doc_count()
    state = index.read_state(path)
    public = count_public()
    beyond = SearchOutbox.id > state.seq
    pending = db.session.scalar(select(func.count(SearchOutbox.id)).where(beyond)) or 0
    gaps = sorted(state.gaps)
    for start in range(0, len(gaps), 500):  # skipped ids that turned up since (rare)
        pending += db.session.scalar(
            select(func.count(SearchOutbox.id)).where(
                SearchOutbox.id.in_(gaps[start : start + 500])
            )
        )
    newest = db.session.scalar(select(func.max(SearchOutbox.id))) or 0
    db.session.rollback()  # end the read transaction
    found = Completeness(True, documents=documents, public=public, pending=pending)
    found.outdated = state.version != index.DOCUMENTS_VERSION
    if newest < state.seq:
        found.ok = False
        found.reason = "the outbox is behind the index (the database was replaced or restored)"
    elif abs(documents - public) > pending:
        found.ok = False
        found.reason = (
            f"the index holds {documents} documents, the database {public} public messages"
        )
    return found


def heal() -> Completeness:
    """Rebuild the index from the database when it is missing or incomplete; what was found.

    A mismatch is confirmed once after applying what is pending before the (long) rebuild."""
    found = completeness()
    if found.ok and found.outdated:
        # Whole but built under older document rules (e.g. masking): it keeps serving, and
        # /healthz stays ok, while the new generation is built beside it and swapped in.
        logger.warning(
            "search: the index was built under older document rules: rebuilding it (version %d)",
            index.DOCUMENTS_VERSION,
        )
        logger.warning("search: index built, %d documents", rebuild())
        return found
    if found.ok:
        return found
    if found.reason != "no index":
        sync(timeout=30.0)
        found = completeness()
        if found.ok:
            return found
    logger.warning("search: %s: building the index from the database", found.reason)
    logger.warning("search: index built, %d documents", rebuild())
    return found


def index_status() -> dict:
    """For /healthz: documents, applied sequence, rows pending beyond it, and whether all is well.

    Not ok when there is no index, when a pending row has waited more than STALE_AFTER seconds
    (no worker is applying), or when the outbox is behind the index (a reset database).
    """
    status = {"doc_count": 0, "last_applied_seq": 0, "pending": 0, "lag_seconds": 0.0, "ok": False}
    try:
        path = index.live_dir(create=False)
        state = index.read_state(path) if path else index.ApplyState()
        status["last_applied_seq"] = state.seq
        beyond = SearchOutbox.id > state.seq
        status["pending"] = db.session.scalar(select(func.count(SearchOutbox.id)).where(beyond))
        oldest = db.session.scalar(select(func.min(SearchOutbox.created_at)).where(beyond))
        if oldest is not None:
            status["lag_seconds"] = round(max((utcnow() - oldest).total_seconds(), 0.0), 1)
        newest = db.session.scalar(select(func.max(SearchOutbox.id))) or 0
        if path is None:
            return status
        status["doc_count"] = index.open_index(path).doc_count()
        status["ok"] = status["lag_seconds"] < STALE_AFTER and newest >= state.seq
    except Exception:  # a health check reports, it does not raise
        logger.exception("search: index status failed")
        status["ok"] = False
    return status


_checked: dict[tuple[str, str], tuple[float, Completeness]] = {}


def cached_completeness(max_age: float) -> Completeness:
    """`completeness()`, computed at most once every `max_age` seconds per process and site
    (a load balancer asks /healthz every few seconds; at a million messages a count costs)."""
    key = (str(db.engine.url), str(index.index_root()))
    now = time.monotonic()
    held = _checked.get(key)
    if held is None or now - held[0] >= max_age:
        held = (now, completeness())
        _checked[key] = held
    return held[1]


# ---------------------------------------------------------------------------------------------
# The worker process


def _release_session() -> None:
    """End the round's session. When the database dropped the connection (a restart, an
    administrator's terminate), ending it fails as well: the pool throws that connection away
    and the next round opens a new one, so the worker carries on instead of dying."""
    try:
        db.session.remove()
    except Exception:
        logger.warning("search: the database connection was lost; reconnecting", exc_info=True)
        db.session.registry.clear()
        db.engine.dispose()


def run_worker(
    stop: threading.Event,
    interval: float = 0.5,
    prune_days: int = 7,
    optimize_hours: float = 24.0,
    check_seconds: float = 30.0,
) -> None:
    """Apply the outbox until `stop` is set: a poll every `interval` s, pruning once an hour,
    every `optimize_hours` purging deleted documents' words (`purge_deletions`), and every
    `check_seconds` making sure the index is whole (`heal`).

    Run it as its own process (`flask search worker`), never as a thread in a web worker.
    """
    ensure_dictionary(force=True)
    next_prune, next_check, failures = 0.0, 0.0, 0
    next_optimize = time.monotonic() + optimize_hours * 3600
    while not stop.is_set():
        applied = 0
        try:
            # The index heals itself: checked at start, every `check_seconds`, and at once when
            # its directory is gone; missing or incomplete, it is rebuilt from the database.
            if time.monotonic() >= next_check or index.live_dir(create=False) is None:
                heal()
                next_check = time.monotonic() + check_seconds
            applied = apply_pending(timeout=5.0)
            if time.monotonic() >= next_prune:
                pruned = prune_outbox(prune_days, max_batches=PRUNE_BATCHES_PER_ROUND)
                if pruned:
                    logger.info("search: pruned %d outbox rows", pruned)
                # A backlog is pruned a few batches per round, between applying rows.
                more = pruned >= PRUNE_BATCHES_PER_ROUND * PRUNE_BATCH
                next_prune = time.monotonic() + (0 if more else 3600)
            if time.monotonic() >= next_optimize:
                next_optimize = time.monotonic() + optimize_hours * 3600
                if has_deletions():
                    logger.info("search: %s", purge_deletions(background=True))
            if applied:
                logger.info("search: applied %d outbox rows", applied)
            failures = 0
        except Exception:
            failures += 1
            logger.exception("search: applying the outbox failed (attempt %d)", failures)
        finally:
            _release_session()
        if applied < BATCH:
            stop.wait(min(interval * 2**failures, 30.0))
