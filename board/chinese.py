"""Chinese text read the way its writer meant it, one character for one, so offsets stay exact:
traditional characters as simplified, and digits written as Chinese numerals (`DIGITS`).

Citizens write in traditional characters too (a traditional input method, a text copied from
Hong Kong or Taiwan, or on purpose, to slip a word past a filter): `噪音擾民` must find `噪音扰民`,
and `法輪功` must be flagged by a list that says `法轮功`. Search (`board/search/analysis.py`),
the sensitive-word list (`board/moderation/words.py`) and the topic model
(`board/intel/classifier.py`) read text through this table.

The table comes from OpenCC's traditional-to-simplified characters (`t2s`), the conversion
table of the field, limited to what is safe to apply to any text, simplified or not:

- characters that GB 2312, the simplified standard set, does not contain (擾 → 扰, 國 → 国, 裡 →
  里, 髮 → 发; 4,205 characters), so no character of ordinary simplified text is changed;
- and the few GB 2312 characters that simplified text all but never uses alone, chosen by how
  rarely jieba's dictionary (a simplified corpus) sees them beside their simplified form (under
  5%): 後 → 后, 於 → 于, 麽 → 么, 徵 → 征, 菸 → 烟, 醣 → 糖, 麴 → 曲. Characters both systems use
  for different words stay as written: 乾 (乾隆 / 干净), 著 (著名 / 看着), 夥, 拚.

Phrase-level choices (OpenCC's phrase tables) are not applied: they can change a text's length.

`DIGITS` is used where a number is looked for: the masking (`board/privacy.py`, for runs of
numerals only) and the petition phone field (`board/phones.py`).
"""

from __future__ import annotations

import threading

# Digits written as Chinese numerals, one character a digit: `一三八…`, `幺` for one as said on
# the phone, the anti-fraud capitals `壹贰叁…` and their traditional forms `貳參陸`. People write
# numbers this way to slip them past filters, or because their input method offers it.
NUMERALS = "〇零一二三四五六七八九幺壹贰叁肆伍陆柒捌玖貳參叄陸"
DIGITS = str.maketrans(NUMERALS, "0012345678911234567892336")

# GB 2312 characters that traditional text uses for a simplified one (see the module's text).
RARE_IN_SIMPLIFIED = "後於麽徵菸醣麴"

_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
_lock = threading.Lock()
_table: dict[int, int] | None = None


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def traditional_to_simplified() -> dict[int, int]:
    """The table for `str.translate`: code point of a traditional character → its simplified
    one. Built once per process (~60 ms; before gunicorn forks when the app is preloaded)."""
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                import opencc  # only where text is read: a process that never does skips it

                candidates = [
                    chr(cp)
                    for first, stop in _RANGES
                    for cp in range(first, stop)
                    if not _in_gb2312(chr(cp)) or chr(cp) in RARE_IN_SIMPLIFIED
                ]
                converted = opencc.OpenCC("t2s.json").convert("\n".join(candidates)).split("\n")
                if len(converted) != len(candidates):  # pragma: no cover - OpenCC kept lines
                    raise RuntimeError("OpenCC changed the number of lines")
                _table = {
                    ord(old): ord(new)
                    for old, new in zip(candidates, converted, strict=True)
                    if len(new) == 1 and new != old
                }
    return _table


def simplified(text: str) -> str:
    """`text` with traditional characters read as simplified; the same length as `text`."""
    return text.translate(traditional_to_simplified()) if not text.isascii() else text
