"""Masking of personal data before anything is public: one place for pages, index, feeds, API.

Text is normalised first (NFKC: full-width digits, letters and punctuation to half-width; every
dash to `-`; every space to ` `) while remembering where each character came from, so numbers
written `１３８ １２３４ ５６７８`, `330106 19850315 2310` or `0735——3323506` are recognised; the
masks are then written back into the original text, which otherwise stays as the author wrote
it. `docs/security.md` lists every form masked and every form kept.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from stdnum import luhn
from stdnum.cn import ric

from . import chinese

# -- normalisation ---------------------------------------------------------------------------

_DASHES = frozenset("‐‑‒–—―－﹣−⁃")
# Digits written as Chinese numerals (`chinese.NUMERALS`: `一三八…`, `幺`, `壹贰叁`, `貳參陸`).
_NUMERAL = f"[0-9{chinese.NUMERALS}]"
# Five digits or more (the shortest account, a QQ number), spaces or dashes between them, of
# which three or more are Chinese numerals: `二〇一九`, `三五成群` or the `7一` of `浙A12347一汽`
# are never read as digits.
_NUMERAL_RUN = re.compile(rf"{_NUMERAL}(?:[ \-]{{0,3}}{_NUMERAL}){{4,}}")
MIN_CHINESE_NUMERALS = 3


def _normalise(text: str) -> tuple[str, list[int]]:
    """NFKC per character, dashes to `-`, spaces to ` `, invisible format characters (zero-width
    spaces and joiners, soft hyphens, direction marks) dropped; and each character's original
    index."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char < "\x80":
            folded = char
        elif not char.isprintable() and unicodedata.category(char) == "Cf":
            continue  # invisible: a zero-width space or a soft hyphen inside `138​1234​5678`
        else:
            folded = unicodedata.normalize("NFKC", char)
        for c in folded:
            if c in _DASHES:
                c = "-"
            elif c.isspace():
                c = " "
            chars.append(c)
            origin.append(index)
    return _read_numerals("".join(chars)), origin


def _read_numerals(norm: str) -> str:
    """Runs of digits written in Chinese numerals read as digits (one character each, so every
    index stays where it was); shorter runs and runs of Arabic digits only are left alone."""

    def digits(match: re.Match[str]) -> str:
        run = match.group(0)
        if sum(not c.isascii() for c in run) < MIN_CHINESE_NUMERALS:
            return run
        return run.translate(chinese.DIGITS)

    return _NUMERAL_RUN.sub(digits, norm) if not norm.isascii() else norm


def _compact(text: str) -> tuple[str, list[int]]:
    """Normalised, case-folded text without spaces, and each character's normalised index."""
    norm, _ = _normalise(text)
    chars, where = [], []
    for index, c in enumerate(norm):
        if c != " ":
            chars.append(c.casefold() if c < "\x80" else c)
            where.append(index)
    return "".join(chars), where


# -- patterns (matched on normalised text) -----------------------------------------------------

# Between two digits of one number: up to three spaces, dashes or dots (`0735---3323506`).
_G = r"(?:[ .\-]{1,3})?"


def _run(count: str) -> str:
    """`count` more digits after a first one, each optionally preceded by a separator."""
    return rf"(?:{_G}[0-9]){{{count}}}"


_ID18 = re.compile(rf"(?<![0-9])[0-9]{_run('16')}{_G}(?:[0-9]|[Xx×](?![A-Za-z]))(?![0-9])")
_ID15 = re.compile(rf"(?<![0-9])[0-9]{_run('14')}(?![0-9])")
_CARD = re.compile(rf"(?<![0-9])[0-9]{_run('15,18')}(?![0-9])")
_MOBILE = re.compile(
    rf"(?<![0-9+])(?:(?:\+|00)?86{_G}|\(\+?86\) ?)?(1[3-9][0-9]{_run('8')})(?![0-9])"
)
_AREA = r"0(?:10|2[0-9]|[3-9][0-9]{2})"
_LANDLINE = re.compile(
    rf"(?<![0-9])(?:\({_AREA}\)|{_AREA}) ?-{{0,3}} ?([2-9]{_run('6,7')})"
    rf"(?:(?: ?(?:转|分机|ext\.?|x) ?|-)[0-9]{{1,5}})?(?![0-9])",
    re.I,
)
_LOCAL_AFTER_KEYWORD = re.compile(
    rf"(?:电话|座机|固话|宅电|手机|tel|phone|联系方式)[^0-9\n]{{0,4}}?([2-9]{_run('6,7')})"
    rf"(?![0-9])",
    re.I,
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9])([A-Za-z0-9._%+-]*)@"
    r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
# An address spelt out so that robots do not read it: `zhangsan#163.com` (请把#换成@),
# `lisi(at)qq.com`, `wang at sina dot com`. Only on the common top-level domains, so `C#.NET`
# or a `#` in a list is never taken for one.
_DOT = r"(?:\.| ?\(dot\) ?| ?\[dot\] ?| dot )"
_EMAIL_SPELT = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9])([A-Za-z0-9._%+-]*)"
    r"(?:#| ?[(\[【{<]at[)\]】}>] ?| at | ?艾特 ?)"
    rf"((?:[A-Za-z0-9-]+{_DOT})+(?:com|cn|net|org|edu|gov|hk))(?![A-Za-z0-9])",
    re.I,
)


def _account_after(names: str, suffixes: str, account: str) -> re.Pattern[str]:
    """An account written after its service's name (`QQ号：12345678`, `微信 abc_123`): one of
    `names`, perhaps one of `suffixes`, spaces and a colon or 是/为, then the `account`."""
    return re.compile(
        rf"(?<![A-Za-z])(?:{names})(?:{suffixes})?[ ]*[:：是为]{{0,2}}[ ]*{account}", re.I
    )


_QQ = _account_after(
    "QQ|扣扣|企鹅号?|Q号", "号码|号|群号?|账号", rf"([1-9]{_run('4,11')})(?![0-9])"
)
_WECHAT = _account_after(
    "微信|威信|薇信|V信|VX|WX|weixin|wechat",
    "号码|号|ID",
    r"([A-Za-z0-9][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])",
)
# Accounts of other platforms, after the platform's name and 号/账号/ID or a colon (`抖音号：
# zs_1990`, `微博ID 1234567890`); a bare `微博 10000 多转发` is not an account.
_SOCIAL = re.compile(
    r"(?=[抖快小微钉飞Bb哔头Tt])(?:抖音|快手|小红书|微博|钉钉|飞书|B站|哔哩哔哩|头条|telegram)"
    r"(?:(?:号码|号|账号|帐号|ID|UID)[ ]*[:：是为]{0,2}|[ ]*[:：])[ ]*"
    r"([A-Za-z0-9][-_.A-Za-z0-9]{4,23})(?![-_.A-Za-z0-9])",
    re.I,
)
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]"
    r"[·•. -]?([A-HJ-NP-Z0-9]{4,5})[A-HJ-NP-Z0-9挂学警港澳](?![A-Za-z0-9])",
    re.I,
)
_PASSPORT = re.compile(
    r"(?<![A-Za-z0-9])(?:E[A-Z]?[0-9]{7,8}|[GDSP][0-9]{8}|[CHMK][0-9]{8,10})(?![A-Za-z0-9])"
)
_PASSPORT_AFTER_KEYWORD = re.compile(
    r"(?:护照|通行证|回乡证|台胞证)(?:号码|号)?[ ]*[:：是为]?[ ]*([A-Z0-9]{7,10})(?![A-Za-z0-9])",
    re.I,
)
# Landlines right after these words are published office numbers (`举报电话：0746-8211562`,
# `请致电0745-8825137`, `市城管局电话0738-8211119`, `基础教育科（电话7717071）`).
_OFFICIAL_BEFORE = re.compile(
    r"(?:(?:热线|查号台)[^0-9\n]{0,4}|(?:咨询|举报|投诉|服务|监督|办公室?|客服|值班|申诉|查询)[^0-9\n]{0,3}电话"
    r"|(?:致电|拨打|请拨|可拨|拔打)(?:联系|咨询|服务)?(?:电话)?"
    r"|(?:局|中心|办|站|队|科|委|厅|馆|公司|银行|支行|网点|社区|街道|政府|学校|医院|法院"
    r"|检察院|派出所|车管所|管理所|管理处|办事处|营业厅)[(（]?(?:联系|咨询|办公)?(?:电话|座机)?)"
    r"[:： (（]{0,3}$"
)
# …and landlines followed by these words (`电话0746-2213525咨询`).
_OFFICIAL_AFTER = re.compile(r"[)）]?[ ,，]{0,2}(?:进行|来电|电话)?(?:咨询|反映|举报|投诉|查询)")
# An account right after these words is an organisation's public account.
_OFFICIAL_ACCOUNT_BEFORE = re.compile(r"(?:公众号|官方|官微|服务号)[^\n]{0,8}$")
# A card number does not begin with a date (`2019-11-11 13812345678` is a date and a phone).
_DATE_START = re.compile(r"(?:19|20)[0-9]{2}[-.][0-9]{1,2}[-.][0-9]{1,2}(?![0-9])")
# Long numbers right after these words are order, case or parcel numbers, not cards.
_NOT_CARD_BEFORE = re.compile(r"(?:订单|单号|编号|流水|运单|快递|发票|票号|合同号)[^0-9\n]{0,6}$")
# A bank, savings-book or fund account right after its name: masked although it fails the Luhn
# check (a savings book's number, a housing-fund account, a card number with a typo).
# …unless it is an organisation's (`对公账户`, `公司账号`): published for payments, not personal.
_ORGANISATION_BEFORE = re.compile(r"(?:对公|公司|单位|企业|机构|财政|专用)$")
_ACCOUNT_AFTER_KEYWORD = re.compile(
    r"(?:银行卡|银行账|卡号|账号|帐号|账户|帐户|存折|收款账|公积金账|社保卡)(?:号码|号)?[ ]*[:：是为]{0,2}[ ]*"
    rf"([0-9]{_run('11,24')})(?![0-9])"
)

# GB/T 2260 province codes: the first two digits of every resident ID number.
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83 91".split()
)
MIN_SECRET_LENGTH = 2  # a value made only of Chinese characters (a name): 陈明
MIN_MIXED_SECRET_LENGTH = 5  # any value with digits or letters: never `128` or `1号`
MIN_CLAUSE_LENGTH = 3  # an unlabelled clause of a longer note: `张三丰`, never `谢谢`


@dataclass(frozen=True)
class Published:
    """Numbers and addresses that are public by nature: units' published contacts."""

    phones: frozenset[str] = frozenset()  # digits only
    emails: frozenset[str] = frozenset()  # lower case

    def has_phone(self, digits: str) -> bool:
        """A published number, written with or without its area code."""
        if digits in self.phones:
            return True
        return len(digits) >= 7 and any(p.endswith(digits) for p in self.phones)


NOTHING_PUBLISHED = Published()


# -- the masker --------------------------------------------------------------------------------


class _Masker:
    """One text: normalised copy, which normalised characters are claimed, and the edits."""

    def __init__(self, text: str, published: Published):
        self.text = text
        self.norm, self.origin = _normalise(text)
        self.taken = bytearray(len(self.norm))
        self.edits: dict[int, str] = {}
        self.published = published

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def claim(self, start: int, end: int) -> None:
        self.taken[start:end] = b"\x01" * (end - start)

    def star(self, indexes: Iterable[int]) -> None:
        for index in indexes:
            self.edits[self.origin[index]] = "*"

    def replace(self, start: int, end: int, text: str) -> None:
        first, last = self.origin[start], self.origin[end - 1]
        self.edits[first] = text
        for index in range(first + 1, last + 1):
            self.edits[index] = ""

    def digits(self, start: int, end: int) -> list[int]:
        return [i for i in range(start, end) if "0" <= self.norm[i] <= "9" or self.norm[i] in "Xx"]

    def before(self, start: int, width: int = 12) -> str:
        return self.norm[max(0, start - width) : start]

    def result(self) -> str:
        if not self.edits:
            return self.text
        return "".join(self.edits.get(i, c) for i, c in enumerate(self.text))


def _plausible_birth(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def _id18(number: str) -> bool:
    """ID-shaped: a province code and a plausible birth date; the check digit is not required."""
    if number[:2] not in _PROVINCES:
        return False
    try:
        born = ric.get_birth_date(number[:17] + "0")
    except Exception:  # stdnum raises on an impossible date
        return False
    return _plausible_birth(born.year, born.month, born.day)


def _id15(number: str) -> bool:
    """An old 15-digit ID: province code, then the birth date as YYMMDD (19YY)."""
    return number[:2] in _PROVINCES and _plausible_birth(
        1900 + int(number[6:8]), int(number[8:10]), int(number[10:12])
    )


def _mask_ids(m: _Masker) -> None:
    for pattern, check, stars in ((_ID18, _id18, range(6, 14)), (_ID15, _id15, range(6, 12))):
        for match in pattern.finditer(m.norm):
            start, end = match.span()
            positions = m.digits(start, end)
            number = "".join(m.norm[i] for i in positions).upper()
            if m.free(start, end) and check(number):
                m.claim(start, end)
                m.star(positions[i] for i in stars)


def _mask_cards(m: _Masker) -> None:
    for match in _CARD.finditer(m.norm):
        start, end = match.span()
        groups = re.split(r"[ .\-]+", match.group(0))
        digits = "".join(groups)
        if (
            m.free(start, end)
            and len(groups[0]) >= 4
            and len(set(digits)) > 1  # `0000-00000000 0000-00000000`: placeholders
            and not _DATE_START.match(match.group(0))
            and luhn.is_valid(digits)
            and not _NOT_CARD_BEFORE.search(m.before(start))
        ):
            positions = m.digits(start, end)
            m.claim(start, end)
            m.star(positions[4:-4])
    for match in _ACCOUNT_AFTER_KEYWORD.finditer(m.norm):
        start, end = match.span(1)
        if (
            m.free(start, end)
            and len(set(m.norm[start:end]) - set(" .-")) > 1  # `0000-00000000`: an archive's mask
            and not _ORGANISATION_BEFORE.search(m.before(match.start(), 6))
        ):
            positions = m.digits(start, end)
            m.claim(start, end)
            m.star(positions[4:-4])


def _mask_phones(m: _Masker) -> None:
    for match in _MOBILE.finditer(m.norm):
        start, end = match.span(1)
        positions = m.digits(start, end)
        number = "".join(m.norm[i] for i in positions)
        if m.free(*match.span()) and not m.published.has_phone(number):
            m.claim(*match.span())
            m.star(positions[3:7])
    for pattern in (_LANDLINE, _LOCAL_AFTER_KEYWORD):
        for match in pattern.finditer(m.norm):
            whole = match.span(0) if pattern is _LANDLINE else match.span(1)
            if not m.free(*whole):
                continue
            local = m.digits(*match.span(1))
            number = "".join(m.norm[i] for i in m.digits(match.start(0), match.end(1)))
            m.claim(*whole)
            if (
                m.published.has_phone(number)
                or _OFFICIAL_BEFORE.search(m.before(whole[0]))
                or _OFFICIAL_AFTER.match(m.norm, whole[1])
            ):
                continue
            m.star(local[:-4])


def _mask_email(m: _Masker) -> None:
    for match in _EMAIL.finditer(m.norm):
        if not m.free(*match.span()):
            continue
        m.claim(*match.span())
        domain = match.group(3).lower()
        if match.group(0).lower() in m.published.emails or domain.endswith(".gov.cn"):
            continue
        m.replace(match.start(1), match.end(2), match.group(1) + "***")
    spelt = "#" in m.norm or "艾特" in m.norm or "at" in m.norm.lower()
    for match in _EMAIL_SPELT.finditer(m.norm) if spelt else ():
        if not m.free(*match.span()):
            continue
        m.claim(*match.span())
        domain = re.sub(_DOT, ".", match.group(3), flags=re.I).lower()
        if domain.endswith(".gov.cn"):
            continue
        m.replace(match.start(1), match.end(2), match.group(1) + "***")


def _star_middle(m: _Masker, start: int, end: int) -> None:
    """An account name or number: first and last two characters kept (one each when short)."""
    positions = [i for i in range(start, end) if m.norm[i] not in " .-"]
    keep = 2 if len(positions) >= 8 else 1
    m.star(positions[keep:-keep])


def _mask_accounts(m: _Masker) -> None:
    for pattern in (_QQ, _WECHAT, _SOCIAL, _PASSPORT_AFTER_KEYWORD):
        for match in pattern.finditer(m.norm):
            start, end = match.span(1)
            if pattern is _PASSPORT_AFTER_KEYWORD and sum(c.isdigit() for c in match.group(1)) < 5:
                continue
            if not m.free(start, end):
                continue
            m.claim(start, end)
            if pattern in (_WECHAT, _SOCIAL) and _OFFICIAL_ACCOUNT_BEFORE.search(
                m.before(match.start())
            ):
                continue
            _star_middle(m, start, end)
    for match in _PASSPORT.finditer(m.norm):
        start, end = match.span()
        if m.free(start, end):
            m.claim(start, end)
            m.star(range(start + 1, end - 2))


def _mask_plates(m: _Masker) -> None:
    for match in _PLATE.finditer(m.norm):
        if m.free(*match.span()) and any(c.isdigit() for c in match.group(0)):
            m.claim(*match.span())
            m.replace(*match.span(1), "***")


def _secret_ok(value: str) -> bool:
    if re.search(r"[0-9A-Za-z]", value):
        return len(value) >= MIN_MIXED_SECRET_LENGTH
    return len(value) >= MIN_SECRET_LENGTH


def _mask_secrets(m: _Masker, secrets: Iterable[str | None]) -> None:
    """Each private value wherever it appears whole (spacing, width and traditional or simplified
    characters aside: a name given as 陈明亮 is masked where the body says 陳明亮), first char
    kept."""
    values = {chinese.simplified(_compact(v)[0]) for v in secrets if v}
    values = sorted((v for v in values if _secret_ok(v)), key=len, reverse=True)
    if not values:
        return
    chars, where = [], []
    for index, c in enumerate(m.norm):
        if c != " ":
            chars.append(c.casefold() if c < "\x80" else c)
            where.append(index)
    compact = chinese.simplified("".join(chars))  # one character for one: `where` holds
    alnum = re.compile(r"[0-9a-z]")
    for value in values:
        start = compact.find(value)
        while start != -1:
            end = start + len(value)
            inside_word = (
                alnum.match(value[0]) and start > 0 and alnum.match(compact[start - 1])
            ) or (alnum.match(value[-1]) and end < len(compact) and alnum.match(compact[end]))
            if not inside_word and m.free(where[start], where[end - 1] + 1):
                m.claim(where[start], where[end - 1] + 1)
                m.star(where[start + 1 : end])
            start = compact.find(value, start + 1)


# Characters no one can see that change how a text reads or is searched: direction overrides and
# isolates (`\u202e` shows `8765 4321 831` as `138 1234 5678`, past the masking) and zero-width
# spaces, word joiners, byte-order marks and soft hyphens (`物\u200b业` is not found by 物业).
# Dropped from what citizens write; joiners inside emoji (`\u200d`) stay.
_INVISIBLE = str.maketrans(dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                          0x200B, 0x2060, 0xFEFF, 0x00AD]))  # fmt: skip


def plain_text(text: str | None) -> str:
    """`text` stripped, without the invisible characters above."""
    return (text or "").translate(_INVISIBLE).strip()


def mask_text(
    text: str | None,
    secrets: Iterable[str | None] = (),
    published: Published = NOTHING_PUBLISHED,
) -> str:
    """Text with personal numbers, accounts and the given private values masked in place."""
    if not text:
        return ""
    m = _Masker(text, published)
    _mask_secrets(m, secrets)
    _mask_email(m)
    _mask_ids(m)
    _mask_cards(m)
    _mask_phones(m)
    _mask_accounts(m)
    _mask_plates(m)
    return m.result()


def mask_secrets(text: str | None, secrets: Iterable[str | None]) -> str:
    """Only the given private values masked (first character kept), nothing else: bakes an
    erased person's values out of stored text (board/auth/erasure.py)."""
    if not text:
        return text or ""
    m = _Masker(text, NOTHING_PUBLISHED)
    _mask_secrets(m, secrets)
    return m.result()


def note_values(note: str | None) -> list[str]:
    """The values a private note gives, each to be masked whole.

    The whole note is a value (`张三丰`); so is each labelled value (`姓名：陈明亮` gives
    `陈明亮`), and each line or clause of three characters or more (`张三丰，谢谢` gives `张三丰`
    but not `谢谢`). A note is never cut at spaces: `文三路 128 号` is one value, not `128`.
    """
    note = (note or "").strip()
    values = [note] if note else []
    clauses = re.split(r"[\n\r，。；;,!！?？]+", note)
    for clause in clauses if len(clauses) > 1 or re.search(r"[:：]", note) else ():
        labelled = re.split(r"[:：]", clause)
        value = labelled[-1].strip()
        if len(labelled) > 1 or len(_compact(value)[0]) >= MIN_CLAUSE_LENGTH:
            values.append(value)
    return [v for v in values if v]


# The pen name left on the messages of a deleted account (board/auth/erasure.py): shown whole,
# in the reader's language.
DELETED_PEN_NAME = "已注销用户"


def mask_pen_name(name: str | None) -> str:
    """A pen name as lists show it: `陈**`."""
    if not name:
        return "网友"
    if name == DELETED_PEN_NAME:
        return gettext("已注销用户")
    return name[0] + "**"


def truncate_ip(address: str | None) -> str | None:
    """Keep only the network part of an IP address (IPv4 /24, IPv6 /48), never the host."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.split(",")[0].strip())
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def hash_value(value: str, salt: str) -> str:
    """A salted SHA-256 for values kept only to compare (never to read back)."""
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()


# -- units' published contacts -----------------------------------------------------------------

_PUBLISHED_TTL = 60.0  # seconds another worker's edit may take to be seen here
_generation = 0


def units_changed() -> None:
    """Forget the cached published contacts (a unit was added, edited or removed here)."""
    global _generation
    _generation += 1


def _phone_digits(phone: str | None) -> str:
    """A published number's digits, without its extension (`0571-87654321 转 802`)."""
    main = re.split(r"转|分机|ext|x", _normalise(phone or "")[0], maxsplit=1, flags=re.I)[0]
    return re.sub(r"\D", "", main)


def published_contacts() -> Published:
    """Every unit's published phone and e-mail, cached per app for a minute."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return NOTHING_PUBLISHED
    cached = current_app.extensions.get("minsheng.published")
    now = time.monotonic()
    if cached and cached[0] == _generation and now - cached[1] < _PUBLISHED_TTL:
        return cached[2]
    from sqlalchemy import select

    from .extensions import db
    from .models import Unit

    generation = _generation
    rows = db.session.execute(select(Unit.contact_phone, Unit.email)).all()
    published = Published(
        phones=frozenset(filter(None, (_phone_digits(phone) for phone, _ in rows))),
        emails=frozenset(email.strip().lower() for _, email in rows if email),
    )
    current_app.extensions["minsheng.published"] = (generation, now, published)
    return published


def secrets_of(note: str | None, *values: str | None) -> list[str]:
    """Private values to mask: the note's values and the given whole values."""
    return note_values(note) + [v for v in values if v]


def message_secrets(message) -> list[str]:
    """Values the author gave in private (note, identity, profile) that must never be public."""
    author = getattr(message, "author", None)
    values = [message.real_name, message.phone, message.address]
    if author is not None:
        values += [author.real_name, author.phone, author.address]
    return secrets_of(message.private_note, *values)


def public_text(message, text: str | None) -> str:
    """Text of or about a message as the public may see it."""
    return mask_text(text, message_secrets(message), published_contacts())
