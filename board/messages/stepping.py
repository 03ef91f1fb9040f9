"""A workflow step taken from a page: how the author's page and the desk answer the outcome.

The service decides; this only turns its answer into the page's: field errors next to their
fields (422), a refused transition flashed at the top of the page (409), success flashed
before the redirect.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect
from flask.typing import ResponseReturnValue

from ..auth.forms import apply_service_errors
from ..errors import InvalidTransition, ValidationFailed
from ..extensions import db


def take_step(
    form,
    valid: bool,
    run: Callable[[], object],
    *,
    done: Callable[[], str],
    to: str,
    render: Callable[[int], ResponseReturnValue],
) -> ResponseReturnValue:
    """Run the step if the form is `valid`; on success flash `done()` and redirect to `to`,
    else roll back and `render` the page again with the status (the input is kept)."""
    status = 422
    if valid:
        try:
            run()
        except ValidationFailed as error:
            apply_service_errors(form, error)
        except InvalidTransition as error:
            flash(error.message, "error")  # shown at the top of the page rendered below
            status = 409
        else:
            flash(done(), "success")
            return redirect(to)
    db.session.rollback()
    return render(status)


def one_click(run: Callable[[], object], done: str) -> None:
    """A step without a form (a button): flash its refusal or `done`; the caller redirects."""
    try:
        run()
    except InvalidTransition as error:
        flash(error.message, "error")
    else:
        flash(done, "success")
