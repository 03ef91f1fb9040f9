"""Forms of moderation: approve, reject with a reason code, hide published content."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..messages.queries import reason_codes
from ..models import ReasonUse

NOTE_MAX = 500


def reason_choices(use: ReasonUse) -> list[SelectChoice]:
    """The reason codes for one decision as menu choices, in the reader's language."""
    english = str(get_locale() or "zh_CN").startswith("en")
    return [SelectChoice("", _l("请选择理由"))] + [
        SelectChoice(r.code, r.label_en if english else r.label) for r in reason_codes(use)
    ]


def _note_field(label, prefix: str) -> TextAreaField:
    """An optional note of at most NOTE_MAX characters."""
    return TextAreaField(
        label,
        id=f"{prefix}-note",
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("不能超过 500 字。"))],
    )


def _reason_field(label, prefix: str) -> SelectField:
    """A reason-code menu; the service checks the chosen code is valid for its use."""
    return SelectField(
        label,
        id=f"{prefix}-reason",
        validators=[InputRequired(message=_l("请选择一个有效的理由。"))],
        validate_choice=False,
    )


class ApproveForm(FlaskForm):
    """Pass moderation, with an optional note for the record."""

    note = _note_field(_l("审核意见（可选）"), "approve")


class _ReasonForm(FlaskForm):
    """A decision that needs a published reason code of one use."""

    use: ReasonUse

    def offer(self):
        """Fill the reason menu."""
        self.reason.choices = reason_choices(self.use)
        return self


class RejectForm(_ReasonForm):
    """Fail moderation with a published reason code; the service checks the code."""

    use = ReasonUse.REJECT
    reason = _reason_field(_l("不予通过的理由"), "reject")
    note = _note_field(_l("补充说明（可选）"), "reject")


class HideForm(_ReasonForm):
    """Take published content off the public board with a reason code."""

    use = ReasonUse.HIDE
    reason = _reason_field(_l("隐藏理由"), "hide")
    note = _note_field(_l("补充说明（可选）"), "hide")


class SensitiveWordsForm(FlaskForm):
    """New words for the sensitive-word list, one per line."""

    words = TextAreaField(
        _l("新增敏感词（每行一个）"),
        validators=[
            InputRequired(message=_l("请至少填写一个词。")),
            Length(max=4000, message=_l("一次最多 4000 字。")),
        ],
    )
