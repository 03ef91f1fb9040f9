"""The public deadline calculator: a start date and a policy give a due date that explains itself."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from . import services
from .forms import CalculatorForm

bp = Blueprint("deadlines", __name__)


def _policy_label(policy) -> str:
    """'答复（投诉、求助） · 20 个工作日' for the select."""
    length = (
        _("%(n)d 个工作日", n=policy.days)
        if policy.unit == "working"
        else _("%(n)d 日（自然日）", n=policy.days)
    )
    return f"{services.label_for(policy.name)} · {length}"


@bp.get("/deadlines")
def calculator() -> ResponseReturnValue:
    """Show the form and, when it is filled in, the due date with its explanation."""
    policies = services.policy_choices()
    form = CalculatorForm(request.args)
    form.policy.choices = [(p.name, _policy_label(p)) for p in policies]
    deadline = None
    if request.args and form.validate():
        deadline = services.deadline_for(form.start.data, form.policy.data)
    return render_template(
        "deadlines/calculator.html",
        form=form,
        deadline=deadline,
        policy=next((p for p in policies if deadline and p.name == deadline.policy), None),
    )


@bp.app_template_global()
def message_clocks(message) -> list:
    """The message's running clocks, for its page."""
    return services.open_clocks(message)


@bp.app_template_global()
def policy_label(name: str) -> str:
    """A policy's label in the page's language (its name if it has none)."""
    return services.label_for(name)
