"""SEARCH_ENGINE: the fast engine and Whoosh's own collectors give the same results."""

from __future__ import annotations

from datetime import date

import pytest
from test_search_scale import mixed  # noqa: F401 (the fixture: a changed, multi-segment index)
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3PerDocReader

from board import create_app
from board.search import engine, index, indexer
from board.search.engine import fast, patches, plain
from board.search.query import (
    FACETS,
    SORT_KEYS,
    _as_title,
    filter_query,
    matching_codes,
    parse_query,
    search_messages,
)

QUERIES = [
    ("物业", None),
    ("物业费 上涨", None),
    ('"拖欠工资"', None),
    ("公交 OR 路灯", {"region": "330100"}),
    ("路灯 -物业", None),
    ("噪音 扰民 OR 油烟", {"kind": "complaint"}),
    ("区物业公司将物", None),  # a piece of a sentence: words OR the text as written (phrases)
    ("拖欠农民工工资", None),  # a title as written: exact titles first
    ("", {"date_from": date(2026, 4, 1), "date_to": date(2026, 9, 30)}),
    ("", {"state": ["received", "assigned"], "kind": "help"}),
]


def _query(text, filters):
    return (parse_query(text).to_query() if text else wq.Every()), filter_query(filters)


def _asked(text, sort):
    """What `search_messages` asks an engine for besides the query."""
    keys = SORT_KEYS.get(sort)
    relevance = engine.Relevance(exact_title=_as_title(text)) if text and not keys else None
    return {"facets": FACETS, "sort_keys": keys, "relevance": relevance}


def _run(module, searcher, text, filters, sort, limit=None):
    """One engine's answer to what `search_messages` asks for this request."""
    return module.run(searcher, *_query(text, filters), engine.Asked(limit, **_asked(text, sort)))


def _both(searcher, text, filters, sort):
    """The answers of both engines to what `search_messages` asks for this request."""
    return _run(fast, searcher, text, filters, sort), _run(plain, searcher, text, filters, sort)


def _assert_same_ranking(mine: engine.Found, theirs: engine.Found) -> None:
    """Same hits with the same scores, in the same order except among tied scores."""
    assert sorted(mine.docnums) == sorted(theirs.docnums)
    score = dict(zip(theirs.docnums, theirs.scores, strict=True))
    for doc, value in zip(mine.docnums, mine.scores, strict=True):
        assert value == pytest.approx(score[doc], rel=1e-6)
    assert mine.scores == sorted(mine.scores, reverse=True)
    for k, (doc, other) in enumerate(zip(mine.docnums, theirs.docnums, strict=True)):
        if doc != other:  # only where the scores tie
            assert mine.scores[k] == pytest.approx(theirs.scores[k], rel=1e-6), k


def test_both_engines_count_facet_sort_and_rank_alike(mixed):  # noqa: F811
    """Totals, facet counts, sorted orders and relevance ranking are the same from numpy as
    from Whoosh's collectors, on an index with several segments and deletions."""
    searcher = index.searcher()
    assert searcher.reader().has_deletions() or len(searcher.leaf_searchers()) > 1
    for text, filters in QUERIES:
        for sort in ("relevance", *SORT_KEYS) if text else SORT_KEYS:
            mine, theirs = _both(searcher, text, filters, sort)
            assert mine.total == theirs.total > 0, (text, sort)
            assert mine.facets == theirs.facets
            if sort == "relevance":
                _assert_same_ranking(mine, theirs)
            else:  # ties in index order in both
                assert mine.docnums == theirs.docnums, (text, sort)
            # A page: the first N of the whole order.
            page = _run(plain, searcher, text, filters, sort, limit=3)
            assert page.docnums == theirs.docnums[:3]


def test_relevance_extras_change_the_order_alike(mixed):  # noqa: F811
    """The queries above exercise what `Relevance` adds (phrases scored as terms, an exact
    title first): without it the order would differ, and both engines agree with it."""
    searcher = index.searcher()
    changed = 0
    for text, filters in QUERIES:
        if not text:
            continue
        q, narrow = parse_query(text).to_query(), filter_query(filters)
        with_extras, _ = _both(searcher, text, filters, "relevance")
        without = fast.run(searcher, q, narrow, engine.Asked())
        changed += with_extras.scores != without.scores
    assert changed >= 2


def _page(text, filters, sort):
    found = search_messages(text, filters=filters, sort=sort, per_page=100)
    return found.total, found.facets, [(h.message.code, round(h.score, 6)) for h in found.hits]


@pytest.mark.parametrize("sort", ["relevance", "newest", "cosigns"])
def test_search_pages_are_the_same_under_either_setting(app, mixed, sort):  # noqa: F811
    """`search_messages` and the listings' `matching_codes` answer the same with
    SEARCH_ENGINE = "whoosh" as with "fast"."""
    answers = {}
    for chosen in ("fast", "whoosh"):
        app.config["SEARCH_ENGINE"] = chosen
        answers[chosen] = [_page(text, filters, sort) for text, filters in QUERIES if text]
        answers[chosen].append([matching_codes(text, filters) for text, filters in QUERIES])
    assert answers["fast"] == answers["whoosh"]
    assert any(total for total, _, _ in answers["fast"][:-1])


def test_a_rebuild_with_whooshs_writers_finds_the_same(app, mixed):  # noqa: F811
    """Under "whoosh" a rebuild writes its segments with Whoosh's own writer: every search
    answers over it as over the index `BulkWriter` builds."""
    pages = {}
    for chosen in ("fast", "whoosh"):
        app.config["SEARCH_ENGINE"] = chosen
        assert indexer.rebuild(procs=1) == indexer.count_public()
        app.config["SEARCH_ENGINE"] = "fast"
        pages[chosen] = [_page(text, filters, "relevance") for text, filters in QUERIES if text]
    assert pages["whoosh"] == pages["fast"]


def test_create_app_installs_the_patches_only_for_the_fast_engine(app, tmp_path):
    """Nothing is patched at import: `create_app` installs Whoosh's replacements for "fast",
    takes them out for "whoosh", and refuses an unknown engine."""
    config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SEARCH_INDEX_DIR")}
    config.update(TESTING=True, INSTANCE_PATH=str(tmp_path / "instance"))
    try:
        create_app({**config, "SEARCH_ENGINE": "whoosh"})
        assert not patches.is_installed()
        assert not hasattr(W3PerDocReader, "whoosh_doc_field_length")
        create_app({**config, "SEARCH_ENGINE": "fast"})
        assert patches.is_installed()
        with pytest.raises(ValueError, match="SEARCH_ENGINE"):
            create_app({**config, "SEARCH_ENGINE": "lucene"})
    finally:
        patches.install()  # as the test's own app left it
