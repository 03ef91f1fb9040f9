"""The English translation: language choice by cookie and browser, and a complete catalog."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "board" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# The keywords of `make extract-messages`: Babel's defaults plus the lazy forms.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
CHINESE_NAV = ("领导留言板", "我要留言", "搜索", "登录", "注册")


def _read_catalog():
    """The English catalog as Babel reads it."""
    with PO.open("rb") as f:
        return read_po(f, locale="en")


@pytest.fixture(scope="session", autouse=True)
def compiled_catalog() -> Path:
    """Compile the .po next to itself when the .mo is missing or stale (a clean clone has none)."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        catalog = _read_catalog()
        handle, temporary = tempfile.mkstemp(dir=MO.parent, suffix=".mo.tmp")
        with os.fdopen(handle, "wb") as f:
            write_mo(f, catalog)
        os.chmod(temporary, 0o644)
        os.replace(temporary, MO)
    return MO


def _texts(message_id) -> tuple[str, ...]:
    """The singular (and plural) forms of an id or a translation."""
    return (message_id,) if isinstance(message_id, str) else tuple(message_id)


def _translated(catalog) -> list:
    """The catalog's messages, without the header."""
    return [m for m in catalog if m.id]


def test_home_page_is_english_after_choosing_english(client):
    """GET /lang/en sets the cookie and sends back; the home page then speaks English."""
    response = client.get("/lang/en?next=/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")
    assert "lang=en" in response.headers["Set-Cookie"]

    page = client.get("/").get_data(as_text=True)

    assert '<html lang="en">' in page
    assert "Message board" in page
    assert "Search" in page
    assert "Leaders&#39; message boards" in page or "Leaders' message boards" in page
    assert "Write a message" in page
    for label in CHINESE_NAV:
        assert label not in page
    assert "中文" in page  # the way back to Chinese, in its own language


def test_home_page_is_chinese_by_default(client):
    """Without a cookie or an English browser the site is in Simplified Chinese."""
    page = client.get("/").get_data(as_text=True)

    assert '<html lang="zh-CN">' in page
    for label in CHINESE_NAV:
        assert label in page
    assert "Message board" not in page
    assert "English" in page  # the link to the translation


def test_browser_asking_for_english_gets_english_without_a_cookie(client):
    """Accept-Language picks English when no language was chosen on the site."""
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)

    assert '<html lang="en">' in page
    assert "Message board" in page
    assert "领导留言板" not in page


def test_chosen_chinese_wins_over_an_english_browser(client):
    """The lang cookie outranks the browser's preference."""
    client.get("/lang/zh_CN?next=/")

    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert '<html lang="zh-CN">' in page
    assert "领导留言板" in page


def test_unknown_language_is_not_found(client):
    """Only the configured languages can be chosen."""
    response = client.get("/lang/fr?next=/")

    assert response.status_code == 404
    assert "lang=" not in response.headers.get("Set-Cookie", "")


def test_api_error_message_is_english_with_the_english_cookie(client):
    """The JSON error body of the API is translated; its code stays the same."""
    client.get("/lang/en?next=/")

    response = client.get("/api/v1/messages/MS-2026-NOPE99")

    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "not_found"
    assert error["message"] == "There is no message with reference MS-2026-NOPE99."


def test_api_error_message_is_chinese_by_default(client):
    """Without a language choice the API answers in Chinese."""
    response = client.get("/api/v1/messages/MS-2026-NOPE99")

    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "没有编号为 MS-2026-NOPE99 的留言。"


def test_every_message_is_translated_with_the_same_placeholders():
    """No empty or fuzzy translation, and each keeps exactly the placeholders of its msgid."""
    catalog = _read_catalog()
    problems = []
    for message in _translated(catalog):
        if message.fuzzy:
            problems.append(("fuzzy", message.id))
        wanted = sorted(PLACEHOLDER.findall(_texts(message.id)[0]))
        for text in _texts(message.string):
            if not text.strip():
                problems.append(("empty", message.id))
            elif sorted(PLACEHOLDER.findall(text)) != wanted:
                problems.append(("placeholders", message.id, text))

    assert problems == []
    assert len(_translated(catalog)) > 400


def test_every_string_in_the_code_has_a_translation():
    """Re-extract from the sources with babel.cfg: a new string without a translation fails here."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    extracted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(ROOT, method_map, options_map, keywords=KEYWORDS)
    }
    translated = {_texts(m.id)[0] for m in _translated(_read_catalog()) if all(_texts(m.string))}

    assert len(extracted) > 400
    assert sorted(extracted - translated) == []


def test_coordinator_actions_read_as_actions_in_english():
    """The buttons say what they will do ("Transfer", "Urge", "Sign off"); the timeline keeps the
    past tense of what was done."""
    catalog = _read_catalog()
    assert catalog.get("转办", context="action").string == "Transfer"
    assert catalog.get("督办", context="action").string == "Urge"
    assert catalog.get("签发", context="action").string == "Sign off"
    assert catalog.get("转办").string == "Transferred"


HAN_OR_FULLWIDTH = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")


def test_english_translations_hold_no_chinese_outside_quotes():
    """An English string with Chinese in it shows Chinese to English readers (the full English
    pass found "e.g. 钱塘区" and a full-width colon); Chinese quoted as an example (“钱塘区”, or
    "拖欠工资" where straight quotes are the search syntax) is a mention, as the pass reads it."""
    leaks = []
    for message in _translated(_read_catalog()):
        for text in _texts(message.string):
            if HAN_OR_FULLWIDTH.search(re.sub(r'[“"][^”"]*[”"]', "", text or "")):
                leaks.append((message.id, text))
    assert leaks == []


def test_templates_hold_no_chinese_text_outside_translations():
    """Text written straight into a template is shown in English too: `{{ _('修改单位') }}：`
    kept its full-width colon, `{{ title }}（…）` its brackets. Every Chinese word and every
    full-width mark of a template goes through the catalog (`{{ _('：') }}` reads ": ")."""
    jinja = re.compile(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
    found = [
        f"{path.relative_to(ROOT)}: {line.strip()[:60]}"
        for path in sorted((ROOT / "board" / "templates").rglob("*"))
        if path.is_file()
        for line in jinja.sub("", path.read_text(encoding="utf-8")).splitlines()
        if HAN_OR_FULLWIDTH.search(line)
    ]
    assert found == []
