"""Issue 14's corpus test: every labelled variant, through every public surface, on both databases.

The variants (`privacy_corpus.py`) are batched many to a message: the body lists them one a line,
the unit's published reply quotes them all again, and each title carries one. The message page,
the API (detail and list), search hits and snippets (page and API), the compose preview with its
similar-messages panel, both Atom feeds and the CSV and JSON Lines exports are then fetched. On a
surface that shows whole texts a "keep" variant must appear exactly as written; on every surface
no "mask" value may be readable, however it is spaced or whatever its width.
"""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from conftest import T0, board, login, unit
from privacy_corpus import CORPUS, KEEP, MASK, UNIT_PHONE, judge, readable

from board.extensions import db
from board.messages import services as msg
from board.models import Region
from board.privacy import (
    NOTHING_PUBLISHED,
    Published,
    mask_text,
    note_values,
    published_contacts,
)
from board.search.indexer import apply_pending

ATOM = "{http://www.w3.org/2005/Atom}"
BATCH = 30


def _batches() -> list[tuple[str, list]]:
    """Variants grouped by private note (one message each), the rest BATCH to a message."""
    notes: dict[str, list] = {}
    for variant in CORPUS:
        notes.setdefault(variant.note, []).append(variant)
    batches = []
    for note, variants in notes.items():
        for start in range(0, len(variants), BATCH):
            batches.append((note, variants[start : start + BATCH]))
    return batches


def _title(index: int, variants: list) -> str:
    """`物业问题N：` and the first variant short enough for a title (40 characters)."""
    short = [v.text for v in variants if len(v.text) <= 30]
    return f"物业问题{index}：{short[0]}" if short else f"物业问题{index}"


def _strings(value) -> list[str]:
    """Every string in a JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _by_code(items: list[dict]) -> dict[str, str]:
    """The strings of each item of a JSON list, by the message code among them."""
    found = {}
    for item in items:
        strings = _strings(item)
        code = next(s for s in strings if s.startswith("MS-"))
        found[code] = "\n".join(strings)
    return found


def _between(page: str, start: str, end: str) -> str:
    first = page.index(start)
    return page[first : page.index(end, first)]


def test_corpus_is_large_and_labelled():
    """At least 150 variants, both labels, every kind of value the issue names."""
    assert len(CORPUS) >= 150
    assert {v.label for v in CORPUS} == {MASK, KEEP}
    kinds = {v.kind for v in CORPUS}
    assert {"id", "mobile", "landline", "card", "email", "qq", "wechat", "plate"} <= kinds
    assert {"passport", "social", "private", "hotline", "unit", "official", "ordinary"} <= kinds


@pytest.mark.parametrize("variant", CORPUS, ids=lambda v: f"{v.label}-{v.kind}-{v.text[:12]}")
def test_each_variant_is_masked_or_kept(variant):
    """The masking function itself, variant by variant (a failure names the one form)."""
    published = Published(phones=frozenset({"057187654321"})) if variant.published else None
    masked = mask_text(variant.text, note_values(variant.note), published or NOTHING_PUBLISHED)
    assert judge(variant, masked) is None, masked


@pytest.fixture
def corpus_world(app, directory, make_user, moderator, coordinator, handler):
    """The corpus published as answered public messages of 杭州市委书记, answered by 330100-zj."""
    unit("330100-zj").contact_phone = UNIT_PHONE
    db.session.commit()
    app.config["SEARCH_APPLY_INLINE"] = False  # index once at the end, not after every step
    author = make_user(pen_name="居民甲")
    messages = []
    for index, (note, variants) in enumerate(_batches()):
        text = "\n".join(v.text for v in variants)
        now = T0 + timedelta(minutes=index)
        m = msg.submit_message(
            author,
            board=board("330100-secretary"),
            region=db.session.get(Region, "330106"),
            track="board",
            kind="complaint",
            domain="urban",
            title=_title(index, variants),
            body="小区物业问题反映如下：\n" + text,
            private_note=note,
            now=now,
        )
        msg.approve_message(m, moderator, now=now + timedelta(hours=1))
        msg.assign_message(m, unit("330100-zj"), coordinator, now=now + timedelta(hours=2))
        msg.accept_message(m, handler, now=now + timedelta(hours=3))
        msg.reply_message(
            m, handler, body="经核实，来信所述：\n" + text, now=now + timedelta(days=1)
        )
        msg.sign_off_reply(m, coordinator, now=now + timedelta(days=1, hours=1))
        messages.append((m.code, note, variants))
    app.config["SEARCH_APPLY_INLINE"] = True
    apply_pending()
    return author, messages


def _surfaces(client, author, messages) -> dict[str, tuple[dict[str, str], bool]]:
    """Surface name → (text per message code, whether it shows the whole texts)."""
    codes = [code for code, _, _ in messages]
    out: dict[str, tuple[dict[str, str], bool]] = {}

    def get(url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, url
        return response.get_data(as_text=True)

    pages = {c: html.unescape(get(f"/m/{c}")) for c in codes}
    out["page"] = (pages, True)
    # The unit's reply alone: its published phone readable, a citizen's mobile masked.
    out["page, reply"] = (
        {c: _between(p, "经核实，来信所述", "</div>") for c, p in pages.items()},
        True,
    )
    out["api"] = (
        {c: "\n".join(_strings(json.loads(get(f"/api/v1/messages/{c}")))) for c in codes},
        True,
    )
    out["api list"] = (_by_code(json.loads(get("/api/v1/messages?per_page=100"))["items"]), True)
    out["api search"] = (
        _by_code(json.loads(get("/api/v1/search?q=物业问题&per_page=100"))["hits"]),
        False,
    )
    for name, url in (
        ("search page", "/search?q=物业问题"),
        ("search page, reply", "/search?q=核实"),
    ):
        page = html.unescape(get(url))
        blocks = page.split('<li class="message-item">')[1:]
        out[name] = ({c: b for b in blocks for c in codes if f"/m/{c}" in b}, False)
    for feed in ("messages", "replies"):
        root = ET.fromstring(get(f"/feeds/{feed}.atom"))  # noqa: S314 (our own feed, in a test)
        entries = {}
        for entry in root.iter(f"{ATOM}entry"):
            text = "\n".join(t for t in entry.itertext())
            entries.update({c: text for c in codes if c in entry.findtext(f"{ATOM}id", "")})
        assert len(entries) == len(codes), feed
        out[f"{feed} feed"] = (entries, feed == "messages")
    rows = csv.DictReader(io.StringIO(get("/export/messages.csv").lstrip("\ufeff")))
    out["csv"] = ({r["code"]: "\n".join(r.values()) for r in rows}, True)
    lines = get("/export/messages.jsonl").splitlines()
    out["jsonl"] = (
        {r["code"]: "\n".join(_strings(r)) for r in map(json.loads, lines)},
        True,
    )
    # The compose preview (what the author would publish) and its similar-messages panel.
    login(client, author)
    previews, similar = {}, {}
    for code, note, variants in messages:
        text = "\n".join(v.text for v in variants)
        page = html.unescape(
            client.post(
                "/write?board=330100-secretary",
                data={
                    "track": "board",
                    "kind": "complaint",
                    "domain": "urban",
                    "region": "330106",
                    "title": "物业问题反映",
                    "body": "小区物业问题反映如下：\n" + text,
                    "private_note": note,
                    "wants_public": "y",
                    "preview": "预览",
                },
            ).get_data(as_text=True)
        )
        preview = _between(page, 'class="card preview"', "<form")
        previews[code] = preview.split('class="similar"')[0]
        if 'class="similar"' in preview:  # each listed message, judged by its own variants
            for item in _between(preview, 'class="similar"', "</section>").split("<li>")[1:]:
                similar.update({c: item for c in codes if f"/m/{c}" in item})
    out["compose preview"] = (previews, True)
    assert similar, "no similar messages shown"
    out["similar panel"] = (similar, False)
    return out


def test_corpus_on_every_public_surface(client, corpus_world):
    """No mask value readable on any surface; keep variants whole on every full surface."""
    author, messages = corpus_world
    assert published_contacts().has_phone("057187654321")
    failures = []
    for surface, (texts, whole) in _surfaces(client, author, messages).items():
        assert texts, surface
        for code, _, variants in messages:
            text = texts.get(code)
            if text is None:  # a hit list shows one page: only the messages it lists
                assert not whole, (surface, code)
                continue
            for v in variants:
                if v.label == MASK and readable(v.value, text):
                    failures.append((surface, "leaked", v.text))
                elif v.label == KEEP and whole and v.text not in text:
                    failures.append((surface, "garbled", v.text))
    assert not failures, failures[:20]
