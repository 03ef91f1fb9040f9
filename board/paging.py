"""The `?page=` argument of every list page, read one way, and one page of a list query."""

from __future__ import annotations

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from .extensions import db

# Keeps OFFSET (page × page size) inside a 64-bit integer: SQLite raises OverflowError past it,
# and any page this deep is empty anyway.
MAX_PAGE = 10_000_000


def page_arg() -> int:
    """`?page=`: 1 when missing or not a number, clamped to 1…MAX_PAGE."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def paginate(query: Select) -> Pagination:
    """One page of a list query: `?page=` (1 when missing or bad), the configured page size."""
    return db.paginate(
        query,
        page=page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
