"""What the admin pages share: a form's service call and its outcome, a button's CSRF check."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field, StringField

from ...clock import utcnow
from ...errors import ValidationFailed, attach_errors
from ...extensions import db
from ..forms import ActionForm

T = TypeVar("T")


def submitted(form: FlaskForm, service: Callable[..., T], *args, **values) -> T | None:
    """The POST half of an admin form page: when the form validates, what
    `service(current_user, *args, now=utcnow(), **values)` returns (the saved object).

    None when the page must be shown again: a GET, an invalid form, or a field the service
    refused (its errors are put on the form).
    """
    return submit(form, lambda: service(current_user, *args, now=utcnow(), **values))


def submit(form: FlaskForm, call: Callable[[], T]) -> T | None:
    """`submitted` for a service that is not the admin's: `call` when the form validates.

    After a refused POST the session is rolled back, so the page shows what is stored rather
    than half-applied values.
    """
    if form.validate_on_submit():
        try:
            return call()
        except ValidationFailed as error:
            db.session.rollback()
            attach_errors(form, error)
    if request.method == "POST":
        db.session.rollback()
    return None


def form_values(form: FlaskForm, *names: str, **renamed: str) -> dict:
    """The form's fields as a service's keywords: each of `names` under its own name, each
    `keyword="field"` under the keyword. An empty text field gives "" rather than None."""
    pairs = [(name, name) for name in names] + list(renamed.items())
    return {keyword: _value(form[field]) for keyword, field in pairs}


def _value(field: Field):
    if field.data is None and isinstance(field, StringField):
        return ""
    return field.data


def done(message: str, endpoint: str, **url_values) -> Response:
    """After a saved form: flash `message` as a success and go to the endpoint's URL."""
    flash(message, "success")
    return redirect(url_for(endpoint, **url_values))


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


def button(service: Callable[..., object], *args, success: str, back_to: str, **values) -> Response:
    """A one-button form (CSRF only): when it came back valid, do
    `service(current_user, *args, now=utcnow(), **values)` and flash `success`; either way go
    back to the URL `back_to`."""
    if button_pressed():
        service(current_user, *args, now=utcnow(), **values)
        flash(success, "success")
    return redirect(back_to)
