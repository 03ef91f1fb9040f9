"""Reason codes every installation needs, adapted from the 领导留言板's published categories."""

from __future__ import annotations

from ..extensions import db
from ..models import ReasonCode, ReasonUse

REASONS: list[tuple[str, ReasonUse, str, str]] = [
    ("unlawful", ReasonUse.REJECT, "含有违法违规内容", "Contains unlawful content"),
    (
        "others_privacy",
        ReasonUse.REJECT,
        "含有他人隐私信息",
        "Contains other people's private data",
    ),
    (
        "multiple_matters",
        ReasonUse.REJECT,
        "一事一留言，请分开反映",
        "Several matters in one message",
    ),
    (
        "court_matter",
        ReasonUse.REJECT,
        "属于诉讼、仲裁等法定途径解决的事项",
        "A matter for the courts or arbitration",
    ),
    (
        "other_channel",
        ReasonUse.REJECT,
        "已通过其他渠道反映、正在处理",
        "Already in another channel",
    ),
    ("wrong_board", ReasonUse.REJECT, "留言对象选择有误", "Addressed to the wrong board"),
    ("unclear", ReasonUse.REJECT, "内容不清楚、无法办理", "Unclear; cannot be handled"),
    ("duplicate", ReasonUse.REJECT, "重复留言", "Duplicate message"),
    ("advertising", ReasonUse.REJECT, "广告或无关内容", "Advertising or unrelated content"),
    ("abusive", ReasonUse.REJECT, "含有侮辱、谩骂等不文明内容", "Abusive language"),
    ("unlawful", ReasonUse.HIDE, "发现违法违规内容", "Unlawful content found"),
    ("privacy_leak", ReasonUse.HIDE, "公开内容涉及个人隐私", "Public text exposes private data"),
    ("author_request", ReasonUse.HIDE, "应留言人要求", "At the author's request"),
    ("legal_order", ReasonUse.HIDE, "依法依规要求删除", "Removal required by law"),
    ("not_our_duty", ReasonUse.RETURN, "不属于本单位职责", "Not this unit's responsibility"),
    ("needs_other_units", ReasonUse.RETURN, "需多个单位共同办理", "Needs several units"),
    ("wrong_region", ReasonUse.RETURN, "不属于本地区", "Not in this unit's region"),
    (
        "court_or_arbitration",
        ReasonUse.NOT_ACCEPT,
        "应通过诉讼、仲裁、行政复议等法定途径解决（第三十一条）",
        "Belongs to litigation, arbitration or administrative review (Art. 31)",
    ),
    (
        "already_handled",
        ReasonUse.NOT_ACCEPT,
        "已经或者依法应当通过其他法定途径办理",
        "Already handled through a statutory channel",
    ),
    (
        "rereviewed_same_facts",
        ReasonUse.NOT_ACCEPT,
        "同一事实和理由已复核终结，不再受理",
        "Re-reviewed on the same facts: not accepted again",
    ),
]


def seed_reason_codes() -> int:
    """Insert missing reason codes (idempotent); returns how many were added."""
    added = 0
    for sort, (code, use, label, label_en) in enumerate(REASONS):
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
