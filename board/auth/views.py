"""Register, sign in and sign out citizens (and staff) through the web forms."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..clock import utcnow
from ..errors import ValidationFailed
from ..extensions import csrf, db, limiter
from ..models import User
from ..models.accounts import TokenPurpose
from ..notify import preferences
from ..privacy import truncate_ip
from ..security import (
    LOGIN_PER_IP,
    REGISTER_PER_IP,
    account_key,
    ip_key,
    retry_after_seconds,
)
from . import erasure, services
from .export import export_data
from .forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmForm,
    DeleteAccountForm,
    LoginForm,
    NewPasswordForm,
    NotificationsForm,
    ProfileForm,
    RegisterForm,
    ResetRequestForm,
    RevokeTokenForm,
    TokenForm,
    apply_service_errors,
)
from .services import LinkInvalid

bp = Blueprint("auth", __name__)
RESET_PER_IP = "5 per hour"  # reset-link requests from one network address
RESEND_PER_ACCOUNT = "3 per hour"  # verification mails one account may ask for
NO_STORE = {"Cache-Control": "no-store"}  # pages that carry a link token or personal data


def safe_next_url(target: str | None) -> str | None:
    """`target` if it is a path on this site (no scheme, host or `//`), else None."""
    if not target:
        return None
    target = target.strip()
    if target.endswith("?"):
        target = target[:-1]
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    # Browsers treat "//host", "/\host" and control characters as another origin.
    if target.startswith(("//", "/\\")) or any(ord(c) < 32 or c == "\\" for c in target):
        return None
    return target


SESSION_KEY = "sid"  # the Flask-session entry naming this browser's UserSession row
# Signed-in citizens whose address is not verified yet may read and prepare, not publish.
PUBLISHING_ENDPOINTS = frozenset({"messages.write", "messages.cosign"})


def device() -> dict:
    """What the sessions list shows of this browser: its user agent and truncated address."""
    return {
        "user_agent": (request.headers.get("User-Agent") or "")[:200],
        "ip": truncate_ip(request.remote_addr),
    }


def start_session(user, key: str) -> None:
    """Sign `user` in on a fresh session so no earlier session id or data survives."""
    session.clear()
    login_user(user)
    session[SESSION_KEY] = key


@bp.before_app_request
def unverified_may_not_publish() -> ResponseReturnValue | None:
    """Send a signed-in person whose address is unverified from publishing to their account
    page, where the verification mail can be sent again (docs/accounts.md)."""
    if request.endpoint not in PUBLISHING_ENDPOINTS or not current_user.is_authenticated:
        return None
    if current_user.is_verified:
        return None
    flash(_("请先验证您的邮箱：打开我们发到 %(email)s 的链接后即可留言和附议。",
            email=current_user.email), "warning")  # fmt: skip
    return redirect(url_for("auth.account"), 303)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTER_PER_IP, methods=["POST"], key_func=ip_key)
def register() -> ResponseReturnValue:
    """Open a citizen account and sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("directory.home"))
    form = RegisterForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next")) or ""
    if form.validate_on_submit():
        key = services.new_session_key()
        try:
            user = services.register_citizen(
                form.email.data,
                form.password.data,
                form.pen_name.data,
                phone=(form.phone.data or "").strip() or None,
                locale=str(get_locale() or ""),
                session_key=key,
                **device(),
                now=utcnow(),
            )
        except ValidationFailed as error:
            apply_service_errors(form, error)
        else:
            start_session(user, key)
            flash(
                _(
                    "注册成功，欢迎您，%(name)s。我们已向 %(email)s 发送验证链接，验证后即可留言。",
                    name=user.pen_name,
                    email=user.email,
                ),
                "success",
            )
            return redirect(safe_next_url(form.next.data) or url_for("directory.home"))
    status = 422 if form.errors else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_PER_IP, methods=["POST"], key_func=ip_key)
def login() -> ResponseReturnValue:
    """Sign in; `next` is honoured only when it is a path on this site."""
    next_url = safe_next_url(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("directory.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = next_url or ""
    headers = {}
    if form.validate_on_submit():
        now = utcnow()
        key = services.new_session_key()
        try:
            user = services.sign_in(
                form.email.data, form.password.data, now=now, session_key=key, **device()
            )
        except services.LoginLocked as error:
            form.password.errors.append(error.message)
            headers["Retry-After"] = str(retry_after_seconds(error.retry_at, now=now))
        except services.LoginFailed as error:
            form.password.errors.append(error.message)
        else:
            start_session(user, key)
            flash(_("已登录。"), "success")
            return redirect(next_url or url_for("directory.home"))
    status = (429 if headers else 422) if form.errors else 200
    return render_template("auth/login.html", form=form), status, headers


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Sign out and drop the whole session."""
    if current_user.is_authenticated:
        services.sign_out(current_user, session.get(SESSION_KEY), now=utcnow())
    logout_user()
    session.clear()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("directory.home"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> ResponseReturnValue:
    """List the user's API tokens and create one; a new token is shown this once only."""
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = services.issue_token(
            current_user._get_current_object(), name=form.name.data.strip(), now=utcnow()
        )
        form = TokenForm(formdata=None)
    rows = db.session.scalars(services.tokens_query(current_user)).all()
    page = render_template(
        "auth/tokens.html",
        form=form,
        tokens=rows,
        new_token=new_token,
    )
    # The page may carry a token in clear: no cache may keep it.
    return page, 422 if form.errors else 200, {"Cache-Control": "no-store"}


@bp.post("/account/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of the user's tokens; it stops working at once."""
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    services.revoke_token(token_id, current_user, now=utcnow())
    flash(_("令牌已吊销，使用它的程序将无法再访问 API。"), "success")
    return redirect(url_for("auth.tokens"))


# ---------------------------------------------------------------------------------------------
# Mailed links: verification and password reset. Opening a link shows a page with a button;
# only the button (a POST) uses the link, so mail scanners that fetch links use up nothing.


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str) -> ResponseReturnValue:
    """Confirm the address a verification link was sent to (works without signing in)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        user = services.verify_email(token, now=utcnow())
        flash(_("邮箱 %(email)s 已验证，现在可以留言和附议了。", email=user.email), "success")
        return redirect(url_for("directory.home"), 303)
    user = services.check_link(token, TokenPurpose.VERIFY, now=utcnow())
    page = render_template("account/verify.html", form=form, email=user.email, token=token)
    return page, 200, NO_STORE


@bp.post("/account/verify/resend")
@login_required
@limiter.limit(RESEND_PER_ACCOUNT, key_func=account_key)
def resend_verification() -> ResponseReturnValue:
    """Mail the verification link again."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.send_verification(current_user, now=utcnow())
    return _back_to_account(_("验证链接已发送到 %(email)s，请查收。", email=current_user.email))


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(RESET_PER_IP, methods=["POST"], key_func=ip_key)
def reset_request() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = ResetRequestForm()
    sent = False
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, now=utcnow())
        sent = True
    page = render_template("account/reset_request.html", form=form, sent=sent)
    return page, 422 if form.errors else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Set a new password through a mailed link; every session of the account ends."""
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data, now=utcnow())
        except ValidationFailed as error:
            apply_service_errors(form, error)
        else:
            logout_user()
            session.clear()
            flash(_("密码已重置，所有设备均已退出登录。请用新密码登录。"), "success")
            return redirect(url_for("auth.login"), 303)
    else:
        services.check_link(token, TokenPurpose.RESET, now=utcnow())
    page = render_template("account/reset.html", form=form, token=token)
    return page, 422 if form.errors else 200, NO_STORE


# ---------------------------------------------------------------------------------------------
# The account: profile, password, e-mail, sessions


def _me():
    return current_user._get_current_object()


def _account_page(status: int = 200, **forms) -> ResponseReturnValue:
    """The account page with its forms (those given carry the submitted values and errors)."""
    user = _me()
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("email_form", ChangeEmailForm(formdata=None))
    forms.setdefault("resend_form", ConfirmForm(formdata=None))
    if "profile_form" not in forms:
        forms["profile_form"] = ProfileForm(formdata=None, obj=user)
    page = render_template("account/account.html", user=user, **forms)
    return page, status, NO_STORE


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    """The person's account: address and its verification, password, links to the rest."""
    return _account_page()


@bp.post("/account")
@login_required
def update_profile() -> ResponseReturnValue:
    """Save the pen name, the private details and the mail language."""
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            services.update_profile(
                _me(),
                pen_name=form.pen_name.data,
                real_name=form.real_name.data,
                phone=form.phone.data,
                address=form.address.data,
                locale=form.locale.data,
                now=utcnow(),
            )
        except ValidationFailed as error:
            apply_service_errors(form, error)
        else:
            return _back_to_account(_("资料已保存。"))
    return _account_page(422, profile_form=form)


@bp.post("/account/password")
@login_required
def change_password() -> ResponseReturnValue:
    """Change the password; every other browser is signed out."""
    form = ChangePasswordForm()
    if _confirmed_change(form, services.change_password, form.password.data):
        return _back_to_account(_("密码已修改，其他设备已退出登录。"))
    return _account_page(422, password_form=form)


@bp.post("/account/email")
@login_required
def change_email() -> ResponseReturnValue:
    """Move the account to another address; it must be verified again."""
    form = ChangeEmailForm()
    if user := _confirmed_change(form, services.change_email, form.email.data):
        return _back_to_account(
            _("邮箱已改为 %(email)s，其他设备已退出登录。请打开发到新邮箱的链接完成验证。",
              email=user.email)
        )  # fmt: skip
    return _account_page(422, email_form=form)


def _back_to_account(message: str) -> ResponseReturnValue:
    """After a change made on the account page: say so and show the page again (303)."""
    flash(message, "success")
    return redirect(url_for("auth.account"), 303)


def _confirmed_change(form, change, value: str) -> User | None:
    """Submit a change the current password confirms, `change(me, current_password, value, …)`:
    every other browser is signed out, this one stays signed in (its session version moved on).

    The changed account; None when the form or the service refused it (errors on the form).
    """
    if not form.validate_on_submit():
        return None
    try:
        user = change(
            _me(),
            form.current_password.data,
            value,
            session_key=session.get(SESSION_KEY),
            now=utcnow(),
        )
    except (ValidationFailed, services.PasswordWrong) as error:
        apply_service_errors(form, error)
        return None
    login_user(user)
    return user


@bp.get("/account/sessions")
@login_required
def sessions() -> ResponseReturnValue:
    """The browsers signed in to this account, with a way to sign each (or all) out."""
    current = services.live_session(_me(), session.get(SESSION_KEY))
    rows = db.session.scalars(services.sessions_query(_me())).all()
    page = render_template(
        "account/sessions.html",
        rows=rows,
        current_id=current.id if current else None,
        form=ConfirmForm(formdata=None),
    )
    return page, 200, NO_STORE


@bp.post("/account/sessions/<id:session_id>/end")
@login_required
def end_session(session_id: int) -> ResponseReturnValue:
    """Sign one browser out (someone else's session id is not found)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.end_session(_me(), session_id, now=utcnow())
    flash(_("该设备已退出登录。"), "success")
    return redirect(url_for("auth.sessions"), 303)


@bp.post("/account/sessions/end-all")
@login_required
def end_all_sessions() -> ResponseReturnValue:
    """Sign out everywhere, this browser included."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.sign_out_everywhere(_me(), now=utcnow())
    logout_user()
    session.clear()
    flash(_("已在所有设备上退出登录。"), "success")
    return redirect(url_for("directory.home"), 303)


# ---------------------------------------------------------------------------------------------
# Mail: notification settings and the one-click unsubscribe link


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notifications() -> ResponseReturnValue:
    """Turn optional mail on or off; notices the person must receive are listed as always on."""
    form = NotificationsForm()
    if form.validate_on_submit():
        receive = {name for name in preferences.CATEGORIES if form[name].data}
        preferences.save_preferences(current_user.email, receive, now=utcnow())
        flash(_("邮件通知设置已保存。"), "success")
        return redirect(url_for("auth.notifications"), 303)
    if request.method == "GET":
        off = preferences.opted_out(current_user.email)
        for name in preferences.CATEGORIES:
            form[name].data = name not in off
    page = render_template(
        "account/notifications.html",
        form=form,
        categories=preferences.CATEGORIES,
        staff=current_user.is_staff,
    )
    return page, 422 if form.errors else 200


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST here without a form; the signed token is the proof
def unsubscribe(token: str) -> ResponseReturnValue:
    """One-click unsubscribe from a mail's link (works without signing in): GET asks, POST
    turns the category off."""
    found = preferences.read_unsubscribe_token(token)
    if found is None:
        raise LinkInvalid()
    address, category = found
    if request.method == "POST":
        preferences.unsubscribe(token, now=utcnow())
        page = render_template("account/unsubscribe.html", done=True, address=address,
                               category=category, categories=preferences.CATEGORIES)  # fmt: skip
        return page, 200
    page = render_template("account/unsubscribe.html", done=False, address=address,
                           category=category, categories=preferences.CATEGORIES, token=token)  # fmt: skip
    return page, 200, NO_STORE


@bp.get("/account/export")
@login_required
def export() -> ResponseReturnValue:
    """Download one's own data as JSON (PIPL art. 45)."""
    data = export_data(_me(), now=utcnow())
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return (
        body,
        200,
        {
            **NO_STORE,
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": 'attachment; filename="minsheng-my-data.json"',
        },
    )


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account() -> ResponseReturnValue:
    """Warn what deleting the account erases and keeps; the password confirms it (staff
    accounts are told to ask an admin instead)."""
    if request.method == "POST":
        erasure.require_deletable(_me())
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            erasure.delete_account(_me(), form.current_password.data, now=utcnow())
        except services.PasswordWrong as error:
            apply_service_errors(form, error)
        else:
            logout_user()
            session.clear()
            flash(_("您的账户已注销，个人资料已删除。确认邮件已发往原邮箱。"), "success")
            return redirect(url_for("directory.home"), 303)
    page = render_template("account/delete.html", form=form, may_delete=erasure.may_delete(_me()))
    return page, 422 if form.errors else 200, NO_STORE
