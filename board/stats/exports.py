"""CSV and JSON Lines downloads of public cases, streamed in keyset batches (constant memory).

Every text field is masked with `board.privacy.public_text`; author names are masked pen names;
only public cases (public, not hidden, in a public state) are written.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from flask import url_for

from ..api.serializers import PLACE_FIELDS, place_json
from ..clock import to_local
from ..models import Message
from ..privacy import mask_pen_name, public_text
from . import listing

COLUMNS = (
    "code",
    "url",
    "track",
    "kind",
    "kind_label",
    "domain",
    "domain_label",
    "state",
    "state_label",
    "title",
    "body",
    "author",
    *PLACE_FIELDS,
    "published_at",
    "replied_at",
    "days_to_reply",
    "cosign_count",
    "reply_unit",
    "reply_published_at",
    "reply_outcome",
    "reply",
)


def _iso(moment) -> str | None:
    return to_local(moment).isoformat(timespec="seconds") if moment else None


def row(message: Message) -> dict:
    """One public case as a flat record (the latest published final reply in the reply columns)."""
    replies = [r for r in message.published_replies if not r.is_interim] or (
        message.published_replies
    )
    last = replies[-1] if replies else None
    days = None
    if message.replied_at:
        days = round((message.replied_at - message.created_at).total_seconds() / 86400, 2)
    return {
        "code": message.code,
        "url": url_for("messages.show", code=message.code, _external=True),
        "track": message.track,
        "kind": message.kind,
        "kind_label": message.kind_label,
        "domain": message.domain,
        "domain_label": message.domain_label,
        "state": message.state,
        "state_label": message.public_state_label,
        "title": public_text(message, message.title),
        "body": public_text(message, message.body),
        "author": mask_pen_name(message.pen_name),
        **place_json(message),
        "published_at": _iso(message.published_at),
        "replied_at": _iso(message.replied_at),
        "days_to_reply": days,
        "cosign_count": message.cosign_count or 0,
        "reply_unit": last.unit.name if last else None,
        "reply_published_at": _iso(last.published_at) if last else None,
        "reply_outcome": last.outcome if last else None,
        "reply": public_text(message, last.body) if last else None,
    }


def _rows(filters: listing.Filters) -> Iterator[dict]:
    for batch in listing.batches(listing.matching_ids(filters)):
        for message in batch:
            yield row(message)


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet will not evaluate: text starting like a formula gets a `'`.

    Numbers (`days_to_reply`, `cosign_count`) are written as numbers, a negative one included:
    a spreadsheet reads `-1.5` as a number, never as a formula, and analysts need to sum them.
    Every other value is text (codes, labels, masked titles and bodies, times) and is prefixed.
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    return value


def csv_lines(filters: listing.Filters) -> Iterator[str]:
    """A header line then one CSV record per case (UTF-8 with a BOM so spreadsheets read it).

    Cells that a spreadsheet would run as formulas are neutralised (`spreadsheet_safe`).
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    yield "\ufeff" + buffer.getvalue()
    for record in _rows(filters):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow({k: spreadsheet_safe(v) for k, v in record.items()})
        yield buffer.getvalue()


def jsonl_lines(filters: listing.Filters) -> Iterator[str]:
    """One JSON object per line per case."""
    for record in _rows(filters):
        yield json.dumps(record, ensure_ascii=False) + "\n"
