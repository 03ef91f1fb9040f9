"""Accounts and API tokens: registration, sign-in checks, staff creation, bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import local_text
from ..errors import BoardError, NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import ApiToken, LoginAttempt, Role, Unit, User
from ..models.accounts import AccountToken, TokenPurpose, UserSession
from ..phones import normalize_cn_phone
from ..retry import repeatable_commit
from . import passwords

PASSWORD_MIN = 8
# DESIGN §7: this many failed sign-ins for one address within the window lock it for LOCKOUT.
LOGIN_FAILURES_ALLOWED = 5
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_LOCKOUT = timedelta(minutes=15)
# Sign-in attempts (e-mail, truncated IP) are personal data: kept only as long as useful.
LOGIN_ATTEMPT_RETENTION = timedelta(days=30)
TOKEN_USE_PRECISION = timedelta(minutes=1)  # how exactly a token's "last used" is kept


class LoginFailed(BoardError, status=422, code="login_failed", default=_l("邮箱或密码不正确。")):
    """Wrong e-mail or password: one message whether or not the account exists."""


class LoginLocked(BoardError, status=429, code="login_locked"):
    """Too many recent failures for this address; `retry_at` (naive UTC) says when to retry."""

    def __init__(self, retry_at: datetime):
        self.retry_at = retry_at
        super().__init__(
            _(
                "登录失败次数过多，该账户已暂时锁定。请在 %(time)s（北京时间）之后再试。",
                time=local_text(retry_at),
            )
        )


def hash_password(password: str) -> str:
    """Hash with the configured method (scrypt by default; tests configure a cheap one)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    """A hash to check against for unknown e-mails, so they cost the same as a wrong password."""
    key = "_board_dummy_password_hash"
    if key not in current_app.extensions:
        current_app.extensions[key] = hash_password("minsheng-timing-equaliser")
    return current_app.extensions[key]


def normalize_email(email: str) -> str:
    """Check an address's syntax and return it in canonical, lower-cased form."""
    try:
        return validate_email(email or "", check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationFailed(fields={"email": [_("邮箱地址无效。")]}) from error


def check_password_rules(password: str) -> None:
    """Refuse passwords that are too short or on the list of commonly used passwords."""
    if len(password or "") < PASSWORD_MIN:
        raise ValidationFailed(fields={"password": [_("密码至少 %(n)d 位。", n=PASSWORD_MIN)]})
    if passwords.is_common(password):
        raise ValidationFailed(
            fields={"password": [_("这个密码太常见，很容易被猜中，请换一个更独特的密码。")]}
        )


def find_user(email: str) -> User | None:
    """The user with this e-mail (case-insensitive), if any."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def _new_user(
    email: str, password: str, pen_name: str, role: Role, *, now: datetime, **extra
) -> User:
    email = normalize_email(email)
    check_password_rules(password)
    pen_name = (pen_name or "").strip()
    if not pen_name or len(pen_name) > 40:
        raise ValidationFailed(fields={"pen_name": [_("请填写 1 到 40 个字的网名。")]})
    if find_user(email) is not None:
        raise ValidationFailed(fields={"email": [_("该邮箱已注册。")]})
    user = User(
        email=email,
        password_hash=hash_password(password),
        pen_name=pen_name,
        role=role,
        created_at=now,
        **extra,
    )
    db.session.add(user)
    return user


def _known_locale(locale: str | None) -> str:
    """`locale` if the site speaks it, else the default language."""
    if locale in current_app.config["LANGUAGES"]:
        return str(locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def register_citizen(
    email: str,
    password: str,
    pen_name: str,
    *,
    phone: str | None = None,
    locale: str | None = None,
    session_key: str | None = None,
    user_agent: str = "",
    ip: str | None = None,
    now: datetime,
) -> User:
    """Open a citizen account and mail the link that verifies its address.

    Its mail comes in `locale` (the interface language used). With `session_key`, the browser
    that registered is recorded as signed in.
    """
    user = _new_user(
        email,
        password,
        pen_name,
        Role.CITIZEN,
        now=now,
        phone=phone or None,
        locale=_known_locale(locale),
    )
    # The column defaults to the creation time (accounts the system makes are verified), and
    # the ORM lets that default fill an explicit None: clear it once the row exists.
    db.session.flush()
    user.email_verified_at = None  # not verified until the mailed link is used
    _mail_link(user, TokenPurpose.VERIFY, now=now)
    _open_session(user, session_key, user_agent=user_agent, ip=ip, now=now)
    db.session.commit()
    return user


def create_user(
    email: str,
    role: str,
    *,
    password: str,
    pen_name: str | None = None,
    unit_code: str | None = None,
    now: datetime,
) -> User:
    """Create an account of any role (CLI and admin); staff of units must name their unit."""
    if role not in Role.__members__.values():
        raise ValidationFailed(fields={"role": [_("未知角色：%(role)s", role=role)]})
    unit = None
    if role in (Role.HANDLER, Role.COORDINATOR):
        if not unit_code:
            raise ValidationFailed(fields={"unit": [_("承办人和交办员必须属于一个单位。")]})
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise NotFound(_("没有代码为 %(code)s 的单位。", code=unit_code))
    # Accounts made by an administrator (or the CLI and the demo seed) count as verified.
    user = _new_user(
        email,
        password,
        pen_name or email.split("@")[0],
        Role(role),
        now=now,
        unit=unit,
        email_verified_at=now,
    )
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user if the e-mail and password match an active account, else None."""
    user = find_user(email or "")
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.is_active:
        return None
    return user


def _attempt_key(email: str) -> str:
    """The address as attempts are counted: trimmed and lower-cased, valid or not."""
    return (email or "").strip().lower()[:254]


def locked_until(email: str, *, now: datetime) -> datetime | None:
    """When the lockout of this address ends, if it is locked out at `now`, else None."""
    key = _attempt_key(email)
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == key, LoginAttempt.succeeded.is_(True)
        )
    )
    query = select(LoginAttempt.created_at).where(
        LoginAttempt.email == key,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.created_at > now - LOGIN_FAILURE_WINDOW - LOGIN_LOCKOUT,
    )
    if last_success is not None:
        query = query.where(LoginAttempt.created_at > last_success)
    recent = db.session.scalars(
        query.order_by(LoginAttempt.created_at.desc()).limit(LOGIN_FAILURES_ALLOWED)
    ).all()
    if len(recent) < LOGIN_FAILURES_ALLOWED or recent[0] - recent[-1] >= LOGIN_FAILURE_WINDOW:
        return None
    until = recent[0] + LOGIN_LOCKOUT
    return until if now < until else None


def sign_in(
    email: str,
    password: str,
    *,
    now: datetime,
    ip: str | None = None,
    session_key: str | None = None,
    user_agent: str = "",
) -> User:
    """Check a sign-in, count it, and lock the address after repeated failures.

    With `session_key`, a successful sign-in is recorded as a session of this browser.

    Unknown addresses are counted and locked exactly like known ones, and tries while locked
    are neither checked nor counted, so the answers never tell whether an account exists.
    """
    key = _attempt_key(email)
    until = locked_until(key, now=now)
    if until is not None:
        raise LoginLocked(until)
    user = authenticate(email, password)
    # Recording an attempt also forgets this address's attempts past the retention period.
    db.session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.email == key, LoginAttempt.created_at < now - LOGIN_ATTEMPT_RETENTION
        )
    )
    db.session.add(LoginAttempt(email=key, succeeded=user is not None, ip=ip, created_at=now))
    if user is not None:
        _open_session(user, session_key, user_agent=user_agent, ip=ip, now=now)
    db.session.commit()
    if user is not None:
        return user
    until = locked_until(key, now=now)
    if until is not None:
        raise LoginLocked(until)
    raise LoginFailed()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, *, name: str = "", now: datetime) -> str:
    """Create an API token for `user`; the plain token is returned once and stored hashed.

    Only accounts with a verified address get one (the API publishes, as the web form does)."""
    if not user.is_verified:
        raise PermissionDenied(_("请先验证您的邮箱，然后才能创建 API 令牌。"))
    token = "ms_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_token_hash(token), name=name, created_at=now))
    db.session.commit()
    return token


def user_for_token(token: str, *, now: datetime) -> User | None:
    """The active user a bearer token belongs to, or None if unknown or revoked."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    user = row.user
    # "Last used" to the minute: one write a minute per token, not one per request.
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_PRECISION:
        row.last_used_at = now
        with repeatable_commit():
            db.session.commit()
    return user


def tokens_query(owner: User):
    """The owner's API tokens, newest first (revoked ones too, marked as such)."""
    return (
        select(ApiToken)
        .where(ApiToken.user_id == owner.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )


def revoke_token(token_id: int, owner: User, *, now: datetime) -> None:
    """Revoke one of the owner's tokens."""
    _close_owned(ApiToken, token_id, owner, "revoked_at", now=now)


def _close_owned(model, row_id: int, owner: User, column: str, *, now: datetime) -> None:
    """Stamp `column` (revoked_at, ended_at) of one of the owner's rows once, and commit.

    Someone else's row is NotFound, exactly like a missing one: its id must not be confirmed.
    """
    row = db.session.get(model, row_id)
    if row is None or row.user_id != owner.id:
        raise NotFound()
    if getattr(row, column) is None:
        setattr(row, column, now)
    db.session.commit()


def prune_login_attempts(*, now: datetime, keep: timedelta = LOGIN_ATTEMPT_RETENTION) -> int:
    """Delete sign-in attempts older than `keep` (30 days by default); returns how many."""
    result = db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - keep))
    db.session.commit()
    return result.rowcount or 0


# ---------------------------------------------------------------------------------------------
# Mailed links: e-mail verification and password reset (single use, expiring, hashed)

VERIFY_LINK_LIFETIME = timedelta(days=3)
RESET_LINK_LIFETIME = timedelta(hours=1)
RESET_MAILS_PER_HOUR = 3  # per account: more requests within the hour send nothing more


class LinkInvalid(
    BoardError,
    code="link_invalid",
    default=_l("链接无效或已过期（每个链接只能使用一次）。请重新申请。"),
):
    """A mailed link that is unknown, used, expired, or for an address the account left."""


class PasswordWrong(BoardError, status=422, code="password_wrong", default=_l("当前密码不正确。")):
    """The current password given to confirm a change does not match."""


def _mail_link(user: User, purpose: TokenPurpose, *, now: datetime) -> None:
    """Create a link token for `user` and queue the mail carrying it (in the caller's
    transaction: the mail exists exactly when the token does)."""
    from ..notify import outbox

    token = secrets.token_urlsafe(32)
    lifetime = VERIFY_LINK_LIFETIME if purpose == TokenPurpose.VERIFY else RESET_LINK_LIFETIME
    row = AccountToken(
        user=user,
        purpose=purpose,
        token_hash=_token_hash(token),
        email=user.email,
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(row)
    path = (
        f"/verify-email/{token}" if purpose == TokenPurpose.VERIFY else f"/reset-password/{token}"
    )
    outbox.enqueue(
        outbox.Draft(
            recipient=user.email,
            kind=f"account_{purpose}",
            dedupe_key=f"account:{purpose}:{row.token_hash}",
            template=f"account_{purpose}",
            context={
                "user": user,
                "url": outbox.link(path),
                "expires_at": row.expires_at,
                "hours": int(lifetime.total_seconds() // 3600),
            },
        ),
        now=now,
    )


def _valid_link(token: str, purpose: TokenPurpose, *, now: datetime) -> AccountToken:
    """The unused, unexpired link row for `token`, still matching its account's address."""
    row = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _token_hash(token or ""),
            AccountToken.purpose == purpose,
        )
    )
    if (
        row is None
        or row.used_at is not None
        or row.expires_at <= now
        or not row.user.is_active
        or row.user.email.lower() != row.email.lower()
    ):
        raise LinkInvalid()
    return row


def check_link(token: str, purpose: TokenPurpose, *, now: datetime) -> User:
    """Whose link this is, without using it (the page that asks to confirm); LinkInvalid if
    it cannot be used."""
    return _valid_link(token, purpose, now=now).user


def send_verification(user: User, *, now: datetime) -> None:
    """Mail (again) a link that verifies the account's current address."""
    if user.is_verified:
        return
    _mail_link(user, TokenPurpose.VERIFY, now=now)
    db.session.commit()


def verify_email(token: str, *, now: datetime) -> User:
    """Use a verification link: the account's address is verified from now on."""
    row = _valid_link(token, TokenPurpose.VERIFY, now=now)
    row.used_at = now
    row.user.email_verified_at = row.user.email_verified_at or now
    db.session.commit()
    return row.user


def request_password_reset(email: str, *, now: datetime) -> None:
    """Mail a reset link if an active account has this address; says nothing either way.

    At most RESET_MAILS_PER_HOUR links an hour go to one account, so the form cannot be used to
    flood someone's mailbox (the view also limits requests per network address).
    """
    user = find_user(email or "")
    if user is None or not user.is_active:
        return
    recent = db.session.scalar(
        select(func.count(AccountToken.id)).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.RESET,
            AccountToken.created_at > now - timedelta(hours=1),
        )
    )
    if recent >= RESET_MAILS_PER_HOUR:
        return
    _mail_link(user, TokenPurpose.RESET, now=now)
    db.session.commit()


def _end_sessions(user: User, *, now: datetime, keep: UserSession | None = None) -> None:
    """End every open session of `user` but `keep`, and bump the session version so no older
    cookie is accepted either."""
    db.session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.id != (keep.id if keep is not None else 0),
        )
        .values(ended_at=now)
    )
    user.session_version = (user.session_version or 1) + 1


def reset_password(token: str, password: str, *, now: datetime) -> User:
    """Use a reset link: set the new password, end every session, void the other reset links.

    Reading the mail proves the address too, so an unverified account becomes verified."""
    row = _valid_link(token, TokenPurpose.RESET, now=now)
    check_password_rules(password)
    user = row.user
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or now
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.RESET,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    _end_sessions(user, now=now)
    db.session.commit()
    return user


def _check_current_password(user: User, password: str) -> None:
    if not check_password_hash(user.password_hash, password or ""):
        raise PasswordWrong(fields={"current_password": [PasswordWrong().message]})


def change_password(
    user: User, current_password: str, new_password: str, *, session_key: str | None, now: datetime
) -> User:
    """Set a new password (the current one confirms it); every other session ends."""
    _check_current_password(user, current_password)
    check_password_rules(new_password)
    user.password_hash = hash_password(new_password)
    _end_sessions(user, now=now, keep=live_session(user, session_key))
    db.session.commit()
    return user


def change_email(
    user: User, password: str, new_email: str, *, session_key: str | None, now: datetime
) -> User:
    """Move the account to a new address (the password confirms it): the new address must be
    verified again, a link goes to it, and every other session ends."""
    _check_current_password(user, password)
    email = normalize_email(new_email)
    if email == user.email.lower():
        raise ValidationFailed(fields={"email": [_("新邮箱与当前邮箱相同。")]})
    if find_user(email) is not None:
        raise ValidationFailed(fields={"email": [_("该邮箱已注册。")]})
    from ..notify import preferences

    preferences.move_address(user.email, email)
    user.email = email
    user.email_verified_at = None
    _end_sessions(user, now=now, keep=live_session(user, session_key))
    _mail_link(user, TokenPurpose.VERIFY, now=now)
    db.session.commit()
    return user


# ---------------------------------------------------------------------------------------------
# Sessions: one row per signed-in browser

SESSION_SEEN_PRECISION = timedelta(minutes=5)  # how exactly "last seen" is kept


def new_session_key() -> str:
    """A random key for a browser's session cookie (the database keeps only its hash)."""
    return secrets.token_urlsafe(32)


def _open_session(
    user: User, key: str | None, *, user_agent: str, ip: str | None, now: datetime
) -> None:
    """Record a signed-in browser (in the caller's transaction)."""
    if not key:
        return
    db.session.add(
        UserSession(
            user=user,
            key_hash=_token_hash(key),
            user_agent=(user_agent or "")[:200],
            ip=ip,
            created_at=now,
            last_seen_at=now,
        )
    )


def live_session(user: User, key: str | None) -> UserSession | None:
    """The open session of `user` with this cookie key, if any."""
    if not key:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.key_hash == _token_hash(key)))
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return None
    return row


def touch_session(row: UserSession, *, now: datetime) -> None:
    """Note that the browser was seen, to SESSION_SEEN_PRECISION: one short write every few
    minutes per session, skipped while the request has changes of its own pending."""
    if now - row.last_seen_at < SESSION_SEEN_PRECISION:
        return
    session = db.session()
    if session.new or session.deleted or any(o is not row for o in session.dirty):
        return
    row.last_seen_at = now
    with repeatable_commit():
        db.session.commit()


def sessions_query(owner: User):
    """The owner's open sessions, most recently seen first."""
    return (
        select(UserSession)
        .where(UserSession.user_id == owner.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )


def end_session(owner: User, session_id: int, *, now: datetime) -> None:
    """Sign one of the owner's browsers out."""
    _close_owned(UserSession, session_id, owner, "ended_at", now=now)


def sign_out(user: User, key: str | None, *, now: datetime) -> None:
    """End the session of this browser (sign-out)."""
    row = live_session(user, key)
    if row is not None:
        row.ended_at = now
        db.session.commit()


def sign_out_everywhere(user: User, *, now: datetime) -> None:
    """End every session of `user`, this browser's too."""
    _end_sessions(user, now=now)
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# Profile


def update_profile(
    user: User,
    *,
    pen_name: str,
    real_name: str | None,
    phone: str | None,
    address: str | None,
    locale: str,
    now: datetime,
) -> User:
    """Change the pen name, the private details petitions need, and the mail language.

    Real name, phone and address are never public (DESIGN §7): only the staff handling the
    person's own cases see them. A phone must be a valid mainland number (stored canonical).
    """
    errors: dict[str, list[str]] = {}
    pen_name = (pen_name or "").strip()
    if not pen_name or len(pen_name) > 40:
        errors["pen_name"] = [_("请填写 1 到 40 个字的网名。")]
    canonical_phone = None
    if (phone or "").strip():
        canonical_phone = normalize_cn_phone(phone)
        if canonical_phone is None:
            errors["phone"] = [_("请填写有效的手机号码或带区号的固定电话。")]
    if locale not in current_app.config["LANGUAGES"]:
        errors["locale"] = [_("请选择邮件语言。")]
    if errors:
        raise ValidationFailed(fields=errors)
    user.pen_name = pen_name
    user.real_name = (real_name or "").strip()[:64] or None
    user.phone = canonical_phone
    user.address = (address or "").strip()[:200] or None
    user.locale = locale
    db.session.commit()
    return user
