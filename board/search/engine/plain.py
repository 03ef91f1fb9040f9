"""The engine on Whoosh's public API alone (`SEARCH_ENGINE = "whoosh"`): its collectors count,
group and score every match; no private attribute is read and nothing is patched.

Slower than `fast` (Whoosh visits each match in Python: ~270 ms p95 at 100k messages with
counts, phrases up to seconds) but with the same answers: the tests compare both on the same
index. The collector finds, counts and groups the matches; their order is computed here in
Python through public searcher methods (`column_reader`, `postings`, `idf`,
`doc_field_length`, `docs_for_query`): sorts by the columns, relevance as the same BM25F sum
`fast` computes (a phrase scored as its words, plus `Relevance`), ties in index order.
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh import sorting
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import length_to_byte

from .base import (
    Asked,
    Found,
    bm25,
    phrase_idf,
    positive_phrases,
    scoring_terms,
    title_tiers,
)


def run(searcher: Searcher, q: wq.Query, narrow: wq.Query | None, asked: Asked) -> Found:
    """The engine's answer (see `engine.run`) from Whoosh's own collectors."""
    groupedby = {
        name: sorting.FieldFacet(column, maptype=sorting.Count)
        for name, column in asked.facets.items()
    }
    results = searcher.search(
        q, filter=narrow, limit=None, groupedby=groupedby or None, scored=False
    )
    found = Found(total=len(results))
    for name in groupedby:
        counts = [(str(v), n) for v, n in results.groups(name).items() if v not in (None, "")]
        found.facets[name] = sorted(counts, key=lambda kv: (-kv[1], kv[0]))
    if not found.total:
        return found
    limit = found.total if asked.limit is None else asked.limit
    if asked.sort_keys:
        found.docnums = _sorted(searcher, [hit.docnum for hit in results], asked.sort_keys)[:limit]
        found.scores = [0.0] * len(found.docnums)
        return found
    scores = dict.fromkeys((hit.docnum for hit in results), 0.0)
    relevance = asked.relevance
    if relevance is not None and relevance.phrases:
        _add_phrases(searcher, q, scores)
    _add_terms(searcher, q, scores)
    if "title" in searcher.schema:
        for title, length in title_tiers(q, relevance):
            _first(scores, _holding(searcher, scores, title, length))
    order = sorted(scores, key=lambda d: (-scores[d], d))[:limit]
    found.docnums, found.scores = order, [scores[d] for d in order]
    return found


def _sorted(searcher: Searcher, docnums: list[int], keys: list[tuple[str, bool]]) -> list[int]:
    """Docnums ordered by the sort columns (name, descending), ties in index order: stable
    sorts from the last key to the first (a descending sort keeps equal items in order)."""
    reader = searcher.reader()
    order = sorted(docnums)
    for name, reverse in reversed(keys):
        column = reader.column_reader(name)
        order.sort(key=column.__getitem__, reverse=reverse)
    return order


def _add_terms(searcher: Searcher, q: wq.Query, scores: dict[int, float]) -> None:
    """Add each scoring word's BM25F to the scores of the documents holding it: Whoosh's own
    weighting for words; a phrase scores as its words (Whoosh's span matcher scores it
    otherwise), so both engines rank phrases alike."""
    for fieldname, text, boost in scoring_terms(q):
        if fieldname not in searcher.schema:
            continue
        try:
            postings = searcher.postings(fieldname, text)
        except TermNotFound:
            continue
        idf = searcher.idf(fieldname, text)
        average = searcher.avg_field_length(fieldname) or 1.0
        while postings.is_active():
            docnum = postings.id()
            if docnum in scores:
                length = searcher.doc_field_length(docnum, fieldname) or 0
                scores[docnum] += boost * bm25(idf, postings.weight(), length, average)
            postings.next()


def _add_phrases(searcher: Searcher, q: wq.Query, scores: dict[int, float]) -> None:
    """A phrase also scores as a term of its own, once per adjacent pair of its words."""
    schema = searcher.schema
    for phrase, boost in positive_phrases(q):
        if phrase.fieldname not in schema:
            continue
        holding = set(searcher.docs_for_query(phrase))
        if not holding:
            continue
        idf = phrase_idf(searcher.doc_count_all(), len(holding))
        tf = schema[phrase.fieldname].format.field_boost
        average = searcher.avg_field_length(phrase.fieldname) or 1.0
        for docnum in holding.intersection(scores):
            length = searcher.doc_field_length(docnum, phrase.fieldname) or 0
            scores[docnum] += boost * (len(phrase.words) - 1) * bm25(idf, tf, length, average)


def _holding(
    searcher: Searcher, scores: dict[int, float], title: wq.Query, length: int | None
) -> set[int]:
    """The matches whose title matches `title` (and, if given, has that length)."""
    chosen = set(searcher.docs_for_query(title)).intersection(scores)
    if length is None:
        return chosen
    wanted = length_to_byte(length)
    return {
        d for d in chosen if length_to_byte(searcher.doc_field_length(d, "title") or 0) == wanted
    }


def _first(scores: dict[int, float], chosen: set[int]) -> None:
    """Raise the chosen matches above every other by the highest score so far (in their own
    order), as `fast` does."""
    chosen = chosen.intersection(scores)
    if chosen:
        best = max(scores.values())
        for docnum in chosen:
            scores[docnum] += best
