"""Register, sign in and sign out citizens (and staff) through the web forms."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..clock import utcnow
from ..errors import ValidationFailed
from ..extensions import db, limiter
from ..privacy import truncate_ip
from ..security import LOGIN_PER_IP, REGISTER_PER_IP, ip_key, retry_after_seconds
from . import services
from .forms import LoginForm, RegisterForm, RevokeTokenForm, TokenForm, apply_service_errors

bp = Blueprint("auth", __name__)


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


def _start_session(user) -> None:
    """Sign `user` in on a fresh session so no earlier session id or data survives."""
    session.clear()
    login_user(user)


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
        try:
            user = services.register_citizen(
                form.email.data,
                form.password.data,
                form.pen_name.data,
                phone=(form.phone.data or "").strip() or None,
                locale=str(get_locale() or ""),
                now=utcnow(),
            )
        except ValidationFailed as error:
            apply_service_errors(form, error)
        else:
            _start_session(user)
            flash(_("注册成功，欢迎您，%(name)s。", name=user.pen_name), "success")
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
        try:
            user = services.sign_in(
                form.email.data, form.password.data, now=now, ip=truncate_ip(request.remote_addr)
            )
        except services.LoginLocked as error:
            form.password.errors.append(error.message)
            headers["Retry-After"] = str(retry_after_seconds(error.retry_at, now=now))
        except services.LoginFailed as error:
            form.password.errors.append(error.message)
        else:
            _start_session(user)
            flash(_("已登录。"), "success")
            return redirect(next_url or url_for("directory.home"))
    status = (429 if headers else 422) if form.errors else 200
    return render_template("auth/login.html", form=form), status, headers


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Sign out and drop the whole session."""
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


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of the user's tokens; it stops working at once."""
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    services.revoke_token(token_id, current_user, now=utcnow())
    flash(_("令牌已吊销，使用它的程序将无法再访问 API。"), "success")
    return redirect(url_for("auth.tokens"))
