"""What both engines share: the answer they give, the ranking extras and Whoosh's BM25F."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import log

from whoosh import query as wq

# Whoosh's default weighting (BM25F, `whoosh.scoring.BM25F`), reproduced for ranking.
B, K1 = 0.75, 1.2


@dataclass
class Found:
    """What a search asks of an engine: the total, the facet counts over every match, and the
    hits asked for (global docnums, best or first first) with their scores (0 when sorted)."""

    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    docnums: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)


@dataclass
class Asked:
    """What a search asks of an engine besides the query and filter: the first `limit`
    matches (None: all), facet counts (name → column), an order by number columns (name,
    descending; else by relevance) and what relevance adds to BM25F."""

    limit: int | None = None
    facets: dict[str, str] = field(default_factory=dict)
    sort_keys: list[tuple[str, bool]] | None = None
    relevance: Relevance | None = None


@dataclass
class Relevance:
    """What a search request adds to Whoosh's BM25F (ranking without it equals Whoosh).

    - `phrases`: a phrase also scores as a term of its own (BM25F with the phrase's document
      frequency), once per adjacent pair of its words, as the sequential dependence model
      (Metzler and Croft, 2005) scores ordered pairs; so a message holding the words as written
      ranks above one holding them apart (an unquoted span is searched as words OR as written,
      see `query._or_grams`).
    - `exact_title`: (leaves, length) of the query as a title: messages whose title is exactly
      the query (its leaves adjacent, and no other words) come first — someone typing a title
      they remember is looking for that message.
    """

    phrases: bool = True
    exact_title: tuple[list[str], int] | None = None


def scoring_terms(q: wq.Query, boost: float = 1.0) -> list[tuple[str, str, float]]:
    """(field, text, boost) of every word that adds to a document's score: the positive terms
    and the words of phrases; excluded (`-word`) and filter parts add nothing."""
    boost *= getattr(q, "boost", 1.0) or 1.0
    if type(q) is wq.Term:
        return [(q.fieldname, q.text, boost)]
    if type(q) is wq.Phrase:
        return [(q.fieldname, word, boost) for word in q.words]
    if type(q) is wq.AndNot:
        return scoring_terms(q.a, boost)
    if isinstance(q, (wq.And, wq.Or)):
        return [term for sub in q.subqueries for term in scoring_terms(sub, boost)]
    return []


def bm25(idf, tf, length, average: float):
    """Whoosh's BM25F term score (`whoosh.scoring.bm25`), over numbers or numpy arrays."""
    return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / average)))


def phrase_idf(doc_count_all: int, holding: int) -> float:
    """The idf of a phrase scored as a term of its own, as Whoosh's `idf` computes a term's."""
    return log(doc_count_all / (holding + 1)) + 1


def positive_phrases(q: wq.Query, boost: float = 1.0) -> list[tuple[wq.Phrase, float]]:
    """The phrases a document is scored for (not those under an exclusion), with boosts."""
    boost *= getattr(q, "boost", 1.0) or 1.0
    if type(q) is wq.Phrase:
        return [(q, boost)] if len(q.words) > 1 else []
    if type(q) is wq.AndNot:
        return positive_phrases(q.a, boost)
    if isinstance(q, (wq.And, wq.Or)):
        return [found for sub in q.subqueries for found in positive_phrases(sub, boost)]
    return []


def title_query(leaves: list[str]) -> wq.Query:
    """The query's leaves adjacent in the title (what an exact title holds)."""
    return wq.Phrase("title", leaves) if len(leaves) > 1 else wq.Term("title", leaves[0])
