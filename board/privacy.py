"""Masking of personal data before anything is public: one place for pages, index, feeds, API."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from datetime import date

from stdnum import luhn
from stdnum.cn import ric

# 18-digit resident ID: 6-digit region, birth date, 3-digit sequence, checksum (digit or X).
_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3})([0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)")
_CARD = re.compile(r"(?<!\d)(\d{4})((?:[ -]?\d){8,11})([ -]?\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])([A-Za-z0-9._%+-]*)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PLATE = re.compile(
    r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-HJ-NP-Z])"
    r"[·\s]?([A-HJ-NP-Z0-9]{4,5})([A-HJ-NP-Z0-9挂学警港澳])"
)


def _is_resident_id(number: str) -> bool:
    """An 18-digit resident ID: plausible birth date and a valid ISO 7064 checksum.

    The birth-place code is not checked: counties are created and renamed every year, and a
    real number from a new district must still be masked.
    """
    number = number.upper()
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not 1900 <= int(number[6:10]) <= 2100:
        return False
    try:
        return ric.calc_check_digit(number) == number[17]
    except Exception:  # stdnum raising on an odd input must not break a page
        return False


def _mask_id(match: re.Match) -> str:
    number = match.group(0)
    if not _is_resident_id(number):
        return number
    return number[:6] + "********" + number[-4:]


def _mask_card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if not 16 <= len(digits) <= 19 or not luhn.is_valid(digits):
        return match.group(0)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _mask_mobile(match: re.Match) -> str:
    return f"{match.group(1)}****{match.group(3)}"


def _mask_landline(match: re.Match) -> str:
    number = match.group(2)
    return f"{match.group(1)}-{'*' * (len(number) - 4)}{number[-4:]}"


def _mask_email(match: re.Match) -> str:
    return f"{match.group(1)}***@{match.group(3)}"


def _mask_plate(match: re.Match) -> str:
    return f"{match.group(1)}{match.group(2)}***{match.group(4)}"


def _secret_values(values: Iterable[str | None]) -> list[str]:
    """Private values worth hiding wherever they appear, longest first."""
    found: set[str] = set()
    for value in values:
        if not value:
            continue
        for part in re.split(r"[\s,，;；、:：/|]+", value):
            part = part.strip()
            # Two characters is the shortest Chinese name; shorter parts would mangle text.
            if len(part) >= 2:
                found.add(part)
    return sorted(found, key=len, reverse=True)


def mask_value(value: str) -> str:
    """A private value as shown in public: first character kept, the rest starred."""
    return value[0] + "*" * max(len(value) - 1, 1)


def mask_text(text: str | None, secrets: Iterable[str | None] = ()) -> str:
    """Text with ID, card, phone, e-mail and plate numbers and the given private values masked."""
    if not text:
        return ""
    for value in _secret_values(secrets):
        text = text.replace(value, mask_value(value))
    text = _ID18.sub(_mask_id, text)
    text = _CARD.sub(_mask_card, text)
    text = _MOBILE.sub(_mask_mobile, text)
    text = _LANDLINE.sub(_mask_landline, text)
    text = _EMAIL.sub(_mask_email, text)
    return _PLATE.sub(_mask_plate, text)


def mask_pen_name(name: str | None) -> str:
    """A pen name as lists show it: `陈**`."""
    if not name:
        return "网友"
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


def message_secrets(message) -> list[str]:
    """Values the author gave in private (note, identity, profile) that must never be public."""
    author = getattr(message, "author", None)
    values = [message.private_note, message.real_name, message.phone, message.address]
    if author is not None:
        values += [author.real_name, author.phone, author.address]
    return [v for v in values if v]


def public_text(message, text: str | None) -> str:
    """Text of or about a message as the public may see it."""
    return mask_text(text, message_secrets(message))
