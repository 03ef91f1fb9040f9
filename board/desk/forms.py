"""Forms of the desk: every step of the workflow a handler, coordinator or review body takes."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from .. import workflow
from ..models import KIND_LABELS, OUTCOME_LABELS, ReasonCode, State, Unit
from ..workflow import Action

# The queue states as staff call them (the public labels merge "assigned" into 待回复).
STAFF_STATE_LABELS = {
    State.ASSIGNED: _l("待受理"),
    State.IN_PROGRESS: _l("办理中"),
    State.REOPENED: _l("重办中"),
}
# The deadline marks the handler's queue can be narrowed to.
DUE_FILTER_LABELS = {
    "due_soon": _l("即将到期"),
    "overdue": _l("已超期"),
    "seriously_overdue": _l("严重超期"),
    "awaiting_signoff": _l("待签发"),
    "drafts": _l("退回修改"),
}
NOTE_MAX = workflow.limit(Action.URGE, "note").high
BODY_MAX = workflow.limit(Action.REPLY, "body").high
EXTENSION_REASON = workflow.limit(Action.EXTEND, "reason")
HEARING_DAYS = workflow.limit(Action.HEARING, "days")
HEARING_DAYS_MESSAGE = _l(
    "请填写 %(low)d 到 %(high)d 之间的天数。", low=HEARING_DAYS.low, high=HEARING_DAYS.high
)


def _choices(blank: str, labels: dict) -> list[SelectChoice]:
    """A menu of coded labels after a blank "choose / all" entry."""
    return [SelectChoice("", blank)] + [
        SelectChoice(str(code), label) for code, label in labels.items()
    ]


def _note(label, *, required: bool = False, message=None):
    """A free-text note of at most NOTE_MAX characters."""
    first = InputRequired(message=message) if required else Optional()
    return TextAreaField(
        label,
        validators=[
            first,
            Length(max=NOTE_MAX, message=_l("不能超过 %(n)d 字。", n=NOTE_MAX)),
        ],
    )


def _body(label, required_message):
    """A reply-like body of at most BODY_MAX characters."""
    return TextAreaField(
        label,
        validators=[
            InputRequired(message=required_message),
            Length(max=BODY_MAX, message=_l("不能超过 %(n)d 字。", n=BODY_MAX)),
        ],
    )


def _menu(label, missing) -> SelectField:
    """A required menu the view fills (units, reason codes); the service checks the choice."""
    return SelectField(label, validators=[InputRequired(message=missing)], validate_choice=False)


def _outcome():
    """The petition outcome menu: 予以支持 / 解释说明 / 不予支持."""
    return SelectField(
        _l("处理意见"),
        choices=_choices(_l("请选择处理意见"), OUTCOME_LABELS),
        validators=[Optional()],
    )


class DeskForm(FlaskForm):
    """A desk form whose input ids carry its own prefix, so many forms share one page.

    Field names stay plain (`body`, `note`), as the API and the services call them.
    """

    id_prefix = ""

    def __init__(self, *args, id_prefix: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if id_prefix is not None:
            self.id_prefix = id_prefix
        if self.id_prefix:
            for field in self:
                field.id = f"{self.id_prefix}-{field.name}"
                field.label.field_id = field.id


class _UnitMenu:
    """Forms with a unit menu filled by the view (the service decides what is allowed)."""

    def offer(self, units: list[Unit]):
        """Fill the unit menu."""
        self.unit.choices = [SelectChoice("", _l("请选择办理单位"))] + [
            SelectChoice(
                u.code, _("%(unit)s（%(region)s）", unit=u.label, region=u.region.full_label)
            )
            for u in units
        ]
        return self


class _ReasonMenu:
    """Forms with a reason-code menu filled by the view."""

    def offer(self, reasons: list[ReasonCode], english: bool = False):
        """Fill the reason menu with published reason codes."""
        self.reason.choices = [SelectChoice("", _l("请选择理由"))] + [
            SelectChoice(r.code, r.label_en if english else r.label) for r in reasons
        ]
        return self


class AssignForm(_UnitMenu, DeskForm):
    """交办: the unit that must answer; the service checks it lies in the board's region."""

    id_prefix = "assign"

    unit = _menu(_l("办理单位"), _l("请选择办理单位。"))


class TransferForm(_UnitMenu, DeskForm):
    """转办: move the message to another unit, with a note for the record."""

    id_prefix = "transfer"

    unit = _menu(_l("转给"), _l("请选择办理单位。"))
    note = _note(_l("转办说明"))


class ReplyForm(DeskForm):
    """The unit's answer, sent to the coordinator for sign-off; petitions carry an outcome."""

    id_prefix = "reply"

    body = _body(_l("答复内容"), _l("请填写答复内容。"))
    outcome = _outcome()


class AcceptForm(DeskForm):
    """受理; for petitions the note is the acceptance notice (受理告知书) the author reads."""

    id_prefix = "accept"

    note = _note(_l("受理告知"))


class NotAcceptForm(_ReasonMenu, DeskForm):
    """不予受理 (petitions): a legal reason and an explanation for the author."""

    id_prefix = "not-accept"

    reason = _menu(_l("不予受理理由"), _l("请选择一个有效的理由。"))
    note = _note(_l("说明"))


class ReturnForm(_ReasonMenu, DeskForm):
    """退回申请: the unit cannot handle the message; the coordinator decides."""

    id_prefix = "return"

    reason = _menu(_l("退回理由"), _l("请选择一个有效的理由。"))
    note = _note(_l("退回说明"), required=True, message=_l("请说明退回的原因。"))


class ExtensionForm(DeskForm):
    """延期申请: once per handling round, with a reason the author will read."""

    id_prefix = "extend"

    reason = TextAreaField(
        _l("延期理由"),
        validators=[
            InputRequired(message=_l("请填写延期理由。")),
            Length(
                min=EXTENSION_REASON.low,
                max=EXTENSION_REASON.high,
                message=_l(
                    "延期理由须为 %(low)d 到 %(n)d 字。",
                    low=EXTENSION_REASON.low,
                    n=EXTENSION_REASON.high,
                ),
            ),
        ],
    )


class InterimForm(DeskForm):
    """阶段性答复: published at once, the message stays open."""

    id_prefix = "interim"

    body = _body(_l("阶段性答复内容"), _l("请填写阶段性答复内容。"))


class RequestDecisionForm(DeskForm):
    """Approve or decline the return / extension request the page showed (its id, hidden)."""

    request = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    note = _note(_l("说明"))


class DeclineRequestForm(RequestDecisionForm):
    """Decline the request the page showed: the unit is told why, so the reason is required."""

    note = _note(
        _l("不同意的理由"), required=True, message=_l("不同意申请须说明理由，承办单位会看到。")
    )


class RequiredNoteForm(DeskForm):
    """A decision that must say why (send a draft back, urge, reopen)."""

    note = _note(_l("说明"), required=True, message=_l("请填写说明。"))


class SignOffForm(DeskForm):
    """签发: publish the reply awaiting sign-off (nothing to fill in)."""

    id_prefix = "sign-off"


class DecisionForm(DeskForm):
    """复查 / 复核意见: the review body's published decision with its outcome."""

    id_prefix = "decide"

    body = _body(_l("意见内容"), _l("请填写意见内容。"))
    outcome = _outcome()


class HearingForm(DeskForm):
    """听证: the re-review clock is lengthened by the hearing days."""

    id_prefix = "hearing"

    days = IntegerField(
        _l("听证天数"),
        validators=[
            InputRequired(message=HEARING_DAYS_MESSAGE),
            NumberRange(min=HEARING_DAYS.low, max=HEARING_DAYS.high, message=HEARING_DAYS_MESSAGE),
        ],
    )
    note = _note(_l("听证安排"))


class RefuseRepeatForm(DeskForm):
    """不再受理: the same petitioner's earlier, re-reviewed message on the same facts."""

    id_prefix = "refuse"

    earlier = StringField(
        _l("已复核终结的信访事项编号"),
        validators=[
            InputRequired(message=_l("请填写已复核终结的信访事项编号。")),
            Length(max=20, message=_l("编号格式不正确。")),
        ],
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
    board = SelectField(_l("留言板"), validators=[Optional()], validate_choice=False)
    due = SelectField(
        _l("期限"),
        choices=_choices(_l("全部"), DUE_FILTER_LABELS),
        validators=[Optional()],
    )

    def offer(self, boards) -> QueueFilterForm:
        """Fill the board menu with the boards the unit's messages come from."""
        self.board.choices = [SelectChoice("", _l("全部留言板"))] + [
            SelectChoice(b.code, b.label) for b in boards
        ]
        return self
