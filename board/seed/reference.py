"""Reason codes every installation needs, adapted from the 领导留言板's published categories
(listed in `board/seed/data/reference.toml`), and a starting list of sensitive words."""

from __future__ import annotations

from ..extensions import db
from ..models import ReasonCode, ReasonUse
from . import texts


def reasons() -> list[tuple[str, ReasonUse, str, str]]:
    """The reason codes in their listing order: (code, use, Chinese label, English label), from
    `board/seed/data/reference.toml`."""
    return [
        (row["code"], ReasonUse(row["use"]), row["label"], row["label_en"])
        for row in texts.load("reference")["reason"]
    ]


def seed_reason_codes() -> int:
    """Insert missing reason codes (idempotent); returns how many were added."""
    added = 0
    for sort, (code, use, label, label_en) in enumerate(reasons()):
        key = code if use == ReasonUse.REJECT else f"{use}:{code}"
        if db.session.get(ReasonCode, key) is None:
            db.session.add(ReasonCode(code=key, use=use, label=label, label_en=label_en, sort=sort))
            added += 1
    db.session.commit()
    return added


# A short starting list for the moderators' sensitive-word list (admins edit it at
# /moderation/words). Words only flag a message for a closer look; nothing is dropped.
SENSITIVE_WORDS = ["法轮功", "台独", "赌博网站", "代开发票", "办证", "枪支", "毒品", "裸聊", "传销"]


def seed_sensitive_words() -> int:
    """Insert the default sensitive words that are missing (idempotent); returns how many."""
    from ..clock import utcnow
    from ..moderation.models import SensitiveWord

    existing = set(db.session.scalars(db.select(SensitiveWord.word)))
    added = [w for w in SENSITIVE_WORDS if w not in existing]
    for word in added:
        db.session.add(SensitiveWord(word=word, created_at=utcnow()))
    db.session.commit()
    return len(added)
