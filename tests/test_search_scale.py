"""Search at scale: numpy counting equals Whoosh's collectors, parallel rebuild, bulk seed,
similar messages on the compose preview, the quality benchmark on the real archive."""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import T0, login, world
from sqlalchemy import func, select
from whoosh import query as wq
from whoosh import sorting

from board.extensions import db
from board.messages import services as msg
from board.models import (
    Clock,
    Domain,
    Event,
    Kind,
    Message,
    Reply,
    SearchOutbox,
    State,
)
from board.search import documents, index, indexer
from board.search.engine import fast
from board.search.query import FACETS, SORT_KEYS, filter_query, parse_query, search_messages
from board.seed import bulk, demo

BENCH = Path(__file__).resolve().parent.parent / "bench"
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

TEXTS = [
    ("物业费上涨未经业主大会表决", "小区物业公司将物业费从每平方米2元上调，业主不同意。"),
    ("路灯不亮已有一个多月", "文一西路的路灯晚上不亮，行人和电动车通行很危险。"),
    ("拖欠农民工工资", "工地老板拖欠工资三个月，农民工讨薪无门。"),
    ("学区划片不合理", "今年学区划片把我们小区划到很远的学校，孩子上学不便。"),
    ("烧烤店油烟扰民", "楼下烧烤店油烟和噪音扰民到凌晨，物业不管。"),
    ("公交线路调整建议", "建议增加公交班次，早高峰公交太挤，停车也难。"),
]


@pytest.fixture
def mixed(app, database, make_message, moderator, citizen, troll, make_user, tmp_path_factory):
    """Public messages in several states, regions and domains; some updated, hidden, withdrawn
    (built through the services once per process and database, then restored: `world`)."""
    ids = world(
        "mixed",
        database,
        tmp_path_factory,
        lambda: [m.id for m in _build_mixed(make_message, moderator, troll)],
    )
    return [db.session.get(Message, i) for i in ids]


def _build_mixed(make_message, moderator, troll) -> list[Message]:
    rng = random.Random(5)
    made = []
    for n in range(36):
        title, body = TEXTS[n % len(TEXTS)]
        state = rng.choice(["received", "received", "assigned", "in_progress", "submitted"])
        m = make_message(
            state,
            title=f"{title}{n}"[:40],
            body=body,
            region_code=rng.choice(["330106", "330127"]),
            domain=rng.choice([Domain.URBAN, Domain.TRANSPORT, Domain.ENVIRONMENT]),
            kind=rng.choice([Kind.COMPLAINT, Kind.SUGGESTION, Kind.HELP]),
            now=T0 + timedelta(days=n * 9),
        )
        made.append(m)
    indexer.sync()  # one segment for them all; the changes below make a second, with deletions
    for m in made[::7]:
        if m.is_public:
            msg.hide_message(m, moderator, reason="hide:unlawful", now=T0 + timedelta(days=400))
    for m in made[1::5]:
        if m.is_public:
            msg.cosign_message(m, troll, now=T0 + timedelta(days=401))  # a document update
    indexer.sync()
    return made


def _whoosh_reference(searcher, q, narrow, sort):
    """Total, facets and order computed by Whoosh's own collectors (the slow path)."""
    groupedby = {name: sorting.FieldFacet(f, maptype=sorting.Count) for name, f in FACETS.items()}
    sortedby = None
    if sort in SORT_KEYS:
        sortedby = sorting.MultiFacet(
            [sorting.FieldFacet(name, reverse=rev) for name, rev in SORT_KEYS[sort]]
        )
    results = searcher.search(q, filter=narrow, limit=None, sortedby=sortedby, groupedby=groupedby)
    # Whoosh groups the documents without the field (a message with no topic) under None; the
    # engines list only real values, as the plain engine's collector does.
    facets = {
        name: sorted(
            ((v, n) for v, n in results.groups(name).items() if v not in (None, "")),
            key=lambda kv: (-kv[1], str(kv[0])),
        )
        for name in FACETS
    }
    return len(results), facets, [hit.docnum for hit in results]


@pytest.mark.parametrize(
    ("text", "filters", "sort"),
    [
        ("物业", None, "newest"),
        ("物业费 上涨", None, "oldest"),
        ('"拖欠工资"', None, "cosigns"),
        ("公交 OR 路灯", {"region": "330100"}, "slowest"),
        ("路灯 -物业", None, "newest"),
        ("", {"date_from": date(2026, 4, 1), "date_to": date(2026, 9, 30)}, "newest"),
        ("", {"state": ["received", "assigned"], "kind": "help"}, "cosigns"),
        ("", {"replied": False, "region": "330127"}, "oldest"),
    ],
)
def test_numpy_counts_facets_and_sorts_equal_whoosh_collectors(mixed, text, filters, sort):
    """Totals, facet counts and sort orders from `fast` equal Whoosh's on a changed index."""
    q = parse_query(text).to_query() if text else wq.Every()
    narrow = filter_query(filters)
    searcher = index.searcher()
    assert searcher.reader().has_deletions() or len(searcher.leaf_searchers()) > 1
    found = fast.matches(searcher, q, narrow)
    total, facets, order = _whoosh_reference(searcher, q, narrow, sort)
    assert total > 0
    assert found.total == total
    assert found.facets(FACETS) == {k: [(str(a), b) for a, b in v] for k, v in facets.items()}
    mine = found.top(SORT_KEYS[sort], total)
    # Same keys in the same order (documents with equal keys may be listed in either order).
    keys = [searcher.stored_fields(d)["code"] for d in mine]
    assert sorted(keys) == sorted(searcher.stored_fields(d)["code"] for d in order)
    for name, reverse in SORT_KEYS[sort][:1]:
        column = searcher.reader().column_reader(name)
        values = [column[d] for d in mine]
        assert values == sorted(values, reverse=reverse)


@pytest.mark.parametrize(
    ("text", "filters"),
    [
        ("物业", None),
        ("物业费 上涨", None),
        ("公交 OR 路灯", {"region": "330100"}),
        ("路灯 -物业", None),
        ("噪音 扰民 OR 油烟", {"kind": "complaint"}),
    ],
)
def test_numpy_relevance_equals_whoosh_bm25(mixed, text, filters):
    """Ranking by relevance with numpy gives Whoosh's own BM25F scores and order."""
    q = parse_query(text).to_query()
    narrow = filter_query(filters)
    searcher = index.searcher()
    found = fast.matches(searcher, q, narrow)
    docs, scores = fast.ranked(searcher, q, found, found.total)
    reference = searcher.search(q, filter=narrow, limit=None)
    assert len(docs) == len(reference) > 0
    theirs = {hit.docnum: hit.score for hit in reference}
    assert set(docs) == set(theirs)
    for doc, score in zip(docs, scores, strict=True):
        assert score == pytest.approx(theirs[doc], rel=1e-5)
    assert scores == sorted(scores, reverse=True)
    # Page by page: the first N are the best N.
    assert fast.ranked(searcher, q, found, 3) == (docs[:3], scores[:3])


@pytest.mark.parametrize(
    "words",
    [["拖欠", "工资"], ["物业费", "上涨"], ["公交", "班次"], ["油烟", "噪音"], ["物业", "物业"]],
)
def test_numpy_phrases_find_what_whoosh_phrases_find(mixed, words):
    """A phrase's documents from numpy candidates and decoded positions equal Whoosh's."""
    searcher = index.searcher()
    for fieldname in ("title", "body", "grams"):
        for sub in (words, ["".join(words)[i : i + 2] for i in range(len("".join(words)) - 1)]):
            q = wq.Phrase(fieldname, sub)
            found = fast.matches(searcher, q)
            expected = sorted(searcher.search(q, limit=None).docs())
            mine = sorted(int(d + off) for _, off, _, ids in found.parts for d in ids)
            assert mine == expected, (fieldname, sub)


def test_posting_cache_keeps_results_right_after_updates(mixed, moderator):
    """Cached postings belong to a segment; a change writes a new segment and deletions."""
    before = search_messages("物业").total
    target = next(m for m in mixed if m.is_public and "物业" in m.body)
    msg.hide_message(target, moderator, reason="hide:unlawful", now=T0 + timedelta(days=500))
    indexer.sync()
    assert search_messages("物业").total == before - 1
    assert target.code not in [h.message.code for h in search_messages("物业", per_page=100).hits]


def test_search_request_uses_the_fast_path_for_pages_and_totals(mixed):
    """Pages of a sorted listing concatenate to the whole listing; totals agree."""
    whole = search_messages("", sort="newest", per_page=100)
    pages = [search_messages("", sort="newest", per_page=7, page=p) for p in (1, 2, 3)]
    assert all(p.total == whole.total for p in pages)
    codes = [h.message.code for p in pages for h in p.hits]
    assert codes == [h.message.code for h in whole.hits][: len(codes)]
    dates = [h.message.published_at for h in whole.hits]
    assert dates == sorted(dates, reverse=True)
    relevance = search_messages("物业费", filters={"region": "330100"})
    assert relevance.total == len(relevance.hits) or relevance.total > 20
    assert all(h.message.region_path.startswith("330000/330100") for h in relevance.hits)
    assert relevance.hits and relevance.hits[0].score > 0


@pytest.mark.parametrize(("procs", "segment_docs"), [(2, None), (2, 7), (1, 9)])
def test_parallel_rebuild_builds_the_same_index(app, mixed, moderator, procs, segment_docs):
    """A rebuild with one or several writer processes, each writing one or several segments,
    holds exactly the public messages, in the order of their ids."""
    app.config["SEARCH_REBUILD_SEGMENT_DOCS"] = segment_docs
    before = {h.message.code for h in search_messages("物业", per_page=100).hits}
    newest = [h.message.code for h in search_messages("", sort="cosigns", per_page=100).hits]
    # Batches of 4 messages: every process gets several batches.
    public = indexer.count_public()
    assert indexer.rebuild(procs=procs, batch=4) == public
    drift = indexer.check()
    assert drift.ok, drift
    segments = len(index.searcher().leaf_searchers())
    if segment_docs is None:
        assert segments == procs  # one segment per process
    else:
        assert segments >= -(-public // segment_docs) and segments > procs
    assert {h.message.code for h in search_messages("物业", per_page=100).hits} == before
    # Ties keep the order of the ids across the processes' segments.
    assert [
        h.message.code for h in search_messages("", sort="cosigns", per_page=100).hits
    ] == newest
    # and incremental updates still apply on top of it
    hidden = next(m for m in mixed if m.is_public)
    msg.hide_message(hidden, moderator, reason="hide:unlawful", now=T0 + timedelta(days=500))
    indexer.sync()
    assert indexer.check().ok
    assert hidden.code not in {h.message.code for h in search_messages("", per_page=100).hits}


def test_a_failing_writer_process_fails_the_rebuild_and_keeps_the_live_index(mixed, monkeypatch):
    before = search_messages("物业").total
    live = index.live_dir(create=False)
    generations = sorted(index.index_root().iterdir())
    victim = documents.public_ids()[-1]
    original = documents.document_for

    def document_for(message, *args, **kwargs):
        if message.id == victim:
            raise ValueError("disk full")
        return original(message, *args, **kwargs)

    monkeypatch.setattr(documents, "document_for", document_for)
    with pytest.raises(RuntimeError, match="disk full"):
        indexer.rebuild(procs=2, batch=4)
    assert index.live_dir(create=False) == live
    assert sorted(index.index_root().iterdir()) == generations  # the new one is gone
    assert search_messages("物业").total == before


# ---------------------------------------------------------------------------------------------
# Bulk seed


def _demo_world():
    demo.ensure_demo_units()
    return demo.ensure_demo_accounts(now=T0)


def test_bulk_rows_equal_what_the_services_write(app, directory):
    """The same plans, once through the services and once in bulk, leave the same rows."""
    accounts = _demo_world()
    scopes = demo.demo_scopes()
    plans = demo.plan_messages(90, scopes, now=T0 + timedelta(days=700), rng=random.Random(3))
    plans = [p for p in plans if bulk.mirrored(p)]  # the main lifecycle, which bulk reproduces
    assert len({p.state for p in plans}) >= 6
    app.config["SEARCH_APPLY_INLINE"] = False
    demo.apply_plan(plans, accounts)
    by_services = list(db.session.scalars(select(Message).order_by(Message.id)))
    builder = bulk._Builder(accounts, random.Random(1))
    builder.vary_bodies = False
    builder.codes.update(m.code for m in by_services)
    bulk._insert_chunk([builder.rows(p) for p in plans], T0)
    db.session.commit()
    db.session.expire_all()
    by_bulk = list(db.session.scalars(select(Message).order_by(Message.id)))[len(plans) :]
    fields = (
        "state visibility is_hidden hidden_reason title body unit_id cosign_count rejection_reason "
        "wants_public published_at assigned_at replied_at closed_at updated_at created_at"
    ).split()

    def events(m):
        return [
            (e.action, e.from_state, e.to_state, e.note, e.is_public, e.due_on, e.created_at)
            for e in m.events
        ]

    def clocks(m):
        rows = db.session.scalars(select(Clock).where(Clock.message_id == m.id).order_by(Clock.id))
        return [
            (c.policy, c.state, c.started_on, c.due_on, c.double_due_on, c.closed_at) for c in rows
        ]

    for a, b in zip(by_services, by_bulk, strict=True):
        assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}
        assert events(a) == events(b)
        assert clocks(a) == clocks(b)
        assert [(r.body, r.state, r.outcome) for r in a.replies] == [
            (r.body, r.state, r.outcome) for r in b.replies
        ]
        assert [(r.resolution, r.comment) for r in a.ratings] == [
            (r.resolution, r.comment) for r in b.ratings
        ]
        assert a.code != b.code


def test_seed_demo_writes_many_messages_in_bulk_and_they_index(app, directory, runner):
    """`flask seed demo --messages N` above the threshold: rows, outbox, then a full index."""
    app.config["SEED_BULK_THRESHOLD"] = 50
    app.config["SEARCH_APPLY_INLINE"] = False
    result = runner.invoke(args=["seed", "demo", "--messages", "400", "--now", "2026-11-01T09:00"])
    assert result.exit_code == 0, result.output
    assert "demo messages: 400 (400 new)" in result.output
    count = db.session.scalar(select(func.count()).select_from(Message))
    assert count == 400
    states = dict(
        db.session.execute(select(Message.state, func.count()).group_by(Message.state)).all()
    )
    assert {State.SUBMITTED, State.REJECTED, State.CLOSED, State.REPLIED} <= set(states)
    # Every message has its submit event and its moderation clock; replies where answered.
    assert (
        db.session.scalar(select(func.count()).select_from(Event).where(Event.action == "submit"))
        == count
    )
    replied = db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.state.in_([State.REPLIED, State.CLOSED]))
    )
    assert db.session.scalar(select(func.count()).select_from(Reply)) == replied
    # The outbox names every message that was ever published; applying it indexes the public.
    ever = db.session.scalar(select(func.count(func.distinct(SearchOutbox.message_id))))
    assert ever >= indexer.count_public() > 0
    indexer.sync()
    assert indexer.check().ok
    # A second run adds nothing.
    again = runner.invoke(args=["seed", "demo", "--messages", "400"])
    assert "none added" in again.output
    # The codes are unique tracking codes.
    codes = list(db.session.scalars(select(Message.code)))
    assert len(set(codes)) == len(codes) and all(c.startswith("MS-") for c in codes)


# ---------------------------------------------------------------------------------------------
# Similar messages on the compose preview


def test_compose_preview_lists_likely_duplicates(client, citizen, make_message):
    """The preview links public messages like the draft; private ones are never listed."""
    same = make_message(
        "received", title="文一西路路灯不亮", body="文一西路的路灯晚上不亮已经一个月。"
    )
    hidden = make_message(
        "received",
        title="文一西路路灯坏了",
        body="文一西路路灯不亮，晚上走路很危险。",
        wants_public=False,
    )
    make_message("received", title="学区划片", body="学区划片不合理，孩子上学太远。")
    login(client, citizen)
    response = client.post(
        "/write?board=330100-secretary",
        data={
            "track": "board",
            "kind": "help",
            "domain": "urban",
            "region": "330106",
            "title": "文一西路路灯不亮",
            "body": "文一西路的路灯晚上都不亮，走夜路很危险，请尽快修理。",
            "private_note": "",
            "wants_public": "y",
            "real_name": "",
            "phone": "",
            "address": "",
            "preview": "预览",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    preview = page[page.index('class="card preview"') : page.index('id="compose-form"')]
    assert 'id="similar-h"' in preview
    assert f"/m/{same.code}" in preview
    assert hidden.code not in preview
    assert "学区划片" not in preview


def test_compose_preview_without_similar_messages_has_no_list(client, citizen):
    login(client, citizen)
    response = client.post(
        "/write?board=330100-secretary",
        data={
            "track": "board",
            "kind": "help",
            "domain": "urban",
            "region": "330106",
            "title": "独一无二的标题",
            "body": "这是一段与任何留言都不相同的正文内容，用来检查预览。",
            "wants_public": "y",
            "preview": "预览",
        },
    )
    assert response.status_code == 200
    assert 'id="similar-h"' not in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Quality on the real archive (small version of bench/search_quality.py)


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not available")
def test_search_quality_beats_standard_analyzer_and_substring(database, tmp_path, monkeypatch):
    """Known-item queries from real messages: far ahead of Whoosh's default analyzer; against a
    substring search, as good on spans copied from the text, better ranked over all queries."""
    if not database.startswith("sqlite"):
        pytest.skip("the quality benchmark runs on its own SQLite database")
    monkeypatch.syspath_prepend(str(BENCH))
    for name in ("BOARD_SQLALCHEMY_DATABASE_URI", "BOARD_SEARCH_INDEX_DIR", "BOARD_INSTANCE_PATH"):
        monkeypatch.delenv(name, raising=False)
    import search_quality

    monkeypatch.setattr(
        search_quality, "make_app", lambda d: _quality_app(d, monkeypatch), raising=True
    )
    result = search_quality.run(rows=150, targets=40, seed=11, workdir=tmp_path)
    table = result["results"]
    ours, like = table["ours"]["all"], table["substring (LIKE)"]["all"]
    standard = table["whoosh standard"]["all"]
    # Whoosh's default analyzer cannot segment Chinese: far behind.
    assert ours["recall@10"] >= standard["recall@10"] + 0.4, table
    assert ours["mrr"] >= standard["mrr"] + 0.4, table
    assert ours["recall@10"] >= 0.85, table
    # Spans copied as typed (digits, Latin, cut mid-word) are what a substring search is made
    # for: found as written through the character pairs, at least as well as LIKE finds them.
    for kind in ("body span", "phrase"):
        for metric in ("recall@10", "mrr"):
            assert table["ours"][kind][metric] >= table["substring (LIKE)"][kind][metric], table
    # Over all queries: every target LIKE finds, and ranked better than LIKE's newest-first
    # order (a title several messages share, 投诉, is found because exact titles come first).
    assert ours["recall@10"] >= like["recall@10"], table
    assert ours["mrr"] > like["mrr"], table
    assert table["ours"]["title"]["mrr"] >= table["substring (LIKE)"]["title"]["mrr"], table


def _quality_app(directory: Path, monkeypatch):
    from board import create_app

    (directory / "instance").mkdir(parents=True, exist_ok=True)
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'quality.sqlite'}",
            "SEARCH_INDEX_DIR": str(directory / "index"),
            "SEARCH_APPLY_INLINE": False,
            "SECRET_KEY": "test",
        }
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
