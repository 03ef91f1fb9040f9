"""What the admin pages share: a form's service call and its outcome, a button's CSRF check,
a service's field errors shown on a form or flashed, one page of a list."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, flash, redirect, request
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from flask_wtf import FlaskForm
from sqlalchemy import Select
from werkzeug.wrappers import Response

from ...errors import ValidationFailed
from ...extensions import db
from ...paging import page_arg
from ..forms import ActionForm

T = TypeVar("T")


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


def save(
    form: FlaskForm, call: Callable[[], T], done: Callable[[T], tuple[str, str]]
) -> Response | None:
    """The POST half of a form page: when the form validates, `call` the service; on success
    flash the message `done(result)` gives and redirect to its URL.

    Returns None when the page must be shown again: a GET, an invalid form, or a field the
    service refused (its errors are put on the form). After a refused POST the session is rolled
    back, so the page shows what is stored rather than half-applied values.
    """
    if form.validate_on_submit():
        try:
            result = call()
        except ValidationFailed as error:
            db.session.rollback()
            attach_errors(form, error)
        else:
            message, url = done(result)
            flash(message, "success")
            return redirect(url)
    if request.method == "POST":
        db.session.rollback()
    return None


def form_status() -> int:
    """The status of a form page shown again: 422 after a POST, 200 on a GET."""
    return 422 if request.method == "POST" else 200


def button_pressed() -> bool:
    """Whether a one-button form (CSRF only) came back valid; flashes the expired-request
    message when it did not."""
    if ActionForm().validate_on_submit():
        return True
    flash(_("请求已过期，请重试。"), "error")
    return False


def paginate(query: Select) -> Pagination:
    """One page of a list query: `?page=` (1 when missing or bad), the configured page size."""
    return db.paginate(
        query,
        page=page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
