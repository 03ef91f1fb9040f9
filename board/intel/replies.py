"""The advisory checklist on a draft reply: does it address the message, does a refusal cite its
basis, does it have the expected structure. It advises; it never blocks a sign-off.

Calibrated on the 2,816 real message/reply pairs of messages_with_replies.xlsx
(docs/intelligence.md): with RELEVANCE_MIN, 82% of real replies pass the relevance check and
16% of replies paired with another message at random do; 19% of real replies refuse something
and 62% of those cite a law, rule or document (93% of all replies pass that check); 62% have
both a greeting to the writer and a closing (thanks, a contact number, 此复).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

RELEVANCE_MIN = 0.03
SHORT_REPLY = 30
# Character pairs every reply uses whatever it is about: they prove no relevance.
GENERIC = frozenset(
    "您好 网友 留言 反映 回复 问题 情况 感谢 我们 工作 处理 相关 有关 部门 根据 规定 调查 目前 "
    "要求 关于 收悉 如下 监督 支持 理解 管理 建设 政府 进行 人员 您的 您反 映的 的问 的留 言已 "
    "已收 现将 现回 复如 关心 谢您 对我 们工 作的".split()
)
_TEXT = re.compile(r"[^\u4e00-\u9fffA-Za-z]+")
REFUSAL = re.compile(r"不予支持|不予受理|不符合|无法|不能|不属于|暂不|不在.{0,6}范围")
BASIS = re.compile(
    r"《[^》]{2,40}》|第[一二三四五六七八九十百零0-9]+条|规定|办法|条例|政策|文件|通知|意见"
)
GREETING = re.compile(r"^.{0,40}(网友|您好|你好|先生|女士|同志)", re.S)
CLOSING = re.compile(r"感谢|谢谢|联系电话|咨询电话|电话[:：]?\s*\d|特此答复|此复")


@dataclass(frozen=True)
class Check:
    """One line of the checklist: passed or not, and what to look at."""

    name: str
    label: object
    passed: bool
    advice: object


def _pairs(text: str) -> set[str]:
    """The character pairs of a text (letters and Chinese only), less the generic ones."""
    pairs = set()
    for run in _TEXT.split(text or ""):
        pairs.update(run[i : i + 2] for i in range(len(run) - 1))
    return pairs - GENERIC


def relevance(message_text: str, reply: str) -> float:
    """The share of the message's telling character pairs that the reply takes up."""
    asked = _pairs(message_text)
    return len(asked & _pairs(reply)) / len(asked) if asked else 1.0


def check_reply(title: str, body: str, reply: str) -> list[Check]:
    """The checklist of a draft reply to a message."""
    reply = (reply or "").strip()
    refuses = bool(REFUSAL.search(reply))
    return [
        Check(
            "relevance",
            _l("回应了留言反映的事项"),
            relevance(f"{title} {body}", reply) >= RELEVANCE_MIN and len(reply) >= SHORT_REPLY,
            _l("答复很少提到留言所说的地点和事项，请确认答复的是这条留言。"),
        ),
        Check(
            "basis",
            _l("不支持或无法办理时写明依据"),
            not refuses or bool(BASIS.search(reply)),
            _l("答复表示不支持或无法办理，但没有引用法规、政策或文件，请写明依据。"),
        ),
        Check(
            "structure",
            _l("有称呼、正文和结尾"),
            bool(GREETING.search(reply)) and bool(CLOSING.search(reply)),
            _l("通常以“网友您好”开头，以感谢或联系电话结尾。"),
        ),
    ]
