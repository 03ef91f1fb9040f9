"""The public deadline calculator's form, read from the query string (a shareable URL)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Form, SelectField
from wtforms.validators import DataRequired, InputRequired

BAD_DATE = _l("请输入有效的日期，如 2026-09-28。")


class IsoDateField(DateField):
    """A YYYY-MM-DD date whose parse error speaks Chinese."""

    def process_formdata(self, valuelist: list) -> None:
        """Parse the date; a malformed one gets the form's own message."""
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(BAD_DATE)) from error


class CalculatorForm(Form):
    """A start date and a policy."""

    start = IsoDateField(_l("起算日期"), validators=[InputRequired(BAD_DATE)])
    policy = SelectField(_l("期限类型"), validators=[DataRequired(_l("请选择期限类型。"))])
