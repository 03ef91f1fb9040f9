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
    - `title_words`: for a query of two or more words, messages whose title holds every one
      of them (`title_clauses`) come before those that hold some only in their text — someone
      typing a few words of a title they remember (in any order) is looking for that message,
      not for one that repeats two of the words in a long body.
    - `exact_title`: (leaves, length) of the query as a title: messages whose title is exactly
      the query (its leaves adjacent, and no other words) come first of all — someone typing a
      title they remember is looking for that message.
    """

    phrases: bool = True
    exact_title: tuple[list[str], int] | None = None
    title_words: bool = True


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


def title_clauses(q: wq.Query) -> wq.Query | None:
    """The query's words restricted to the title field: what a document whose title holds
    every clause of the query (a word, or one of its alternatives) matches. None for a query
    of fewer than two clauses, or one with a clause that cannot be told in the title alone."""
    if type(q) is wq.AndNot:
        q = q.a
    clauses = q.subqueries if type(q) is wq.And else [q]
    restricted = [_in_title(clause) for clause in clauses]
    if len(restricted) < 2 or any(r is None for r in restricted):
        return None
    return wq.And(restricted)


def _in_title(q: wq.Query) -> wq.Query | None:
    """The part of a clause that matches in the title (None if none does)."""
    if type(q) in (wq.Term, wq.Phrase):
        return q if q.fieldname == "title" else None
    if type(q) is wq.Or:
        parts = [r for r in map(_in_title, q.subqueries) if r is not None]
        return None if not parts else parts[0] if len(parts) == 1 else wq.Or(parts)
    if type(q) is wq.And:
        parts = [_in_title(sub) for sub in q.subqueries]
        return None if not parts or any(r is None for r in parts) else wq.And(parts)
    return None


def title_tiers(q: wq.Query, relevance: Relevance | None) -> list[tuple[wq.Query, int | None]]:
    """The matches raised above all others, in order, each tier above those before it: for a
    query of two or more words the titles holding every word, then the titles that are exactly
    the query. Each tier as (a query on the title, the title's length or None)."""
    tiers: list[tuple[wq.Query, int | None]] = []
    if relevance is None:
        return tiers
    if relevance.title_words and (in_title := title_clauses(q)) is not None:
        tiers.append((in_title, None))
    if relevance.exact_title and relevance.exact_title[0]:
        leaves, length = relevance.exact_title
        tiers.append((title_query(leaves), length))
    return tiers


def title_query(leaves: list[str]) -> wq.Query:
    """The query's leaves adjacent in the title (what an exact title holds)."""
    return wq.Phrase("title", leaves) if len(leaves) > 1 else wq.Term("title", leaves[0])
