"""Forms of the admin's deadline pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional

from ..models import ROLE_LABELS, Role
from .services import CONTACT_PHONE_MAX, INVITABLE_ROLES, MAX_POLICY_DAYS, NOTE_MAX, UNIT_NAME_MAX

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


class UnitForm(FlaskForm):
    """A unit's name, region, parent, e-mail and published phone (the code only when new)."""

    code = StringField(_l("代码"), validators=[Optional(), Length(max=40)])
    name = StringField(
        _l("名称"), validators=[InputRequired(_l("请填写名称。")), Length(max=UNIT_NAME_MAX)]
    )
    region = StringField(
        _l("行政区划代码"), validators=[InputRequired(_l("请填写行政区划代码。")), Length(max=6)]
    )
    parent = StringField(_l("上级单位代码"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("单位邮箱"), validators=[Optional(), Length(max=200)])
    contact_phone = StringField(
        _l("对外联系电话"), validators=[Optional(), Length(max=CONTACT_PHONE_MAX)]
    )


class MoveStaffForm(FlaskForm):
    """Move one staff member to another unit."""

    unit = StringField(_l("调往单位代码"), validators=[InputRequired(), Length(max=40)])


def _role_choices(roles) -> list[SelectChoice]:
    return [SelectChoice(str(role), ROLE_LABELS[role]) for role in roles]


class InviteForm(FlaskForm):
    """Invite a staff member by e-mail."""

    email = EmailField(_l("邮箱"), validators=[InputRequired(_l("请填写邮箱。")), Length(max=254)])
    role = SelectField(_l("角色"), choices=_role_choices(INVITABLE_ROLES))
    unit = StringField(
        _l("单位代码（承办人、交办员必填）"), validators=[Optional(), Length(max=40)]
    )


class RoleForm(FlaskForm):
    """Another role (and unit) for an account."""

    role = SelectField(_l("角色"), choices=_role_choices(list(Role)))
    unit = StringField(
        _l("单位代码（承办人、交办员必填）"), validators=[Optional(), Length(max=40)]
    )


class AcceptInvitationForm(FlaskForm):
    """The invitee's pen name and password."""

    pen_name = StringField(
        _l("名字（工作人员显示名）"),
        validators=[InputRequired(_l("请填写名字。")), Length(max=40)],
    )
    password = PasswordField(
        _l("密码"), validators=[InputRequired(_l("请设置密码。")), Length(max=200)]
    )
    confirm = PasswordField(
        _l("再次输入密码"), validators=[EqualTo("password", _l("两次输入的密码不一致。"))]
    )


POST_CHOICES = [
    SelectChoice("secretary", _l("书记")),
    SelectChoice("governor", _l("省长、市长、县长（主席）")),
    SelectChoice("department", _l("部门")),
]


class BoardForm(FlaskForm):
    """A new board: its code, region, post, title, office unit and (optionally) its holder."""

    code = StringField(_l("代码"), validators=[InputRequired(_l("请填写代码。")), Length(max=40)])
    region = StringField(
        _l("行政区划代码"), validators=[InputRequired(_l("请填写行政区划代码。")), Length(max=6)]
    )
    post = SelectField(_l("职务类别"), choices=POST_CHOICES)
    title = StringField(_l("名称"), validators=[InputRequired(_l("请填写名称。")), Length(max=120)])
    office = StringField(
        _l("办理单位代码"), validators=[InputRequired(_l("请填写单位代码。")), Length(max=40)]
    )
    holder_name = StringField(_l("现任"), validators=[Optional(), Length(max=64)])
    started_on = DateField(_l("任职开始日期"), validators=[Optional()])


class HolderForm(FlaskForm):
    """A new holder of the post (empty: vacant) and the day the term starts."""

    holder_name = StringField(_l("新任"), validators=[Optional(), Length(max=64)])
    started_on = DateField(_l("任职开始日期"), validators=[InputRequired(_l("请输入有效的日期。"))])


REASON_USE_CHOICES = [
    SelectChoice("reject", _l("退回（审核不通过）")),
    SelectChoice("hide", _l("隐藏")),
    SelectChoice("return", _l("承办单位申请退回")),
    SelectChoice("not_accept", _l("不予受理")),
]


class ReasonCodeForm(FlaskForm):
    """A reason's labels, description and place in the list (use and code only when new)."""

    use = SelectField(_l("用途"), choices=REASON_USE_CHOICES)
    slug = StringField(_l("代码"), validators=[Optional(), Length(max=31)])
    label = StringField(_l("名称"), validators=[InputRequired(_l("请填写名称。")), Length(max=120)])
    label_en = StringField(
        _l("英文名称"), validators=[InputRequired(_l("请填写英文名称。")), Length(max=160)]
    )
    description = TextAreaField(_l("说明"), validators=[Optional(), Length(max=500)])
    sort = IntegerField(
        _l("排序"), default=0, validators=[InputRequired(_l("请填写排序。")), NumberRange(0, 9999)]
    )


class RegionRenameForm(FlaskForm):
    """A region's new name and the day the State Council's change took effect."""

    name = StringField(_l("新名称"), validators=[InputRequired(_l("请填写名称。")), Length(max=64)])
    changed_on = DateField(_l("生效日期"), validators=[InputRequired(_l("请输入有效的日期。"))])


class RegionMergeForm(FlaskForm):
    """The region that absorbs this one, and the day the State Council's change took effect."""

    into = StringField(
        _l("并入的区划代码"),
        validators=[
            InputRequired(_l("请填写区划代码。")),
            Length(max=6, message=_l("代码为 6 位数字。")),
        ],
    )
    merged_on = DateField(_l("生效日期"), validators=[InputRequired(_l("请输入有效的日期。"))])
