"""Forms of the desk: assign a message to a unit, reply to it, filter the handler's queue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..models import KIND_LABELS, OUTCOME_LABELS, State, Unit

# The queue states as staff call them (the public labels merge "assigned" into 待回复).
STAFF_STATE_LABELS = {
    State.ASSIGNED: _l("待受理"),
    State.IN_PROGRESS: _l("办理中"),
    State.REOPENED: _l("重办中"),
}


def _choices(blank: str, labels: dict) -> list[SelectChoice]:
    """A menu of coded labels after a blank "choose / all" entry."""
    return [SelectChoice("", blank)] + [
        SelectChoice(str(code), label) for code, label in labels.items()
    ]


class AssignForm(FlaskForm):
    """交办: the unit that must answer; the service checks it lies in the board's region."""

    # Choices are offered for the page; the service, not the form, decides what is allowed.
    unit = SelectField(
        _l("办理单位"),
        validators=[InputRequired(message=_l("请选择办理单位。"))],
        validate_choice=False,
    )

    def offer(self, units: list[Unit]) -> AssignForm:
        """Fill the unit menu."""
        self.unit.choices = [SelectChoice("", _l("请选择办理单位"))] + [
            SelectChoice(u.code, f"{u.name}（{u.region.full_name}）") for u in units
        ]
        return self


class ReplyForm(FlaskForm):
    """The unit's answer; petitions also carry an outcome."""

    body = TextAreaField(
        _l("答复内容"),
        validators=[
            InputRequired(message=_l("请填写答复内容。")),
            Length(max=10000, message=_l("答复不能超过 10000 字。")),
        ],
    )
    outcome = SelectField(
        _l("处理意见"),
        choices=_choices(_l("请选择处理意见"), OUTCOME_LABELS),
        validators=[Optional()],
    )


class QueueFilterForm(Form):
    """Filters of the handler's queue, read from the query string."""

    state = SelectField(
        _l("状态"),
        choices=_choices(_l("全部状态"), STAFF_STATE_LABELS),
        validators=[Optional()],
    )
    kind = SelectField(
        _l("类别"),
        choices=_choices(_l("全部类别"), KIND_LABELS),
        validators=[Optional()],
    )
