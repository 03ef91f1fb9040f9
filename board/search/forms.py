"""The search form, read from the query string so every search has a shareable URL."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Form, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from ..intel.names_en import lang_attributes
from ..models import ANSWERED_ORDER, DOMAIN_LABELS, KIND_LABELS, PUBLIC_STATES, STATE_LABELS, State

SORT_LABELS = {
    "relevance": _l("相关度"),
    "newest": _l("最新发布"),
    "oldest": _l("最早发布"),
    "cosigns": _l("附议最多"),
    "slowest": _l("答复最慢"),
}
REPLIED_LABELS = {"yes": _l("已答复"), "no": _l("未答复")}
# Public states in the order the public follows them; those sharing a label are one choice.
STATE_ORDER = (
    State.RECEIVED,
    State.ASSIGNED,
    State.IN_PROGRESS,
    State.REOPENED,
    *ANSWERED_ORDER,
    State.NOT_ACCEPTED,
)


def state_groups() -> list[tuple[str, str]]:
    """(comma-joined states, label) for public states, merged where the label is the same."""
    groups: dict[str, list[str]] = {}
    for state in (*STATE_ORDER, *sorted(PUBLIC_STATES - set(STATE_ORDER))):
        groups.setdefault(str(STATE_LABELS[state]), []).append(state.value)
    return [(",".join(states), label) for label, states in groups.items()]


def _choices(empty, labels: dict) -> list[SelectChoice]:
    """A blank "all" entry, then the coded labels (a name left in Chinese on an English page,
    `names_en.Chinese`, is marked as such)."""
    return [
        SelectChoice("", empty),
        *(SelectChoice(str(k), v, render_kw=lang_attributes(v)) for k, v in labels.items()),
    ]


class SearchForm(Form):
    """Query, filters and sort of the public search (GET: no CSRF, nothing is changed)."""

    q = StringField(_l("关键词"), validators=[Optional(), Length(max=200)])
    region = SelectField(_l("地区"), choices=[SelectChoice("", "")], validators=[Optional()])
    board = HiddenField()
    unit = HiddenField()
    kind = SelectField(
        _l("类别"), choices=_choices(_l("全部类别"), KIND_LABELS), validators=[Optional()]
    )
    domain = SelectField(
        _l("领域"), choices=_choices(_l("全部领域"), DOMAIN_LABELS), validators=[Optional()]
    )
    topic = SelectField(_l("主题分类"), choices=[SelectChoice("", "")], validators=[Optional()])
    state = SelectField(_l("状态"), choices=[SelectChoice("", "")], validators=[Optional()])
    replied = SelectField(
        _l("答复"), choices=_choices(_l("不限"), REPLIED_LABELS), validators=[Optional()]
    )
    date_from = DateField(_l("发布日期从"), name="from", validators=[Optional()])
    date_to = DateField(_l("到"), name="to", validators=[Optional()])
    sort = SelectField(
        _l("排序"),
        choices=[SelectChoice(k, v) for k, v in SORT_LABELS.items()],
        default="relevance",
        validators=[Optional()],
    )

    def __init__(
        self,
        formdata,
        region_choices: list[tuple[str, str]],
        topic_choices: list[tuple[str, str]] = (),
        **kwargs,
    ) -> None:
        super().__init__(formdata, **kwargs)
        self.region.choices = _choices(_l("全部地区"), dict(region_choices))
        self.topic.choices = _choices(_l("全部主题分类"), dict(topic_choices))
        self.state.choices = _choices(_l("全部状态"), dict(state_groups()))

    def filters(self) -> dict:
        """The filters of the fields that validated, as `search_messages` takes them."""
        found: dict = {}
        for name in ("region", "board", "unit", "kind", "domain", "topic"):
            field = self[name]
            if field.data and not field.errors:
                found[name] = field.data.strip()
        if self.state.data and not self.state.errors:
            found["state"] = self.state.data.split(",")
        if self.replied.data and not self.replied.errors:
            found["replied"] = self.replied.data == "yes"
        if self.date_from.data and not self.date_from.errors:
            found["date_from"] = self.date_from.data
        if self.date_to.data and not self.date_to.errors:
            found["date_to"] = self.date_to.data
        return found
