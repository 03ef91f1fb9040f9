"""What the admin pages share: a service's field errors shown on a form or flashed, a list page."""

from __future__ import annotations

from flask import current_app, flash, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from ...errors import ValidationFailed
from ...extensions import db


def attach_errors(form, error: ValidationFailed) -> None:
    """Show a service's field errors next to the form's fields (flashed when it has no field)."""
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + list(messages)
        else:
            for message in messages:
                flash(message, "error")


def flash_errors(error: ValidationFailed) -> None:
    """Flash every field error of a service (for buttons that redirect instead of rendering)."""
    for messages in error.fields.values():
        for message in messages:
            flash(message, "error")


def paginate(query: Select) -> Pagination:
    """One page of a list query: `?page=` (1 when missing or bad), the configured page size."""
    return db.paginate(
        query,
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
