"""Forms of the topic pages and the staff topic correction."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from .taxonomy import NAME_LENGTH


class TopicNameForm(FlaskForm):
    """A new topic (under an optional parent) or a topic's new name."""

    name = StringField(
        _l("名称"),
        validators=[InputRequired(_l("请填写名称。")), Length(max=NAME_LENGTH)],
    )
    parent_id = IntegerField(_l("上级分类"), validators=[Optional()])


class TopicActiveForm(FlaskForm):
    """Retire a topic or bring it back."""

    is_active = HiddenField(validators=[InputRequired()])


class TopicChoiceForm(FlaskForm):
    """Staff pick the right topic for a message."""

    topic = SelectField(
        _l("主题分类"), coerce=int, validators=[InputRequired(_l("请选择主题分类。"))]
    )


class DuplicateForm(FlaskForm):
    """Merge or link a likely duplicate from the desk's panel (one button each)."""

    other = HiddenField(validators=[InputRequired(), Length(max=32)])
    kind = HiddenField(validators=[InputRequired(), AnyOf(["merge", "link"])])
