"""A row's attributes as a plain dict, by name: what the API's JSON and the admin change log's
before-and-after snapshots are made of."""

from __future__ import annotations

from typing import Any


def attributes(row: Any, *names: str) -> dict[str, Any]:
    """`{name: row.name}` for each of `names`, in that order."""
    return {name: getattr(row, name) for name in names}
