"""Keeping the index equal to the public messages: the outbox applier, rebuild, check, worker.

Only public text enters the index: a message is indexed iff `message.is_public`, and its title,
body and published replies pass through `privacy.public_text` first; otherwise its document is
deleted. Each index generation records the outbox sequence it has applied (index.ApplyState), so
applying is idempotent and at-least-once, and several nodes may each keep their own index.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload
from whoosh.index import LockError
from whoosh.writing import SegmentWriter

from ..clock import local_date, utcnow
from ..extensions import db
from ..models import PUBLIC_STATES, Board, Message, Region, SearchOutbox, Unit, Visibility
from ..privacy import public_text
from . import analysis, engine, index

logger = logging.getLogger(__name__)

BATCH = 500  # outbox rows per writer commit
GAP_SECONDS = 600.0  # how long an id skipped by the sequence is looked for again
GAP_WINDOW = 5000  # only ids this close below the newest are tracked as gaps
STALE_AFTER = 60.0  # index_status is not ok when a pending row is older than this (seconds)
# Common short names of departments, so they stay whole like the unit names they stand for.
DEPARTMENT_ABBREVIATIONS = (
    "住建局",
    "住建委",
    "住建厅",
    "交通局",
    "交运局",
    "交警队",
    "人社局",
    "人社厅",
    "市监局",
    "城管局",
    "发改委",
    "卫健委",
    "教育局",
    "教育厅",
    "公安局",
    "民政局",
    "环保局",
    "生态环境局",
    "自然资源局",
    "规划局",
    "水务局",
    "医保局",
    "税务局",
    "信访局",
    "街道办",
    "居委会",
    "村委会",
    "业委会",
)
_REGION_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "地区",
    "新区",
    "省",
    "市",
    "区",
    "县",
)


# ---------------------------------------------------------------------------------------------
# The user dictionary


_dictionary_sources: set[str] = set()


def directory_words() -> list[str]:
    """Region, board and unit names (and short forms) that segmentation must keep whole."""
    words: list[str] = list(DEPARTMENT_ABBREVIATIONS)
    for name in db.session.scalars(select(Region.name)):
        words.append(name)
        for suffix in _REGION_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                words.append(name[: -len(suffix)])
                break
    words += db.session.scalars(select(Board.title))
    words += db.session.scalars(select(Unit.name))
    return words


def ensure_dictionary(force: bool = False) -> None:
    """Load the directory's names into jieba once per process and database (or again if forced)."""
    source = str(db.engine.url)
    if force or source not in _dictionary_sources:
        analysis.add_words(directory_words())
        _dictionary_sources.add(source)


# ---------------------------------------------------------------------------------------------
# Documents


def public_condition():
    """SQL for `Message.is_public`."""
    return (
        (Message.visibility == Visibility.PUBLIC)
        & Message.is_hidden.is_(False)
        & Message.state.in_(PUBLIC_STATES)
    )


def document_for(message: Message) -> dict:
    """The index document of a public message: masked text, filters, sort keys."""
    replies = [r for r in message.published_replies if r.published_at is not None]
    path = message.region_path.split("/")
    published = message.published_at or message.created_at
    doc = {
        "message_id": str(message.id),
        "code": message.code,
        "code_text": message.code,
        "title": public_text(message, message.title),
        "body": public_text(message, message.body),
        "reply": "\n\n".join(public_text(message, r.body) for r in replies),
        "grams": "",  # filled below from the masked title, body and replies
        "region": " ".join(path),
        "region_name": message.region.full_name,
        "board": message.board.code,
        "board_title": message.board.title,
        "kind": message.kind,
        "domain": message.domain,
        "state": message.state,
        "replied": bool(replies),
        "published_on": published,
        "year": str(local_date(published).year),
        "top_region": path[0],
        "cosigns": message.cosign_count or 0,
        "stamp": message.updated_at.isoformat(),
        "reply_days": -1,
    }
    doc["grams"] = "\n".join((doc["title"], doc["body"], doc["reply"]))
    if message.unit is not None:
        doc["unit"] = message.unit.code
    if replies:
        first = min(r.published_at for r in replies)
        doc["replied_on"] = first
        doc["reply_days"] = max((first - published).days, 0)
    return doc


def load_messages(ids: Iterable[int]) -> dict[int, Message]:
    """Messages by id with what a document needs, fresh from the database."""
    ids = list(ids)
    found: dict[int, Message] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(Message)
            .where(Message.id.in_(ids[start : start + 500]))
            .options(
                selectinload(Message.board),
                selectinload(Message.region),
                selectinload(Message.unit),
                selectinload(Message.replies),
                selectinload(Message.author),
            )
            .execution_options(populate_existing=True)
        )
        found.update((m.id, m) for m in db.session.scalars(query))
    return found


def write_documents(writer: SegmentWriter, message_ids: Iterable[int]) -> None:
    """Update the documents of these messages, deleting those that are not public (or gone)."""
    message_ids = sorted(set(message_ids))
    messages = load_messages(message_ids)
    fields = set(writer.schema.names())
    for message_id in message_ids:
        message = messages.get(message_id)
        if message is not None and message.is_public:
            # An index built before a field was added lacks it until the next rebuild.
            doc = document_for(message)
            writer.update_document(**{k: v for k, v in doc.items() if k in fields})
        else:
            writer.delete_by_term("message_id", str(message_id))


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
# Rebuild and check


def _public_ids() -> list[int]:
    return list(
        db.session.scalars(select(Message.id).where(public_condition()).order_by(Message.id))
    )


def count_public() -> int:
    """How many messages the index should hold."""
    return db.session.scalar(select(func.count(Message.id)).where(public_condition())) or 0


def rebuild_procs() -> int:
    """Writer processes for a rebuild: SEARCH_REBUILD_PROCS, else one per core (at most 4)."""
    configured = current_app.config.get("SEARCH_REBUILD_PROCS")
    if configured:
        return max(int(configured), 1)
    return max(1, min(os.cpu_count() or 1, 4))


def rebuild(
    progress: Callable[[int], None] | None = None, batch: int = 500, procs: int | None = None
) -> int:
    """Build a fresh index from the database beside the live one, then swap it in atomically.

    Its sequence is the newest outbox id seen before reading any message, so every change made
    during the build is applied again after the swap. Returns the number of documents.

    Segments are written by `engine.segment_writer`, at most `segment_docs()` documents each. With
    `procs` > 1, `procs` forked processes each read a consecutive share of the messages and
    write its segments (`_build_in_processes`). Measured in docs/search.md.
    """
    procs = rebuild_procs() if procs is None else max(int(procs), 1)
    ensure_dictionary(force=True)
    root = index.index_root()
    seq = db.session.scalar(select(func.max(SearchOutbox.id))) or 0
    # Ids just below `seq` not visible yet may belong to transactions still committing.
    visible = set(db.session.scalars(select(SearchOutbox.id).where(SearchOutbox.id > seq - 1000)))
    now = time.time()
    gaps = {i: now for i in range(max(seq - 999, 1), seq) if i not in visible}
    generation = index.new_generation(root)
    count = 0
    try:
        analysis.load()  # forked writers inherit jieba's dictionary and the directory's words
        ix = index.create_index(generation)
        ids = _public_ids()
        writer = index.writer(ix)
        try:
            if procs > 1 and len(ids) >= 2 * batch:
                count = _build_in_processes(ix, writer, ids, procs, batch, progress)
            else:
                count, segments = _write_segments(ix, ids, batch, progress)
                engine.commit_segments(writer, segments)
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
        index.write_state(generation, index.ApplyState(seq=seq, gaps=gaps))
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    with index.root_lock(root):
        index.swap_in(root, generation)
    db.session.rollback()  # end the long read transaction
    return count


def _build_in_processes(ix, writer, ids: list[int], procs: int, batch: int, progress) -> int:
    """Index `ids` in `procs` forked processes, each reading its own share of the messages
    from the database and writing its own segments; the segments are then committed together
    under `writer`'s lock (as Whoosh's MpWriter with `multisegment`, without sending every
    document through a pipe from one reading process)."""
    context = multiprocessing.get_context("fork")
    events = context.Queue()
    # Consecutive shares, committed in order: documents keep the order of their ids, which
    # sorts break ties by.
    shares = [ids[k * len(ids) // procs : (k + 1) * len(ids) // procs] for k in range(procs)]
    db.session.rollback()  # no connection in use while forking
    children = [
        context.Process(target=_index_share, args=(ix, k, share, batch, events), daemon=True)
        for k, share in enumerate(shares)
    ]
    for child in children:
        child.start()
    segments, finished, count, failure = {}, 0, 0, None
    try:
        while finished < len(children):
            try:
                kind, value = events.get(timeout=5)
            except queue.Empty:
                if any(c.exitcode not in (None, 0) for c in children):
                    failure = "a writer process died"
                    break
                continue
            if kind == "progress" and progress:
                progress(value)
            elif kind == "done":
                place, done, written = value
                finished += 1
                count += done
                segments[place] = written
            elif kind == "error":
                failure = value
                break
    finally:
        for child in children:
            child.join(timeout=None if failure is None else 5)
            if child.is_alive():
                child.kill()
    if failure is not None:
        raise RuntimeError(f"search rebuild failed in a writer process: {failure}")
    engine.commit_segments(writer, [seg for k in sorted(segments) for seg in segments[k]])
    return count


def segment_docs() -> int:
    """Documents per segment of a rebuild (SEARCH_REBUILD_SEGMENT_DOCS, default 125,000).

    A segment's whole term table stays in memory until the segment is written (12 bytes a
    term in `segment.CompactTermTable`, ~11 terms of its own a message), and its per-document
    lengths and columns too, so a bound on a segment bounds a writer's memory; a search pays
    little for a few more segments (docs/search.md)."""
    return max(int(current_app.config.get("SEARCH_REBUILD_SEGMENT_DOCS") or 125_000), 1)


def _write_segments(ix, ids: list[int], batch: int, progress=None) -> tuple[int, list]:
    """Index the public messages among `ids` into new segments of at most `segment_docs()`
    documents each (segment writers without the lock: the caller holds it); (count, segments)."""
    limit = segment_docs()
    count, segments, sub = 0, [], None
    try:
        for start in range(0, len(ids), batch):
            messages = load_messages(ids[start : start + batch])
            for message in messages.values():
                if not message.is_public:
                    continue
                if sub is None:
                    sub = engine.segment_writer(ix, compound=index.COMPOUND)
                sub.add_document(**document_for(message))
                count += 1
                if sub.doc_count() >= limit:
                    segments.append(engine.finish_segment(sub))
                    sub = None
            if progress:
                progress(len(ids[start : start + batch]))
        if sub is not None:
            segments.append(engine.finish_segment(sub))
            sub = None
    finally:
        if sub is not None:
            engine.abandon_segment(sub)
    return count, segments


def _index_share(ix, place: int, ids: list[int], batch: int, events) -> None:
    """A forked writer process: index these messages into segments of its own."""
    try:
        db.engine.dispose(close=False)  # the parent's pooled connections are not ours to use
        count, segments = _write_segments(ix, ids, batch, lambda n: events.put(("progress", n)))
        events.put(("done", (place, count, segments)))
    except BaseException as error:  # reported to the parent, which fails the rebuild
        events.put(("error", f"{type(error).__name__}: {error}"))
    finally:
        db.session.remove()
        events.close()
        events.join_thread()


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
            db.session.remove()
        if applied < BATCH:
            stop.wait(min(interval * 2**failures, 30.0))
