"""Register, sign in and sign out citizens (and staff) through the web forms."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..clock import utcnow
from ..errors import ValidationFailed
from ..extensions import limiter
from . import services
from .forms import LoginForm, RegisterForm, apply_service_errors

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
@limiter.limit("10 per hour", methods=["POST"])
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
@limiter.limit("20 per 10 minutes", methods=["POST"])
def login() -> ResponseReturnValue:
    """Sign in; `next` is honoured only when it is a path on this site."""
    next_url = safe_next_url(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("directory.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = next_url or ""
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("邮箱或密码不正确。"))
        else:
            _start_session(user)
            flash(_("已登录。"), "success")
            return redirect(next_url or url_for("directory.home"))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Sign out and drop the whole session."""
    logout_user()
    session.clear()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("directory.home"))
