"""Chinese text analysis for the index: jieba words split into dictionary sub-words.

The schema is pickled into the index, so `ChineseTokenizer` must stay importable from this module
path. A word from jieba's accurate mode is split into its finest in-dictionary sub-words (leaves),
which get sequential positions; the word itself (and any intermediate sub-word) is indexed at its
first leaf's position. Queries emit only the leaves, so a quoted phrase matches wherever its leaves
are adjacent, whatever coarser segmentation jieba chose in either text.
"""

from __future__ import annotations

import logging
import marshal
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from math import log

import jieba
from whoosh.analysis import Token, Tokenizer

from .. import chinese

try:  # Snowball English; without it, English words are indexed unstemmed (never Porter)
    from whoosh.lang.snowball.english import EnglishStemmer

    _stem = EnglishStemmer().stem
except ImportError:  # pragma: no cover - the stemmer ships with whoosh-reloaded 2.7.5

    def _stem(word: str) -> str:
        return word


STOP_WORDS = frozenset(
    # Chinese function words: particles, pronouns, conjunctions, prepositions.
    "的 地 得 了 着 过 吗 呢 吧 啊 呀 哦 嘛 么 之 其 是 在 和 与 及 或 而 并 且 被 把 对 也 都 "
    "又 就 还 很 我 你 您 他 她 它 我们 你们 他们 她们 这 那 这个 那个 这些 那些 这样 那样 "
    "一个 个 有 等 以及 及其 但 但是 如果 因为 所以 并且 而且 或者 还是 "
    # English function words (single letters are kept: A市, B超, 3号线).
    "an and are as at be by for from in is it of on or that the this to was were with".split()
)

# Full-width ASCII to half-width, A–Z to a–z and traditional characters to simplified
# (`board/chinese.py`): one character for one, so offsets stay exact.
_NORMALIZE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_NORMALIZE[0x3000] = 0x20
_NORMALIZE.update({cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)})
for _cp in range(ord("Ａ"), ord("Ｚ") + 1):
    _NORMALIZE[_cp] = _cp - 0xFEE0 + 32

_WORD_CHAR = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HAN_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z]+")
_MAX_JOINED = 4  # adjacent leaves are also indexed joined when that forms a dictionary word

_load_lock = threading.Lock()
_added_words: set[str] = set()


def load() -> None:
    """Load jieba's dictionary once per process (before gunicorn forks, if preloaded).

    Called before every segmentation, so the loaded case is one attribute test (setting the
    logger's level each time cleared the logging cache: 3 % of an index build)."""
    if not jieba.dt.initialized:
        with _load_lock:
            logging.getLogger("jieba").setLevel(logging.WARNING)
            initialize(jieba.dt)
            normalize("")  # the traditional-character table too, before workers fork


def initialize(tokenizer: jieba.Tokenizer) -> None:
    """`tokenizer.initialize()`, with the default dictionary's cache read in one piece.

    jieba reads its cache (a marshalled dict of ~500,000 words) with `marshal.load` on the open
    file, which reads it object by object: 1.6 s of CPU here, in every process that segments
    (the web master, the search worker, each CLI command). `marshal.loads` on the whole file
    takes 0.5 s. Only the default dictionary's cache, which jieba itself trusts whenever it
    exists, is read here; a custom dictionary, a missing or unreadable cache, or a jieba that
    keeps these attributes elsewhere is left to jieba, which builds and writes the cache."""
    with tokenizer.lock:
        if tokenizer.initialized:
            return
        if getattr(tokenizer, "dictionary", "") is jieba.DEFAULT_DICT:
            tmp = getattr(tokenizer, "tmp_dir", None) or tempfile.gettempdir()
            cache = os.path.join(tmp, getattr(tokenizer, "cache_file", None) or "jieba.cache")
            try:  # jieba's own cache, which jieba would load with marshal as well
                with open(cache, "rb") as file:
                    freq, total = marshal.loads(file.read())  # noqa: S302
            except (OSError, EOFError, ValueError, TypeError):
                pass  # jieba builds the cache
            else:
                if isinstance(freq, dict) and isinstance(total, int) and freq:
                    tokenizer.FREQ, tokenizer.total = freq, total
                    tokenizer.initialized = True
                    return
        tokenizer.initialize()


def add_words(words: Iterable[str]) -> int:
    """Add names (regions, boards, units) to jieba's dictionary; returns how many were new."""
    load()
    new = [w.strip() for w in words if w and w.strip() and w.strip() not in _added_words]
    with _load_lock:
        for word in new:
            if word not in _added_words:
                jieba.add_word(word)
                _added_words.add(word)
    if new:
        _decompose.cache_clear()
        _piece.cache_clear()
    return len(new)


_normalize_table: dict[int, int] | None = None

# A one-digit number written in Chinese before what it counts (三号线, 二单元, 五栋, 一期, 六楼)
# is read as its digit, so `3号线` and `三号线` find each other; people write both (in the real
# archives 465 `N号线` against 131 `三号线`-style, 1,167 `N栋` against 371). Not inside a longer
# number (`十三号线`, `二十五栋` stay as written) nor at the end of a word (`统一`, `同一期间`,
# `唯一`, `再三`), and only before these (`一路平安` stays).
NOT_COUNTED_AFTER = "0-9〇零一二三四五六七八九十百千万两统同唯单之专划不逐其再"
COUNTED_BEFORE = "号|栋|幢|单元|期|层|楼"
_COUNTED = re.compile(rf"(?<![{NOT_COUNTED_AFTER}])[一二三四五六七八九](?={COUNTED_BEFORE})")
_DIGIT_OF = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}


def normalize(text: str) -> str:
    """Half-width, lower-case ASCII, simplified characters and counted one-digit numbers as
    digits; the same length as `text`."""
    global _normalize_table
    if _normalize_table is None:  # once per process: OpenCC's table (board/chinese.py)
        _normalize_table = {**chinese.traditional_to_simplified(), **_NORMALIZE}
    folded = text.translate(_normalize_table)
    if folded.isascii():
        return folded
    return _COUNTED.sub(lambda m: _DIGIT_OF[m.group(0)], folded)


def _is_word(text: str) -> bool:
    """Dictionary words with a frequency (jieba keeps 0 for mere prefixes)."""
    return bool(jieba.dt.FREQ.get(text))


def _route_without_whole(word: str) -> list[tuple[int, int]]:
    """jieba's most probable split of `word` into dictionary words, never the word itself."""
    n = len(word)
    dag = jieba.dt.get_DAG(word)
    dag[0] = [x for x in dag[0] if x != n - 1] or [0]
    freq, logtotal = jieba.dt.FREQ, log(jieba.dt.total)
    route: dict[int, tuple[float, int]] = {n: (0.0, 0)}
    for idx in range(n - 1, -1, -1):
        route[idx] = max(
            (log(freq.get(word[idx : x + 1]) or 1) - logtotal + route[x + 1][0], x)
            for x in dag[idx]
        )
    pieces, start = [], 0
    while start < n:
        end = route[start][1] + 1
        pieces.append((start, end))
        start = end
    return pieces


@lru_cache(maxsize=50_000)
def _decompose(word: str) -> tuple[tuple[int, int, bool], ...]:
    """Spans of `word` as (start, end, is_leaf), each node before its sub-words.

    Leaves are single characters, two-character dictionary words and non-Chinese tokens; a
    longer word (or an unknown two-character one) is split along jieba's best route without it.
    """
    n = len(word)
    if n == 1 or not _HAN_ONLY.fullmatch(word) or (n == 2 and _is_word(word)):
        return ((0, n, True),)
    if n == 2:
        return ((0, 2, False), (0, 1, True), (1, 2, True))
    spans: list[tuple[int, int, bool]] = [(0, n, False)]
    for start, end in _route_without_whole(word):
        spans.extend((start + s, start + e, leaf) for s, e, leaf in _decompose(word[start:end]))
    return tuple(spans)


def _term(text: str) -> str:
    """A leaf or word as indexed: English words stemmed."""
    return _stem(text) if _LATIN_WORD.fullmatch(text) else text


# A leaf relative to its piece: (text, start, end, is Chinese, words starting at it).
_PieceLeaf = tuple[str, int, int, bool, tuple[tuple[str, int, int], ...]]


@lru_cache(maxsize=50_000)
def _piece(piece: str, removestops: bool) -> tuple[_PieceLeaf, ...]:
    """The kept leaves of one jieba word, offsets relative to it (cached: words repeat)."""
    if not _WORD_CHAR.search(piece):
        return ()
    out: list[_PieceLeaf] = []
    pending: list[tuple[str, int, int]] = []  # nodes waiting for their first kept leaf
    for s, e, is_leaf in _decompose(piece):
        sub = piece[s:e]
        if not is_leaf:
            pending.append((_term(sub), s, e))
        elif not (removestops and sub in STOP_WORDS) and _WORD_CHAR.search(sub):
            out.append((_term(sub), s, e, bool(_HAN_ONLY.fullmatch(sub)), tuple(pending)))
            pending = []
    return tuple(out)


@dataclass
class Word:
    """One word of jieba's accurate segmentation with its leaves (stop words removed)."""

    text: str
    start: int
    end: int
    leaves: list[str]

    @property
    def is_compound(self) -> bool:
        """True if the word is also indexed whole, beside its leaves."""
        return self.leaves != [self.text]


def words(text: str, removestops: bool = True) -> list[Word]:
    """Segment `text` (accurate mode) into words with their leaves and character offsets."""
    load()
    out: list[Word] = []
    for piece, start, end in jieba.tokenize(normalize(text)):
        kept = _piece(piece, removestops)
        if kept:
            out.append(Word(_term(piece), start, end, [leaf[0] for leaf in kept]))
    return out


# A leaf of a text: (text, start, end, words starting at it: whole words and joined leaves).
Leaf = tuple[str, int, int, tuple[tuple[str, int, int], ...]]


def leaves(text: str, removestops: bool = True) -> list[Leaf]:
    """All leaves of `text` in order, each with the longer words that start at it."""
    load()
    flat: list[tuple[str, int, int, bool, tuple[tuple[str, int, int], ...]]] = []
    for piece, start, _end in jieba.tokenize(normalize(text)):
        for sub, s, e, is_han, extras in _piece(piece, removestops):
            if extras:
                extras = tuple((t, start + a, start + b) for t, a, b in extras)
            flat.append((sub, start + s, start + e, is_han, extras))
    out: list[Leaf] = []
    freq = jieba.dt.FREQ
    for i, (sub, start, end, is_han, extras) in enumerate(flat):
        if is_han:
            # Adjacent leaves that together form a dictionary word (路/灯不亮 → 路灯) are indexed
            # joined too, so the word is found although jieba split the text differently.
            joined, stop = sub, end
            for nxt in flat[i + 1 : i + 3]:
                if nxt[1] != stop or not nxt[3] or len(joined) + len(nxt[0]) > _MAX_JOINED:
                    break
                joined, stop = joined + nxt[0], nxt[2]
                if freq.get(joined) and all(joined != x[0] for x in extras):
                    extras = (*extras, (joined, start, stop))
        out.append((sub, start, end, extras))
    return out


# A token as a tokenizer's `spans` yields it: text, start and end in the value, position.
_Span = tuple[str, int, int, int]


class _SpanTokenizer(Tokenizer):
    """A Whoosh tokenizer that fills Whoosh's reused Token from the spans of `spans`."""

    def spans(self, value: str, removestops: bool, mode: str, tokenize: bool) -> Iterator[_Span]:
        raise NotImplementedError

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        """Yield the tokens of `value` (one Token object, reused, as Whoosh expects)."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, start, end, pos in self.spans(value, removestops, mode, tokenize):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal or not tokenize:
                token.original = value[start:end] if tokenize else text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


class ChineseTokenizer(_SpanTokenizer):
    """Whoosh tokenizer: leaves at sequential positions; whole words too, except in queries."""

    def term_positions(self, value: str) -> dict[str, list[int]]:
        """Each term of `value` as indexed with its positions: the tokens `__call__` yields
        in index mode, without a Token object per term (index builds)."""
        found: dict[str, list[int]] = {}
        for pos, (leaf, _start, _end, extras) in enumerate(leaves(value)):
            for text, _, _ in extras:
                found.setdefault(text, []).append(pos)
            found.setdefault(leaf, []).append(pos)
        return found

    def spans(self, value: str, removestops: bool, mode: str, tokenize: bool) -> Iterator[_Span]:
        """Leaves at sequential positions, each after the words that start there (not in
        queries); without `tokenize`, the whole value as one token."""
        if not tokenize:
            yield normalize(value), 0, len(value), 0
            return
        with_words = mode != "query"
        for pos, (leaf, leaf_start, leaf_end, extras) in enumerate(leaves(value, removestops)):
            if with_words:
                for text, start, end in extras:
                    yield text, start, end, pos
            yield leaf, leaf_start, leaf_end, pos


# What separates the runs of `grams`: whitespace and the punctuation that sets off a clause or a
# quotation (after `normalize`, so full-width ，；：！？ are their ASCII forms). Everything else
# belongs to a run: Chinese, digits, Latin letters and the marks written inside a token or number
# (2.5, 10%, 3-5, 1/2, 10:30, ℃).
_GRAM_SEPARATORS = re.compile(r"[\s,;!?\"'()\[\]{}<>。、“”‘’「」『』《》〈〉【】〔〕…—–·]+")


def gram_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of the runs of `text` that `grams` pairs up (see `BigramTokenizer`)."""
    runs, start = [], 0
    for separator in _GRAM_SEPARATORS.finditer(text):
        if separator.start() > start:
            runs.append((start, separator.start()))
        start = separator.end()
    if start < len(text):
        runs.append((start, len(text)))
    return runs


class BigramTokenizer(_SpanTokenizer):
    """Overlapping pairs of characters at sequential positions (a lone character alone).

    The `grams` field: a phrase of a text's pairs matches wherever the text occurs as written,
    even cut mid-word (a remembered fragment like 区物业公司将物) or mid-number (000元 in
    5000元), which word segmentation cannot find. Pairs run over Chinese, digits, Latin letters
    and in-word marks alike (3号楼2单元, pm2.5, 10%), so any span typed without spaces or clause
    punctuation can be matched as written; the text is normalized first (half-width, lower
    case). Runs are separated by a position gap, so no phrase crosses a comma or a space.
    """

    def term_positions(self, value: str) -> dict[str, list[int]]:
        """Each pair of `value` with its positions, as `__call__` yields them."""
        found: dict[str, list[int]] = {}
        folded = normalize(value)
        pos = 0
        for base, stop in gram_runs(folded):
            if stop - base == 1:
                found.setdefault(folded[base], []).append(pos)
                pos += 2
                continue
            for i in range(base, stop - 1):
                found.setdefault(folded[i : i + 2], []).append(pos + i - base)
            pos += stop - base
        return found

    def spans(self, value: str, removestops: bool, mode: str, tokenize: bool) -> Iterator[_Span]:
        """The pairs of each run of the normalized value, a position gap between runs."""
        folded = normalize(value)
        pos = 0
        for base, stop in gram_runs(folded):
            size = stop - base
            spans = [(0, 1)] if size == 1 else [(i, i + 2) for i in range(size - 1)]
            for start, end in spans:
                yield folded[base + start : base + end], base + start, base + end, pos
                pos += 1
            pos += 1  # the gap between runs


def bigrams(text: str) -> list[list[str]]:
    """The pairs of each run of `text` (the query side of `BigramTokenizer`)."""
    folded = normalize(text)
    return [
        [folded[a:b]] if b - a == 1 else [folded[i : i + 2] for i in range(a, b - 1)]
        for a, b in gram_runs(folded)
    ]


def analyzer() -> ChineseTokenizer:
    """The analyzer of every full-text field."""
    return ChineseTokenizer()
