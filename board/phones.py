"""Chinese phone numbers as petitioners write them: checked with Google's libphonenumber data.

A petition must give a number the handling unit can call back: a mainland mobile, or a landline
with its area code (an extension may follow). What is stored is one canonical spelling —
`13912345678`, `0571-87654321`, `0571-87654321转123` — whatever spacing, brackets, `+86`,
full-width digits, Chinese numerals (`一三九…`) or invisible characters the petitioner typed.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from . import chinese

# What a phone number may be written with: digits, `+`, separators and brackets. Anything else
# (letters, which libphonenumber would read as a vanity number) makes it not a phone number.
_WRITTEN = re.compile(r"\+?[0-9(][0-9 ()\-.]*")
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x)\s*([0-9]{1,6})$", re.IGNORECASE)
_CALLABLE = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalize_cn_phone(text: str | None) -> str | None:
    """The canonical spelling of a valid mainland mobile or landline-with-area-code, else None."""
    written = unicodedata.normalize("NFKC", text or "").translate(chinese.DIGITS)
    written = "".join(c for c in written if unicodedata.category(c) != "Cf").strip()
    extension = None
    found = _EXTENSION.search(written)
    if found:
        extension, written = found.group(1), written[: found.start()]
    # Brackets and separators around the area code: `(0571)8823 4567`, `0571－88234567`.
    if not _WRITTEN.fullmatch(written):
        return None
    try:
        number = phonenumbers.parse(written, "CN")
    except NumberParseException:
        return None
    if (
        phonenumbers.region_code_for_number(number) != "CN"
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _CALLABLE
    ):
        return None
    national = str(number.national_number)
    area = phonenumbers.length_of_geographical_area_code(number)
    if phonenumbers.number_type(number) == PhoneNumberType.MOBILE or not area:
        canonical = national
    else:
        canonical = f"0{national[:area]}-{national[area:]}"
    return f"{canonical}转{extension}" if extension else canonical
