"""Sign-up and sign-in forms, and putting a service's field errors back onto a form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from ..errors import BoardError
from .services import PASSWORD_MIN


def apply_service_errors(form: FlaskForm, error: BoardError) -> None:
    """Show a service's `fields` errors next to the matching inputs; others go to form_errors."""
    for name, messages in error.fields.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.extend(messages)
            continue
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.extend(messages)
    if not error.fields:
        form.form_errors.append(error.message)


# Validators of the fields that stand on several account forms.
EMAIL = [DataRequired(_l("请填写邮箱。")), Length(max=254, message=_l("邮箱太长。"))]
PEN_NAME = [DataRequired(_l("请填写网名。")), Length(max=40, message=_l("网名不能超过 40 个字。"))]
NEW_PASSWORD = [
    DataRequired(_l("请设置密码。")),
    Length(min=PASSWORD_MIN, max=200, message=_l("密码至少 %(n)d 位。", n=PASSWORD_MIN)),
]
CONFIRM_PASSWORD = [
    DataRequired(_l("请再次输入密码。")),
    EqualTo("password", message=_l("两次输入的密码不一致。")),
]
CURRENT_PASSWORD = DataRequired(_l("请填写当前密码。"))


class RegisterForm(FlaskForm):
    """Open a citizen account."""

    email = EmailField(_l("邮箱"), validators=EMAIL)
    password = PasswordField(_l("密码"), validators=NEW_PASSWORD)
    confirm = PasswordField(_l("确认密码"), validators=CONFIRM_PASSWORD)
    pen_name = StringField(_l("网名"), validators=PEN_NAME)
    phone = StringField(
        _l("手机号码（选填）"),
        validators=[
            Optional(),
            Regexp(r"^\+?[0-9 -]{5,20}$", message=_l("请填写有效的电话号码。")),
        ],
    )
    next = HiddenField()
    submit = SubmitField(_l("注册"))


class LoginForm(FlaskForm):
    """Sign in with e-mail and password."""

    email = EmailField(_l("邮箱"), validators=[DataRequired(_l("请填写邮箱。"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码。"))])
    next = HiddenField()
    submit = SubmitField(_l("登录"))


class TokenForm(FlaskForm):
    """Create a named API token."""

    name = StringField(
        _l("令牌名称"),
        validators=[
            DataRequired(_l("请为令牌起个名字，便于日后辨认。")),
            Length(max=80, message=_l("名称不能超过 80 个字。")),
        ],
    )
    submit = SubmitField(_l("创建令牌"))


class RevokeTokenForm(FlaskForm):
    """Revoke one token (the form carries only the CSRF token)."""

    submit = SubmitField(_l("吊销"))


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (confirm a link, end a session)."""

    submit = SubmitField(_l("确认"))


class ResetRequestForm(FlaskForm):
    """Ask for a password-reset link."""

    email = EmailField(_l("邮箱"), validators=EMAIL)
    submit = SubmitField(_l("发送重置链接"))


def _new_password_fields(label):
    """A new password and its confirmation."""
    password = PasswordField(label, validators=NEW_PASSWORD)
    confirm = PasswordField(_l("确认新密码"), validators=CONFIRM_PASSWORD)
    return password, confirm


class NewPasswordForm(FlaskForm):
    """Set a new password through a reset link."""

    password, confirm = _new_password_fields(_l("新密码"))
    submit = SubmitField(_l("设置新密码"))


class ChangePasswordForm(FlaskForm):
    """Change the password, confirmed by the current one."""

    current_password = PasswordField(_l("当前密码"), validators=[CURRENT_PASSWORD])
    password, confirm = _new_password_fields(_l("新密码"))
    submit = SubmitField(_l("修改密码"))


class ChangeEmailForm(FlaskForm):
    """Move the account to another address, confirmed by the password."""

    email = EmailField(_l("新邮箱"), validators=EMAIL)
    current_password = PasswordField(_l("当前密码"), validators=[CURRENT_PASSWORD])
    submit = SubmitField(_l("修改邮箱"))


class ProfileForm(FlaskForm):
    """Pen name, the private details petitions need, and the language of mail."""

    pen_name = StringField(_l("网名"), validators=PEN_NAME)
    real_name = StringField(
        _l("真实姓名（信访事项需要）"),
        validators=[Optional(), Length(max=64, message=_l("姓名不能超过 64 个字。"))],
    )
    phone = StringField(
        _l("联系电话"),
        validators=[Optional(), Length(max=32, message=_l("电话号码太长。"))],
    )
    address = StringField(
        _l("通信地址"),
        validators=[Optional(), Length(max=200, message=_l("地址不能超过 200 个字。"))],
    )
    locale = SelectField(
        _l("邮件语言"),
        choices=[
            SelectChoice("zh_CN", "中文", render_kw={"lang": "zh-CN"}),
            SelectChoice("en", "English"),
        ],
        default="zh_CN",
    )
    submit = SubmitField(_l("保存"))


class NotificationsForm(FlaskForm):
    """One switch per optional category of mail (board/notify/preferences.py)."""

    progress = BooleanField(_l("我的留言的一般进展"))
    cosigned = BooleanField(_l("我附议的留言收到答复"))
    following = BooleanField(_l("我关注的留言的答复和办结、保存的搜索的每日提醒"))
    digests = BooleanField(_l("每日待办与超期汇总（工作人员）"))
    submit = SubmitField(_l("保存设置"))


class DeleteAccountForm(FlaskForm):
    """Delete one's own account, confirmed by the password."""

    current_password = PasswordField(
        _l("当前密码"),
        validators=[CURRENT_PASSWORD, Length(max=200, message=_l("密码太长。"))],
    )
    submit = SubmitField(_l("永久注销我的账户"))
