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
_cache: dict = {"key": None, "automaton": None}


def _fold(text: str) -> str:
    """Simplified characters, half-width and lower-case, without changing the length (so match
    positions stay valid): `法輪功`, `ＦＡＬＵＮ` and `Falun` are found by `法轮功` and `falun`."""
    folded = []
    for c in chinese.simplified(text):
        f = (unicodedata.normalize("NFKC", c) if c >= "\x80" else c).lower()
        folded.append(f if len(f) == 1 else c)
    return "".join(folded)


def words_query():
    """The list, alphabetically."""
    return select(SensitiveWord).order_by(SensitiveWord.word)


def _automaton():
    """An Aho–Corasick automaton of the current list, rebuilt when the list changes."""
    # The list is short (hundreds of words): reading it is cheaper than any invalidation scheme
    # across workers, and the automaton is only rebuilt when it changed.
    key = tuple(sorted(db.session.scalars(select(SensitiveWord.word))))
    if _cache["key"] != key:
        automaton = ahocorasick.Automaton()
        for word in key:
            folded = _fold(word)
            automaton.add_word(folded, folded)
        if len(automaton):
            automaton.make_automaton()
        _cache.update(key=key, automaton=automaton if len(automaton) else None)
    return _cache["automaton"]


def _spans(text: str) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of listed words in `text`, longest first on overlap."""
    automaton = _automaton()
    if automaton is None or not text:
        return []
    found = sorted(
        ((end - len(word) + 1, end + 1) for end, word in automaton.iter(_fold(text))),
        key=lambda span: (span[0], -span[1]),
    )
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
    return spans


def find(*texts: str | None) -> list[str]:
    """The listed words occurring in any of the texts, each once, in order of first appearance."""
    seen: list[str] = []
    for text in texts:
        for start, end in _spans(text or ""):
            word = _fold(text[start:end])
            if word not in seen:
                seen.append(word)
    return seen


def highlight(text: str | None) -> Markup:
    """The text escaped, with every listed word wrapped in <mark class="sensitive">."""
    text = text or ""
    out, last = [], 0
    for start, end in _spans(text):
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
