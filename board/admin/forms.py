"""Forms of the admin's deadline pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .services import CONTACT_PHONE_MAX, MAX_POLICY_DAYS, NOTE_MAX

UNIT_CHOICES = [SelectChoice("working", _l("工作日")), SelectChoice("calendar", _l("自然日"))]


class PolicyForm(FlaskForm):
    """A policy's length, unit and label."""

    label = StringField(_l("名称"), validators=[InputRequired(_l("请填写名称。")), Length(max=80)])
    days = IntegerField(
        _l("天数"),
        validators=[
            InputRequired(_l("请填写天数。")),
            NumberRange(1, MAX_POLICY_DAYS, _l("天数须在 1 到 730 之间。")),
        ],
    )
    unit = SelectField(_l("计算方式"), choices=UNIT_CHOICES)


class DayForm(FlaskForm):
    """Make one day a working day or a holiday."""

    day = DateField(_l("日期"), validators=[InputRequired(_l("请输入有效的日期。"))])
    is_workday = SelectField(
        _l("设为"),
        choices=[SelectChoice("1", _l("工作日")), SelectChoice("0", _l("休息日"))],
        validators=[InputRequired()],
    )
    note = StringField(_l("备注"), validators=[Optional(), Length(max=NOTE_MAX)])


class ImportForm(FlaskForm):
    """Load a year from the package or from a CSV file."""

    year = IntegerField(
        _l("年份"),
        validators=[
            InputRequired(_l("请输入年份。")),
            NumberRange(1949, 2200, _l("请输入有效的年份。")),
        ],
    )
    source = RadioField(
        _l("来源"),
        choices=[
            SelectChoice("package", _l("chinese-calendar 软件包")),
            SelectChoice("file", _l("上传 CSV 文件")),
        ],
        default="package",
    )
    file = FileField(_l("CSV 文件（date,is_workday,note）"))


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""

    next = HiddenField()


class UnitContactForm(FlaskForm):
    """The phone a unit publishes for citizens to call back."""

    contact_phone = StringField(
        _l("对外联系电话"), validators=[Optional(), Length(max=CONTACT_PHONE_MAX)]
    )
