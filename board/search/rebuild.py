"""Building a whole index from the database beside the live one, in forked writer processes.

The new generation records the outbox sequence seen before reading any message, so changes
made during the build are applied again after the swap (`index.swap_in`); searches keep using
the live generation throughout.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import SearchOutbox
from . import analysis, documents, engine, index, topics


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
    documents.ensure_dictionary(force=True)
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
        ids = documents.public_ids()
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
            messages = documents.load_messages(ids[start : start + batch])
            roots = topics.topic_roots()  # per batch: the taxonomy may grow during a long build
            for message in messages.values():
                if not message.is_public:
                    continue
                if sub is None:
                    sub = engine.segment_writer(ix, compound=index.COMPOUND)
                sub.add_document(**documents.document_for(message, roots))
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
