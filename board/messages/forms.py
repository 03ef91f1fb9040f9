"""Forms of the citizen's side of a message: compose (with preview), rate."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..models import DOMAIN_LABELS, KIND_LABELS, KINDS_BY_TRACK, TRACK_LABELS, Track
from ..phones import normalize_cn_phone
from .services import BODY_MAX, NOTE_MAX, SCORE_MISSING, TITLE_MAX, invalid_phone_message


def kind_choices() -> list[SelectChoice]:
    """Kinds grouped by track, rendered as <optgroup>s."""
    return [
        SelectChoice(kind.value, str(KIND_LABELS[kind]), optgroup=str(TRACK_LABELS[track]))
        for track, kinds in KINDS_BY_TRACK.items()
        for kind in kinds
    ]


class ComposeForm(FlaskForm):
    """A new message to a board; the region choices are the board's region and below."""

    track = SelectField(
        _l("渠道"),
        choices=[SelectChoice(t.value, TRACK_LABELS[t]) for t in Track],
        default=Track.BOARD.value,
        validate_choice=False,
        validators=[InputRequired(_l("请选择渠道。"))],
    )
    kind = SelectField(
        _l("类别"), validate_choice=False, validators=[InputRequired(_l("请选择类别。"))]
    )
    domain = SelectField(
        _l("领域"),
        choices=[SelectChoice("", _l("请选择领域"))]
        + [SelectChoice(d.value, label) for d, label in DOMAIN_LABELS.items()],
        validate_choice=False,
        validators=[DataRequired(_l("请选择领域。"))],
    )
    # Checked against the board's region by the view and the service, not by the choice list.
    region = SelectField(
        _l("问题发生地"),
        validate_choice=False,
        validators=[DataRequired(_l("请选择问题发生地。"))],
    )
    title = StringField(
        _l("标题"),
        validators=[
            DataRequired(_l("请填写标题。")),
            Length(max=TITLE_MAX, message=_l("标题不能超过 %(n)d 个字。", n=TITLE_MAX)),
        ],
    )
    body = TextAreaField(
        _l("正文"),
        validators=[
            DataRequired(_l("请填写正文。")),
            Length(min=10, message=_l("正文至少 10 个字，请把问题说清楚。")),
            Length(max=BODY_MAX, message=_l("正文不能超过 %(n)d 个字。", n=BODY_MAX)),
        ],
    )
    # Checked by the service (an active topic of the tree); choices set by the view.
    topic = SelectField(
        _l("主题分类（选填）"), validate_choice=False, validators=[Optional()], default=""
    )
    private_note = TextAreaField(
        _l("备注（不公开）"),
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=_l("备注不能超过 %(n)d 个字。", n=NOTE_MAX)),
        ],
    )
    # Board messages are published unless the author unticks this; petitions have their own box,
    # unticked, in the petitioner's section: a petition stays private unless its author says so.
    wants_public = BooleanField(_l("同意公开这条留言（个人信息会被遮蔽）"), default=True)
    petition_public = BooleanField(
        _l("同意公开这件信访事项（默认不公开；姓名、电话、住址始终不公开）"), default=False
    )
    # No Optional(): it would stop the chain before the petition checks below run.
    real_name = StringField(_l("真实姓名"), validators=[Length(max=64, message=_l("姓名太长。"))])
    phone = StringField(_l("联系电话"), validators=[Length(max=32, message=_l("电话号码太长。"))])
    address = StringField(_l("住址"), validators=[Length(max=200, message=_l("住址太长。"))])
    # Checked by content in board.attachments.services (type, size, count), not here.
    attachments = MultipleFileField(_l("附件（图片或 PDF）"))
    attachments_public = BooleanField(_l("附件可以公开（图片的拍摄地点等信息会被去除）"))
    # A random key per compose form (set when it is first shown): a second submission of the
    # same form (a double click, a resend after a lost answer) finds the message filed first.
    submission_key = HiddenField(validators=[Optional(), Length(max=64)])
    preview = SubmitField(_l("预览"))
    submit = SubmitField(_l("提交"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()

    def validate_track(self, field) -> None:
        """Only the two tracks exist."""
        if field.data not in KINDS_BY_TRACK:
            raise ValidationError(_l("请选择渠道。"))

    def validate_domain(self, field) -> None:
        """Only the listed domains exist."""
        if field.data not in DOMAIN_LABELS:
            raise ValidationError(_l("请选择领域。"))

    def validate_kind(self, field) -> None:
        """The kind must belong to the chosen track."""
        if (
            self.track.data in KINDS_BY_TRACK
            and field.data not in KINDS_BY_TRACK[Track(self.track.data)]
        ):
            raise ValidationError(_l("所选类别不属于该渠道。"))

    def validate_real_name(self, field) -> None:
        """Petitions need the petitioner's real name."""
        if self.track.data == Track.PETITION and not (field.data or "").strip():
            raise ValidationError(_l("信访事项须填写真实姓名。"))

    def validate_phone(self, field) -> None:
        """Petitions need a phone number the unit can call: a mobile or a landline with area code."""
        if self.track.data != Track.PETITION:
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("信访事项须填写联系电话。"))
        if normalize_cn_phone(field.data) is None:
            raise ValidationError(invalid_phone_message())

    def chosen_public(self) -> bool:
        """The author's wish to publish, read from the box of the chosen track."""
        if self.track.data == Track.PETITION:
            return bool(self.petition_public.data)
        return bool(self.wants_public.data)

    def submission(self) -> dict:
        """What the author wrote, as `submit_message` takes it; the real name, phone and
        address only for a petition."""
        petition = self.track.data == Track.PETITION
        return {
            "track": self.track.data,
            "kind": self.kind.data,
            "domain": self.domain.data,
            "title": self.title.data,
            "body": self.body.data,
            "private_note": self.private_note.data or "",
            "wants_public": self.chosen_public(),
            "real_name": self.real_name.data if petition else None,
            "phone": self.phone.data if petition else None,
            "address": self.address.data if petition else None,
        }

    def validate_address(self, field) -> None:
        """Petitions need an address."""
        if self.track.data == Track.PETITION and not (field.data or "").strip():
            raise ValidationError(_l("信访事项须填写住址。"))


# No score is chosen for the author: the first entry asks them to choose (DESIGN §4, rating).
STAR_CHOICES = [SelectChoice("", _l("请选择星级"))] + [
    SelectChoice(n, f"{n} ★") for n in range(5, 0, -1)
]


def _stars(value: str | int | None) -> int | None:
    """A submitted score as an int; the unchosen entry as None."""
    return None if value in ("", None) else int(value)


def _score(name: str, label) -> SelectField:
    """One 1–5 score, unselected until the author chooses; the error names the score."""
    return SelectField(
        label,
        choices=STAR_CHOICES,
        coerce=_stars,
        default=None,
        validators=[InputRequired(SCORE_MISSING[name])],
    )


class RateForm(FlaskForm):
    """The author's three 1–5 scores and a comment."""

    resolution = _score("resolution", _l("解决程度"))
    attitude = _score("attitude", _l("办理态度"))
    speed = _score("speed", _l("办理速度"))
    comment = TextAreaField(
        _l("评价内容（选填）"),
        validators=[Optional(), Length(max=500, message=_l("评价内容不能超过 500 字。"))],
    )
    submit = SubmitField(_l("提交评价"))


def _reasons(label, missing, high: int, length_message) -> TextAreaField:
    """The author's own words for a step (a question, a request's reasons): 10 to `high`
    characters, required."""
    return TextAreaField(
        label, validators=[InputRequired(missing), Length(min=10, max=high, message=length_message)]
    )


class WithdrawForm(FlaskForm):
    """撤回: the author confirms on a page of its own (no JavaScript), so one stray click or a
    bare POST withdraws nothing."""

    confirm = BooleanField(
        _l("我确认撤回这条留言：撤回后不再审核和办理，也不能恢复"),
        validators=[DataRequired(_l("请勾选确认后再撤回。"))],
    )
    submit = SubmitField(_l("确认撤回"))


class FollowUpForm(FlaskForm):
    """追问: one follow-up question per round after a reply (board track)."""

    body = _reasons(_l("追问内容"), _l("请填写追问内容。"), 500, _l("追问内容须为 10 到 500 字。"))
    submit = SubmitField(_l("提交追问"))


class ReviewRequestForm(FlaskForm):
    """复查 / 复核申请: the petitioner's reasons, within the window."""

    body = _reasons(
        _l("申请理由"),
        _l("请填写申请理由。"),
        BODY_MAX,
        _l("申请理由须为 10 到 %(n)d 字。", n=BODY_MAX),
    )
    submit = SubmitField(_l("提交申请"))
