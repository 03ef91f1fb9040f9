"""The demo's text data, read from the TOML files in `board/seed/data/` (shipped with the
package): message templates, the words their slots are filled with, replies and the other
things people write while a message is handled, the demo citizens and departments."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..models import Domain, Kind, Outcome


@dataclass(frozen=True)
class Template:
    """A realistic message with slots ({xq}, {road}, {place}…) filled per message.

    `plate`: a motor vehicle is the matter (an author may quote a plate number); `replies`:
    what the answering unit did about this very matter (else its kind's or domain's replies)."""

    domain: Domain
    kind: Kind
    title: str
    body: str
    plate: bool = False
    replies: tuple[str, ...] = ()


@cache
def load(name: str) -> dict[str, Any]:
    """One data file (`messages`, `replies`, `words`, `reference`), parsed once per process."""
    data = resources.files(__package__).joinpath("data", f"{name}.toml").read_bytes()
    return tomllib.loads(data.decode("utf-8"))


def templates(section: str) -> tuple[Template, ...]:
    """The `board` or `petition` message templates."""
    return tuple(
        Template(
            domain=Domain(row["domain"]),
            kind=Kind(row["kind"]),
            title=row["title"],
            body=row["body"],
            plate=bool(row.get("plate")),
            replies=tuple(row.get("reply", ())),
        )
        for row in load("messages")[section]
    )


def words(name: str) -> tuple[str, ...]:
    """A list of slot words (`xq`, `roads`, `companies`…)."""
    return tuple(load("words")[name])


def tails() -> dict[Kind, tuple[str, ...]]:
    """Sentences an author may end a message with, by kind."""
    return {Kind(kind): tuple(found) for kind, found in load("messages")["tails"].items()}


def personal() -> dict[str, str]:
    """Sentences carrying personal data, by kind of data (phone, id_number, call, plate)."""
    return dict(load("messages")["personal"])


def by_outcome(table: dict[str, list[str]]) -> dict[Outcome, tuple[str, ...]]:
    """A table of texts keyed by outcome name."""
    return {Outcome(name): tuple(found) for name, found in table.items()}


def citizens() -> tuple[tuple[str, str, str, str, str], ...]:
    """The demo citizens: key, pen name, real name, phone, address."""
    keys = ("key", "pen_name", "real_name", "phone", "address")
    return tuple(tuple(row[k] for k in keys) for row in load("words")["citizen"])


def departments() -> tuple[tuple[str, str, str, str], ...]:
    """Demo departments: suffix, then the name at a province, a city, a 直辖市."""
    keys = ("suffix", "province", "city", "municipality")
    return tuple(tuple(row[k] for k in keys) for row in load("words")["department"])


def county_departments() -> dict[str, str]:
    """The departments every county has: suffix → name."""
    return {row["suffix"]: row["county"] for row in load("words")["department"] if "county" in row}
