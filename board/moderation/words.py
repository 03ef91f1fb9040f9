"""The sensitive-word list: flag messages for the moderator, highlight the words, drop nothing."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import ahocorasick
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

from .. import chinese
from ..audit import record_change
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import Role, User
from .models import SensitiveWord

WORD_MAX = 40
_cache: dict = {"key": None, "automata": []}


def _fold_char(c: str) -> str:
    """One character simplified, half-width and lower-case; itself when that is not one char."""
    f = (unicodedata.normalize("NFKC", c) if c >= "\x80" else c).lower()
    return f if len(f) == 1 else c


# What people put between the characters of a word to slip it past a list (`办 证`, `V.P.N`,
# `法*轮*功`, a zero-width space): skipped when matching. Clause punctuation (，。；：！？、) and
# line breaks are not: a word is never found across two clauses.
_FILLER = frozenset(
    "*.·•-_|/\\~+#@&^%$`'\"=<>()[]{}【】（）「」『』《》〈〉〔〕…—–＊．－＿｜／＼～＋＃＠＆"
)


def _skipped(c: str) -> bool:
    if c in _FILLER or (c.isspace() and c not in "\n\r"):
        return True
    return c >= "\x80" and unicodedata.category(c) in ("Cf", "So", "Sk")


def _compact(text: str, skip: bool = True) -> tuple[str, list[int]]:
    """`text` folded (`_fold_char`: `法輪功`, `ＦＡＬＵＮ` → `法轮功`, `falun`), without the filler
    between characters when `skip`, and each kept character's index in `text` (for
    highlighting)."""
    chars: list[str] = []
    where: list[int] = []
    for index, c in enumerate(chinese.simplified(text)):
        if not (skip and _skipped(c)):
            chars.append(_fold_char(c))
            where.append(index)
    return "".join(chars), where


def _fold(word: str) -> str:
    """A word as the list compares it: folded, and without the filler between its characters
    (`法 轮 功` is 法轮功). A word that holds filler other than spaces on purpose (`C++`, `18+`,
    `A.B`) is compared as written, or `C++` would be found in every `c`."""
    compact, plain = _compact(word)[0], _compact(word, skip=False)[0]
    return compact if compact and compact == "".join(plain.split()) else plain


def words_query():
    """The list, alphabetically."""
    return select(SensitiveWord).order_by(SensitiveWord.word)


def _automata():
    """Aho–Corasick automata of the current list, rebuilt when the list changes: one over the
    text without filler (most words), one over the text as written (words with filler)."""
    # The list is short (hundreds of words): reading it is cheaper than any invalidation scheme
    # across workers, and the automata are only rebuilt when it changed.
    key = tuple(sorted(db.session.scalars(select(SensitiveWord.word))))
    if _cache["key"] != key:
        compact, plain = ahocorasick.Automaton(), ahocorasick.Automaton()
        for word in key:
            folded = _fold(word)
            (compact if folded == _compact(word)[0] else plain).add_word(folded, folded)
        automata = []
        for skip, automaton in ((True, compact), (False, plain)):
            if len(automaton):
                automaton.make_automaton()
                automata.append((skip, automaton))
        _cache.update(key=key, automata=automata)
    return _cache["automata"]


def _matches(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, listed word) in `text`, the longest first on overlap."""
    if not text:
        return []
    found = []
    for skip, automaton in _automata():
        folded, where = _compact(text, skip)
        found += [
            (where[end - len(word) + 1], where[end] + 1, word)
            for end, word in automaton.iter(folded)
        ]
    matches: list[tuple[int, int, str]] = []
    for start, end, word in sorted(found, key=lambda m: (m[0], -m[1])):
        if not matches or start >= matches[-1][1]:
            matches.append((start, end, word))
    return matches


def find(*texts: str | None) -> list[str]:
    """The listed words occurring in any of the texts, each once, in order of first appearance."""
    seen: list[str] = []
    for text in texts:
        for _start, _end, word in _matches(text or ""):
            if word not in seen:
                seen.append(word)
    return seen


def highlight(text: str | None) -> Markup:
    """The text escaped, with every listed word wrapped in <mark class="sensitive">."""
    text = text or ""
    out, last = [], 0
    for start, end, _word in _matches(text):
        out.append(escape(text[last:start]))
        out.append(Markup('<mark class="sensitive">%s</mark>') % text[start:end])
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def _require_admin(actor: User | None) -> None:
    if actor is None or actor.role != Role.ADMIN:
        raise PermissionDenied(_("只有管理员可以编辑敏感词表。"))


def add_words(raw: str, actor: User, *, now: datetime) -> list[str]:
    """Add the words (one per line) that are not yet listed; returns those added."""
    _require_admin(actor)
    words = []
    for line in (raw or "").splitlines():
        word = " ".join(line.split())
        if not word:
            continue
        if len(word) > WORD_MAX or any(ord(c) < 32 for c in word):
            raise ValidationFailed(fields={"words": [_("每个词不超过 %(n)d 个字。", n=WORD_MAX)]})
        if _fold(word) not in [_fold(w) for w in words]:
            words.append(word)
    if not words:
        raise ValidationFailed(fields={"words": [_("请至少填写一个词。")]})
    existing = {_fold(w) for w in db.session.scalars(select(SensitiveWord.word))}
    added = [w for w in words if _fold(w) not in existing]
    for word in added:
        db.session.add(SensitiveWord(word=word, created_at=now, created_by_id=actor.id))
        record_change(actor, "sensitive_word.add", word, None, {"word": word}, now=now)
    db.session.commit()
    return added


def delete_word(word_id: int, actor: User, *, now: datetime) -> str:
    """Remove one word from the list; returns it."""
    _require_admin(actor)
    row = db.session.get(SensitiveWord, word_id)
    if row is None:
        raise NotFound()
    word = row.word
    db.session.delete(row)
    record_change(actor, "sensitive_word.delete", word, {"word": word}, None, now=now)
    db.session.commit()
    return word
