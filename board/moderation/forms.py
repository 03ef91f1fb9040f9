"""Forms of moderation: approve, reject with a reason code, hide published content."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..messages.services import reason_codes
from ..models import ReasonUse

NOTE_MAX = 500


def reason_choices(use: ReasonUse) -> list[SelectChoice]:
    """The reason codes for one decision as menu choices, in the reader's language."""
    english = str(get_locale() or "zh_CN").startswith("en")
    return [SelectChoice("", _l("请选择理由"))] + [
        SelectChoice(r.code, r.label_en if english else r.label) for r in reason_codes(use)
    ]


class ApproveForm(FlaskForm):
    """Pass moderation, with an optional note for the record."""

    note = TextAreaField(
        _l("审核意见（可选）"),
        id="approve-note",
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("不能超过 500 字。"))],
    )


class RejectForm(FlaskForm):
    """Fail moderation with a published reason code; the service checks the code."""

    reason = SelectField(
        _l("不予通过的理由"),
        id="reject-reason",
        validators=[InputRequired(message=_l("请选择一个有效的理由。"))],
        validate_choice=False,
    )
    note = TextAreaField(
        _l("补充说明（可选）"),
        id="reject-note",
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("不能超过 500 字。"))],
    )

    def offer(self) -> RejectForm:
        """Fill the reason menu."""
        self.reason.choices = reason_choices(ReasonUse.REJECT)
        return self


class HideForm(FlaskForm):
    """Take published content off the public board with a reason code."""

    reason = SelectField(
        _l("隐藏理由"),
        id="hide-reason",
        validators=[InputRequired(message=_l("请选择一个有效的理由。"))],
        validate_choice=False,
    )
    note = TextAreaField(
        _l("补充说明（可选）"),
        id="hide-note",
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("不能超过 500 字。"))],
    )

    def offer(self) -> HideForm:
        """Fill the reason menu."""
        self.reason.choices = reason_choices(ReasonUse.HIDE)
        return self
