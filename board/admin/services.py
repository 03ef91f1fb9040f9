"""The admin's deadline settings: policies, the holiday calendar (DESIGN §4), the mail outbox."""

from __future__ import annotations

import calendar as pycalendar
import hashlib
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import g
from flask_babel import gettext as _
from sqlalchemy import DateTime, Select, func, insert, literal, select

from .. import holidays
from ..audit import record_change
from ..calendar import services as clocks
from ..deadlines import DayUnit
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import (
    ROLE_LABELS,
    Board,
    BoardTerm,
    CalendarDay,
    CalendarYear,
    DeadlinePolicy,
    Message,
    Post,
    ReasonCode,
    ReasonUse,
    Region,
    RegionName,
    Role,
    SearchOutbox,
    Unit,
    User,
)
from ..notify import services as notify
from ..notify.models import OutgoingMail
from ..phones import normalize_cn_phone
from ..search import outbox as search_outbox
from .models import Invitation

MAX_POLICY_DAYS = 730
NOTE_MAX = 80


def require_admin(actor: User | None) -> None:
    """Only admins change deadline settings."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role != Role.ADMIN:
        raise PermissionDenied()


def _forget_cached_calendar() -> None:
    """db_calendar caches per request by a version that a changed day does not bump."""
    g.pop(clocks._CACHE, None)


# ---------------------------------------------------------------------------------------------
# Policies


def policies(actor: User) -> list:
    """Every policy with its current length (stored, or the DESIGN default)."""
    require_admin(actor)
    return clocks.policy_choices()


def get_policy(actor: User, name: str):
    """One policy by name, or NotFound."""
    require_admin(actor)
    try:
        return clocks.get_policy(name)
    except KeyError as error:
        raise NotFound(_("没有名为 %(name)s 的期限类型。", name=name)) from error


def update_policy(
    actor: User, name: str, *, days: int, unit: str, label: str, now: datetime
) -> DeadlinePolicy:
    """Change a policy's length, unit and label; clocks already running keep their own length."""
    get_policy(actor, name)
    errors: dict[str, list[str]] = {}
    if not isinstance(days, int) or not 1 <= days <= MAX_POLICY_DAYS:
        errors["days"] = [_("天数须在 1 到 %(max)d 之间。", max=MAX_POLICY_DAYS)]
    if unit not in {u.value for u in DayUnit}:
        errors["unit"] = [_("请选择工作日或自然日。")]
    label = (label or "").strip()
    if not label or len(label) > 80:
        errors["label"] = [_("名称须为 1 到 80 个字。")]
    if errors:
        raise ValidationFailed(fields=errors)
    row = db.session.get(DeadlinePolicy, name)
    current = clocks.get_policy(name)
    before = {"days": current.days, "unit": str(current.unit), "label": current.label}
    if row is None:
        row = DeadlinePolicy(name=name)
        db.session.add(row)
    row.days, row.unit, row.label = days, unit, label
    after = {"days": days, "unit": unit, "label": label}
    record_change(actor, "policy", name, before, after, now=now)
    db.session.commit()
    return row


# ---------------------------------------------------------------------------------------------
# The calendar


@dataclass
class YearRow:
    """A loaded year as the calendar page lists it."""

    year: int
    source: str
    loaded_at: datetime
    holidays: int
    workdays: int


def calendar_years(actor: User) -> list[YearRow]:
    """The loaded years with their source and how many exceptional days each has."""
    require_admin(actor)
    counts: dict[tuple[int, bool], int] = {}
    for day, workday in db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)):
        counts[(day.year, workday)] = counts.get((day.year, workday), 0) + 1
    return [
        YearRow(
            row.year,
            row.source,
            row.loaded_at,
            counts.get((row.year, False), 0),
            counts.get((row.year, True), 0),
        )
        for row in db.session.scalars(select(CalendarYear).order_by(CalendarYear.year))
    ]


@dataclass(frozen=True)
class MissingYear:
    """A year whose official schedule is due but not imported, and the clocks waiting on it."""

    year: int
    provisional_clocks: int


def missing_years(actor: User, *, now: datetime) -> list[MissingYear]:
    """This year, and from 1 October (Beijing) next year, where no official schedule is loaded.

    Deadlines there count the statutory holidays by law and are provisional until it is.
    """
    require_admin(actor)
    return [
        MissingYear(year, clocks.provisional_open_count(year))
        for year in clocks.missing_schedule_years(now)
    ]


@dataclass
class MonthDay:
    """One day of the month view."""

    day: date
    is_workday: bool
    note: str
    source: str  # "" for the week, "law" for a statutory holiday of a year not imported
    in_month: bool


def month_view(actor: User, year: int, month: int) -> tuple[list[list[MonthDay]], bool]:
    """Weeks (Monday first) of the month, and whether its year is loaded."""
    require_admin(actor)
    if not (1949 <= year <= 2200 and 1 <= month <= 12):
        raise NotFound()
    rows = {
        r.day: r
        for r in db.session.scalars(
            select(CalendarDay).where(
                CalendarDay.day >= date(year, month, 1),
                CalendarDay.day <= date(year, month, pycalendar.monthrange(year, month)[1]),
            )
        )
    }
    loaded = db.session.get(CalendarYear, year) is not None
    law = {} if loaded else holidays.days_off(year)
    weeks = []
    for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for day in week:
            row = rows.get(day)
            if row is not None:
                cell = MonthDay(day, row.is_workday, row.note or "", row.source, day.month == month)
            elif day in law:
                cell = MonthDay(day, False, law[day], "law", day.month == month)
            else:
                cell = MonthDay(day, day.weekday() < 5, "", "", day.month == month)
            cells.append(cell)
        weeks.append(cells)
    return weeks, loaded


def set_day(actor: User, day: date, *, is_workday: bool, note: str, now: datetime) -> int:
    """Make a day a working day or a holiday (with a note); recompute open clocks; commits.

    Returns how many open clocks got a new due date (each logs a `clock_recomputed` event).
    """
    require_admin(actor)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(fields={"note": [_("备注不能超过 80 个字。")]})
    row = db.session.get(CalendarDay, day)
    before = {"is_workday": row.is_workday, "note": row.note} if row is not None else None
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.is_workday = bool(is_workday)
    row.note = note or ("调休上班" if is_workday and day.weekday() >= 5 else "")
    row.source = "admin"
    record_change(
        actor,
        "calendar.day",
        day.isoformat(),
        before,
        {"is_workday": row.is_workday, "note": row.note},
        now=now,
    )
    db.session.flush()
    _forget_cached_calendar()
    changed = clocks.recompute_open_clocks(now=now)
    db.session.commit()
    _forget_cached_calendar()
    return changed


def import_year(
    actor: User, year: int, *, csv_bytes: bytes | None = None, now: datetime
) -> tuple[int, int]:
    """Load a year from the chinese-calendar package, or from an uploaded CSV; commits.

    The CSV has the format of `flask calendar import --file`: `date,is_workday,note` lines.
    Returns (days stored, open clocks with a new due date).
    """
    require_admin(actor)
    if not 1949 <= year <= 2200:
        raise ValidationFailed(fields={"year": [_("请输入有效的年份。")]})
    try:
        if csv_bytes is None:
            rows = clocks.package_rows(year)
        else:
            text = csv_bytes.decode("utf-8-sig")
            rows = clocks.read_calendar_csv(io.StringIO(text), year)
    except UnicodeDecodeError as error:
        raise ValidationFailed(fields={"file": [_("文件须为 UTF-8 编码的 CSV。")]}) from error
    except ValueError as error:
        field = "file" if csv_bytes is not None else "year"
        raise ValidationFailed(fields={field: [str(error)]}) from error
    _forget_cached_calendar()
    source = "file" if csv_bytes is not None else "package"
    rows = list(rows)
    record_calendar_import(actor, year, rows, source=source, now=now)
    result = clocks.load_calendar_year(year, rows, source=source, now=now)
    _forget_cached_calendar()
    return result


def record_calendar_import(
    actor: User | str, year: int, rows: list, *, source: str, now: datetime
) -> None:
    """Log a year's import (web or `flask calendar import`) in the transaction that loads it."""
    loaded = db.session.get(CalendarYear, year)
    stored = db.session.scalar(
        select(func.count())
        .select_from(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    )
    before = {"source": loaded.source, "days": stored} if loaded is not None else None
    record_change(
        actor, "calendar.import", str(year), before, {"source": source, "days": len(rows)}, now=now
    )


def package_years_available() -> list[int]:
    """The years the package can load."""
    return clocks.package_years()


def exceptional_day_count() -> int:
    """How many rows the calendar table has."""
    return db.session.scalar(select(func.count()).select_from(CalendarDay)) or 0


# ---------------------------------------------------------------------------------------------
# The mail outbox


def retry_mail(actor: User, mail_id: int, *, now: datetime) -> OutgoingMail:
    """Queue a failed or waiting mail again, logged as an admin change; one transaction."""
    require_admin(actor)
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None or mail.state == "sent":
        raise NotFound()
    before = {"state": str(mail.state), "attempts": mail.attempts}
    record_change(
        actor,
        "mail.retry",
        str(mail.id),
        before,
        {
            "state": "queued",
            "attempts": 0 if mail.attempts >= notify.MAX_ATTEMPTS else mail.attempts,
        },
        now=now,
    )
    return notify.retry_mail(actor, mail_id, now=now)  # commits the change and its log row


# ---------------------------------------------------------------------------------------------
# Units

CONTACT_PHONE_MAX = 40
UNIT_NAME_MAX = 120
UNIT_CODE = re.compile(r"^[0-9]{6}-[a-z0-9][a-z0-9-]{0,32}$")
# Numbers libphonenumber does not know as a mainland line but citizens can call: 3–6 digit
# hotlines (12345, 95598), 400/800 service numbers; digits with spaces, dashes and brackets.
_SERVICE_PHONE = re.compile(r"^(?:1[0-9]{2,5}|9[0-9]{4}|[48]00[0-9 \-]{7,9})$")


def units(actor: User) -> list[Unit]:
    """Every unit, by region then code."""
    require_admin(actor)
    return list(db.session.scalars(select(Unit).order_by(Unit.region_code, Unit.code)))


def get_unit(actor: User, code: str) -> Unit:
    """One unit by code, or NotFound."""
    require_admin(actor)
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(_("没有代码为 %(code)s 的单位。", code=code))
    return unit


def _phone(value: str | None) -> str | None:
    """The published phone in its canonical spelling (phones.py), or a hotline / 95xxx / 400
    number as written; None when empty. Raises ValidationFailed when it is neither."""
    phone = " ".join(unicodedata.normalize("NFKC", value or "").split())
    if not phone:
        return None
    canonical = normalize_cn_phone(phone) if len(phone) <= CONTACT_PHONE_MAX else None
    if canonical:
        return canonical
    if len(phone) <= CONTACT_PHONE_MAX and _SERVICE_PHONE.match(phone):
        return phone
    raise ValidationFailed(
        fields={
            "contact_phone": [
                _("请填写有效的电话号码，如 0571-87654321、12345 或 0571-87654321 转 802。")
            ]
        }
    )


def _unit_snapshot(unit: Unit) -> dict:
    return {
        "name": unit.name,
        "region": unit.region_code,
        "parent": unit.parent.code if unit.parent else None,
        "email": unit.email,
        "contact_phone": unit.contact_phone,
    }


def _clean_text(value: str | None, field: str, *, most: int, required: bool = True) -> str:
    """Trimmed single-line text, refused when empty (if required), too long or with controls."""
    text = " ".join((value or "").split())
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        raise ValidationFailed(fields={field: [_("不能包含控制字符。")]})
    if (required and not text) or len(text) > most:
        raise ValidationFailed(fields={field: [_("请填写 1 到 %(n)d 个字。", n=most)]})
    return text


def _unit_fields(
    actor: User,
    unit: Unit | None,
    *,
    name: str,
    region_code: str,
    parent_code: str,
    email: str,
    contact_phone_text: str,
) -> dict:
    """Checked values of the unit form (a unit cannot be its own ancestor)."""
    from ..auth.services import normalize_email

    values: dict = {"name": _clean_text(name, "name", most=UNIT_NAME_MAX)}
    region = db.session.get(Region, (region_code or "").strip())
    if region is None:
        raise ValidationFailed(fields={"region": [_("没有这个行政区划代码。")]})
    values["region_code"] = region.code
    parent = None
    if (parent_code or "").strip():
        parent = db.session.scalar(select(Unit).where(Unit.code == parent_code.strip()))
        if parent is None:
            raise ValidationFailed(fields={"parent": [_("没有这个上级单位。")]})
        ancestor = parent
        while ancestor is not None:
            if unit is not None and ancestor.id == unit.id:
                raise ValidationFailed(fields={"parent": [_("上级单位不能是本单位或其下级。")]})
            ancestor = ancestor.parent
    values["parent"] = parent
    values["email"] = None
    if (email or "").strip():
        try:
            values["email"] = normalize_email(email)
        except ValidationFailed as error:
            raise ValidationFailed(fields={"email": error.fields["email"]}) from error
    values["contact_phone"] = _phone(contact_phone_text)
    return values


def create_unit(
    actor: User,
    *,
    code: str,
    name: str,
    region_code: str,
    parent_code: str = "",
    email: str = "",
    contact_phone_text: str = "",
    now: datetime,
) -> Unit:
    """Add a unit (code `<region>-<letters>`, e.g. 330100-wj), logged; one transaction."""
    require_admin(actor)
    code = (code or "").strip().lower()
    if not UNIT_CODE.match(code):
        raise ValidationFailed(
            fields={"code": [_("代码格式为“行政区划代码-小写字母”，如 330100-wj。")]}
        )
    if db.session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise ValidationFailed(fields={"code": [_("这个代码已被使用。")]})
    values = _unit_fields(
        actor,
        None,
        name=name,
        region_code=region_code,
        parent_code=parent_code,
        email=email,
        contact_phone_text=contact_phone_text,
    )
    unit = Unit(code=code, **values)
    db.session.add(unit)
    record_change(actor, "unit.create", code, None, _unit_snapshot(unit), now=now)
    db.session.commit()
    return unit


def update_unit(
    actor: User,
    code: str,
    *,
    name: str,
    region_code: str,
    parent_code: str = "",
    email: str = "",
    contact_phone_text: str = "",
    now: datetime,
) -> Unit:
    """Change a unit's name, region, parent, e-mail and published phone, logged; one transaction.

    The published phone shows on the unit's page and stays readable in public texts.
    """
    unit = get_unit(actor, code)
    values = _unit_fields(
        actor,
        unit,
        name=name,
        region_code=region_code,
        parent_code=parent_code,
        email=email,
        contact_phone_text=contact_phone_text,
    )
    before = _unit_snapshot(unit)
    for key, value in values.items():
        setattr(unit, key, value)
    record_change(actor, "unit.update", unit.code, before, _unit_snapshot(unit), now=now)
    db.session.commit()
    return unit


def unit_staff(actor: User, unit: Unit) -> list[User]:
    """The unit's staff accounts, by role then e-mail."""
    require_admin(actor)
    return list(
        db.session.scalars(
            select(User).where(User.unit_id == unit.id).order_by(User.role, User.email)
        )
    )


def move_staff(actor: User, user: User, to_code: str, *, now: datetime) -> User:
    """Move a handler or coordinator to another unit, logged; one transaction."""
    require_admin(actor)
    if user.role not in (Role.HANDLER, Role.COORDINATOR):
        raise ValidationFailed(fields={"unit": [_("只有承办人和交办员属于单位。")]})
    target = db.session.scalar(select(Unit).where(Unit.code == (to_code or "").strip()))
    if target is None:
        raise ValidationFailed(fields={"unit": [_("没有这个单位。")]})
    before = {"unit": user.unit.code if user.unit else None}
    user.unit = target
    record_change(actor, "user.unit", user.email, before, {"unit": target.code}, now=now)
    db.session.commit()
    return user


# ---------------------------------------------------------------------------------------------
# Accounts

UNIT_ROLES = (Role.HANDLER, Role.COORDINATOR)
INVITABLE_ROLES = (Role.HANDLER, Role.COORDINATOR, Role.MODERATOR, Role.ADMIN)
INVITATION_LIFETIME = timedelta(days=7)
SEARCH_MAX = 100


def users_query(actor: User, *, q: str = "", role: str = "", status: str = "") -> Select:
    """Accounts for the admin's list, newest first: search by e-mail or pen name (part of it)."""
    require_admin(actor)
    query = select(User).order_by(User.id.desc())
    q = (q or "").strip()[:SEARCH_MAX]
    if q:
        query = query.where(
            func.lower(User.email).contains(q.lower(), autoescape=True)
            | func.lower(User.pen_name).contains(q.lower(), autoescape=True)
        )
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    if status == "disabled":
        query = query.where(User.is_active_account.is_(False))
    elif status == "active":
        query = query.where(User.is_active_account.is_(True))
    return query


def get_user(actor: User, user_id: int) -> User:
    """One account by id, or NotFound."""
    require_admin(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("没有这个账户。"))
    return user


def _require_live(user: User) -> None:
    """A deleted account (docs/accounts.md) is a tombstone: it gets no role and stays off."""
    if user.deleted_at is not None:
        raise PermissionDenied(_("该账户已注销，不能再修改。"))


def _unit_for_role(role: str, unit_code: str | None) -> Unit | None:
    """The unit a role needs (handlers and coordinators must have one; others have none)."""
    if role not in UNIT_ROLES:
        return None
    code = (unit_code or "").strip()
    if not code:
        raise ValidationFailed(fields={"unit": [_("承办人和交办员必须属于一个单位。")]})
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ValidationFailed(fields={"unit": [_("没有这个单位。")]})
    return unit


def change_role(actor: User, user: User, *, role: str, unit_code: str = "", now: datetime) -> User:
    """Give an account another role (and unit), logged; one transaction.

    Admins cannot change their own role (another admin must): so one admin always remains.
    """
    require_admin(actor)
    if role not in {r.value for r in Role}:
        raise ValidationFailed(fields={"role": [_("未知角色。")]})
    if user.id == actor.id:
        raise PermissionDenied(_("不能修改自己的角色，请由另一位管理员操作。"))
    _require_live(user)
    unit = _unit_for_role(role, unit_code)
    before = {"role": user.role, "unit": user.unit.code if user.unit else None}
    user.role, user.unit = role, unit
    record_change(
        actor, "user.role", user.email, before, {"role": role, "unit": unit.code if unit else None},
        now=now,
    )  # fmt: skip
    db.session.commit()
    return user


def set_active(actor: User, user: User, *, active: bool, now: datetime) -> User:
    """Disable an account (signed out everywhere, cannot sign in) or enable it again; logged."""
    require_admin(actor)
    if user.id == actor.id:
        raise PermissionDenied(_("不能停用自己的账户。"))
    _require_live(user)
    if user.is_active_account == active:
        return user
    user.is_active_account = active
    if not active:
        user.session_version = (user.session_version or 1) + 1
    record_change(
        actor,
        "user.enable" if active else "user.disable",
        user.email,
        {"active": not active},
        {"active": active},
        now=now,
    )
    db.session.commit()
    return user


def sign_out_everywhere(actor: User, user: User, *, now: datetime) -> User:
    """End every session of the account (it signs in again with its password), logged."""
    require_admin(actor)
    before = {"session_version": user.session_version}
    user.session_version = (user.session_version or 1) + 1
    record_change(
        actor, "user.sign_out", user.email, before, {"session_version": user.session_version},
        now=now,
    )  # fmt: skip
    db.session.commit()
    return user


# ---------------------------------------------------------------------------------------------
# Invitations


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def invite_staff(
    actor: User, *, email: str, role: str, unit_code: str = "", now: datetime
) -> tuple[Invitation, str]:
    """Invite a staff member by e-mail: the mail's link lets them set a password and sign in.

    Returns the invitation and its token (only its hash is stored). An earlier open invitation
    to the same address is revoked. One transaction: the row, the mail and the log entry.
    """
    from ..auth.services import find_user, normalize_email

    require_admin(actor)
    email = normalize_email(email)
    if role not in {r.value for r in INVITABLE_ROLES}:
        raise ValidationFailed(fields={"role": [_("只能邀请工作人员角色。")]})
    unit = _unit_for_role(role, unit_code)
    if find_user(email) is not None:
        raise ValidationFailed(fields={"email": [_("该邮箱已有账户，请在列表中修改其角色。")]})
    for earlier in db.session.scalars(
        select(Invitation).where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    ):
        earlier.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        role=role,
        unit=unit,
        token_hash=_token_hash(token),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    notify.enqueue(
        notify.Draft(
            recipient=email,
            kind="invitation",
            dedupe_key=f"invitation:{invitation.id}",
            template="invitation",
            context={
                "role_label": ROLE_LABELS[Role(role)],  # translated in the mail's language
                "unit": unit,
                "url": notify.link(f"/invite/{token}"),
                "expires_at": invitation.expires_at,
            },
        ),
        now=now,
    )
    record_change(
        actor,
        "invitation.create",
        email,
        None,
        {"role": role, "unit": unit.code if unit else None, "expires_at": invitation.expires_at},
        now=now,
    )
    db.session.commit()
    return invitation, token


def invitations(actor: User, *, now: datetime) -> list[Invitation]:
    """Invitations not yet used, revoked or expired, newest first."""
    require_admin(actor)
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.id.desc())
        )
    )


def revoke_invitation(actor: User, invitation_id: int, *, now: datetime) -> Invitation:
    """Withdraw an open invitation: its link stops working; logged."""
    require_admin(actor)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not invitation.is_open(now):
        raise NotFound(_("这个邀请不存在或已失效。"))
    invitation.revoked_at = now
    record_change(
        actor, "invitation.revoke", invitation.email, {"open": True}, {"open": False}, now=now
    )
    db.session.commit()
    return invitation


class InvitationInvalid(NotFound):
    """The link's invitation does not exist, was used or withdrawn, or has expired."""

    code = "invitation_invalid"

    def default_message(self) -> str:
        """Text used when the raiser gave none."""
        return _("邀请链接无效、已使用或已过期。请联系管理员重新邀请。")


def open_invitation(token: str, *, now: datetime) -> Invitation:
    """The open invitation of a link's token, or InvitationInvalid (404)."""
    if not token or len(token) > 200:
        raise InvitationInvalid()
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _token_hash(token))
    )
    if invitation is None or not invitation.is_open(now):
        raise InvitationInvalid()
    return invitation


def accept_invitation(
    token: str,
    *,
    password: str,
    pen_name: str,
    now: datetime,
    session_key: str | None = None,
    user_agent: str = "",
    ip: str | None = None,
) -> User:
    """Open the invited account with the password the invitee chose; the link is then used up.

    One transaction: the account, the used invitation and the log entry.
    """
    from ..auth.services import check_password_rules, find_user, hash_password

    invitation = open_invitation(token, now=now)
    check_password_rules(password)
    pen_name = _clean_text(pen_name, "pen_name", most=40)
    if find_user(invitation.email) is not None:
        raise InvitationInvalid()
    if invitation.role in UNIT_ROLES and invitation.unit is None:
        raise InvitationInvalid()
    user = User(
        email=invitation.email,
        password_hash=hash_password(password),
        pen_name=pen_name,
        role=invitation.role,
        unit=invitation.unit if invitation.role in UNIT_ROLES else None,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    invitation.accepted_at, invitation.user_id = now, user.id
    record_change(
        user,
        "invitation.accept",
        invitation.email,
        {"open": True},
        {
            "open": False,
            "role": user.role,
            "unit": invitation.unit.code if invitation.unit else None,
        },
        now=now,
    )
    from ..auth.services import _open_session  # the browser that accepted is signed in

    _open_session(user, session_key, user_agent=user_agent, ip=ip, now=now)
    db.session.commit()
    return user


def changes_about(actor: User, target: str, *, limit: int = 20) -> list:
    """The latest admin changes made to one target (an account's e-mail, a unit's code)."""
    from ..audit import changes_query

    require_admin(actor)
    return list(db.session.scalars(changes_query(target=target).limit(limit)))


# ---------------------------------------------------------------------------------------------
# Boards

BOARD_CODE = re.compile(r"^([0-9]{6})-[a-z0-9][a-z0-9-]{0,32}$")
HOLDER_MAX = 64


def boards_query(actor: User, *, region_code: str = "") -> Select:
    """Boards by region and code, optionally of one region."""
    require_admin(actor)
    query = select(Board).order_by(Board.region_code, Board.code)
    if region_code:
        query = query.where(Board.region_code == region_code.strip())
    return query


def get_board(actor: User, code: str) -> Board:
    """One board by code, or NotFound."""
    require_admin(actor)
    board = db.session.scalar(select(Board).where(Board.code == code))
    if board is None:
        raise NotFound(_("没有代码为 %(code)s 的留言板。", code=code))
    return board


def create_board(
    actor: User,
    *,
    code: str,
    region_code: str,
    post: str,
    title: str,
    office_code: str,
    holder_name: str = "",
    started_on: date | None = None,
    now: datetime,
) -> Board:
    """Open a leader post or a department board in a region, answered by an office unit; logged.

    A region has at most one board per leader post; department boards are as many as needed.
    """
    require_admin(actor)
    code = (code or "").strip().lower()
    found = BOARD_CODE.match(code)
    region = db.session.get(Region, (region_code or "").strip())
    if region is None:
        raise ValidationFailed(fields={"region": [_("没有这个行政区划代码。")]})
    if not found or found.group(1) != region.code:
        raise ValidationFailed(fields={"code": [_("代码须以行政区划代码开头，如 330100-wj。")]})
    if post not in {p.value for p in Post}:
        raise ValidationFailed(fields={"post": [_("请选择职务类别。")]})
    if db.session.scalar(select(Board.id).where(Board.code == code)) is not None:
        raise ValidationFailed(fields={"code": [_("这个代码已被使用。")]})
    if post != Post.DEPARTMENT and db.session.scalar(
        select(Board.id).where(Board.region_code == region.code, Board.post == post)
    ):
        raise ValidationFailed(fields={"post": [_("这个地区已有该职务的留言板。")]})
    office = db.session.scalar(select(Unit).where(Unit.code == (office_code or "").strip()))
    if office is None:
        raise ValidationFailed(fields={"office": [_("没有这个单位。")]})
    board = Board(
        code=code,
        region_code=region.code,
        post=post,
        title=_clean_text(title, "title", most=120),
        office_unit=office,
    )
    db.session.add(board)
    holder = _clean_text(holder_name, "holder_name", most=HOLDER_MAX, required=False)
    if holder:
        board.holder_name = holder
        db.session.add(BoardTerm(board=board, holder_name=holder, started_on=started_on))
    record_change(
        actor,
        "board.create",
        code,
        None,
        {"title": board.title, "post": post, "office": office.code, "holder": holder or None},
        now=now,
    )
    db.session.commit()
    return board


def change_holder(
    actor: User, board: Board, *, holder_name: str, started_on: date, now: datetime
) -> Board:
    """A new holder takes the post from `started_on` (the last one's term ends that day); an
    empty name leaves the post vacant. Messages stay with the post. Logged; one transaction."""
    require_admin(actor)
    holder = _clean_text(holder_name, "holder_name", most=HOLDER_MAX, required=False)
    if started_on is None:
        raise ValidationFailed(fields={"started_on": [_("请输入有效的日期。")]})
    current = next((t for t in board.terms if t.ended_on is None), None)
    if current is None and board.holder_name:
        # A holder recorded before terms were kept: their term starts unknown.
        current = BoardTerm(board=board, holder_name=board.holder_name, started_on=None)
        db.session.add(current)
    if current is not None and current.started_on and started_on <= current.started_on:
        raise ValidationFailed(
            fields={"started_on": [_("须晚于现任的任职开始日期（%(d)s）。", d=current.started_on)]}
        )
    if current is not None and holder == current.holder_name:
        raise ValidationFailed(fields={"holder_name": [_("这已是现任。")]})
    before = {"holder": board.holder_name}
    if current is not None:
        current.ended_on = started_on
    if holder:
        db.session.add(BoardTerm(board=board, holder_name=holder, started_on=started_on))
    board.holder_name = holder or None
    record_change(
        actor, "board.holder", board.code, before, {"holder": board.holder_name, "from": started_on},
        now=now,
    )  # fmt: skip
    db.session.commit()
    return board


# ---------------------------------------------------------------------------------------------
# Reason codes

REASON_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def reason_codes(actor: User) -> list[ReasonCode]:
    """Every reason code, in use (decision kind) and published order, the retired included."""
    require_admin(actor)
    return list(db.session.scalars(select(ReasonCode).order_by(ReasonCode.use, ReasonCode.sort)))


def get_reason_code(actor: User, code: str) -> ReasonCode:
    """One reason code, or NotFound."""
    require_admin(actor)
    reason = db.session.get(ReasonCode, code)
    if reason is None:
        raise NotFound()
    return reason


def _reason_snapshot(reason: ReasonCode) -> dict:
    return {
        "label": reason.label,
        "label_en": reason.label_en,
        "description": reason.description,
        "sort": reason.sort,
        "retired": reason.retired_at is not None,
    }


def _reason_fields(label: str, label_en: str, description: str, sort: int | None) -> dict:
    if sort is None or not 0 <= sort <= 9999:
        raise ValidationFailed(fields={"sort": [_("排序须在 0 到 9999 之间。")]})
    text = (description or "").strip()
    if len(text) > 500 or any(unicodedata.category(c) == "Cc" and c not in "\r\n" for c in text):
        raise ValidationFailed(fields={"description": [_("说明不超过 500 个字，不含控制字符。")]})
    return {
        "label": _clean_text(label, "label", most=120),
        "label_en": _clean_text(label_en, "label_en", most=160),
        "description": text,
        "sort": sort,
    }


def create_reason_code(
    actor: User,
    *,
    use: str,
    slug: str,
    label: str,
    label_en: str,
    description: str = "",
    sort: int | None = 0,
    now: datetime,
) -> ReasonCode:
    """Publish a new reason for one kind of decision (code `use:slug`; rejections: `slug`)."""
    require_admin(actor)
    if use not in {u.value for u in ReasonUse}:
        raise ValidationFailed(fields={"use": [_("请选择用途。")]})
    slug = (slug or "").strip().lower()
    if not REASON_SLUG.match(slug):
        raise ValidationFailed(fields={"slug": [_("代码为 2 到 31 个小写字母、数字或下划线。")]})
    code = slug if use == ReasonUse.REJECT else f"{use}:{slug}"
    if db.session.get(ReasonCode, code) is not None:
        raise ValidationFailed(fields={"slug": [_("这个代码已被使用。")]})
    reason = ReasonCode(code=code, use=use, **_reason_fields(label, label_en, description, sort))
    db.session.add(reason)
    record_change(actor, "reason_code.create", code, None, _reason_snapshot(reason), now=now)
    db.session.commit()
    return reason


def update_reason_code(
    actor: User,
    code: str,
    *,
    label: str,
    label_en: str,
    description: str = "",
    sort: int | None = 0,
    now: datetime,
) -> ReasonCode:
    """Reword a reason or change its place in the list; the code and its use never change."""
    reason = get_reason_code(actor, code)
    values = _reason_fields(label, label_en, description, sort)
    before = _reason_snapshot(reason)
    for key, value in values.items():
        setattr(reason, key, value)
    record_change(actor, "reason_code.update", code, before, _reason_snapshot(reason), now=now)
    db.session.commit()
    return reason


def set_reason_retired(actor: User, code: str, *, retired: bool, now: datetime) -> ReasonCode:
    """Stop offering a reason (or offer it again). Codes are never deleted: decisions that gave
    one keep showing its label."""
    reason = get_reason_code(actor, code)
    if (reason.retired_at is not None) == retired:
        return reason
    before = _reason_snapshot(reason)
    reason.retired_at = now if retired else None
    record_change(
        actor,
        "reason_code.retire" if retired else "reason_code.restore",
        code,
        before,
        _reason_snapshot(reason),
        now=now,
    )
    db.session.commit()
    return reason


# ---------------------------------------------------------------------------------------------
# Regions

REGION_NAME_MAX = 64


def regions_query(actor: User, *, q: str = "") -> Select:
    """Regions by code; `q` matches a code's start or part of a name."""
    require_admin(actor)
    query = select(Region).order_by(Region.code)
    q = (q or "").strip()[:SEARCH_MAX]
    if q:
        query = query.where(
            Region.code.startswith(q, autoescape=True)
            | Region.full_name.contains(q, autoescape=True)
        )
    return query


def get_region(actor: User, code: str) -> Region:
    """One region by code, or NotFound."""
    require_admin(actor)
    region = db.session.get(Region, (code or "").strip())
    if region is None:
        raise NotFound(_("没有这个行政区划代码。"))
    return region


def _renamed(text: str, old: str, new: str) -> str:
    return new + text[len(old) :] if text.startswith(old) else text


def rename_region(
    actor: User, code: str, *, name: str, changed_on: date | None, now: datetime
) -> Region:
    """Rename a region after a GB/T 2260 change (the code stays): its full name and those of the
    regions below it, its leader boards and their offices follow; the old name is kept as
    history; messages there are re-indexed. Logged; one transaction."""
    region = get_region(actor, code)
    name = _clean_text(name, "name", most=REGION_NAME_MAX)
    if changed_on is None:
        raise ValidationFailed(fields={"changed_on": [_("请输入有效的日期。")]})
    old_name, old_full = region.name, region.full_name
    if name == old_name:
        raise ValidationFailed(fields={"name": [_("新名称与现名称相同。")]})
    new_full = (
        _renamed(old_full, old_name, name)
        if not region.parent
        else (region.parent.full_name + name)
    )
    subtree = list(
        db.session.scalars(
            select(Region).where(
                (Region.code == region.code) | Region.path.startswith(region.path + "/")
            )
        )
    )
    for place in subtree:
        place.full_name = _renamed(place.full_name, old_full, new_full)
    region.name = name
    for board in region.boards:
        if board.post != Post.DEPARTMENT:
            board.title = _renamed(board.title, old_name, name)
            board.office_unit.name = _renamed(board.office_unit.name, old_name, name)
    db.session.add(
        RegionName(region_code=region.code, old_name=old_name, new_name=name, changed_on=changed_on)
    )
    # Search results show the region's full name: re-index the messages of the whole subtree.
    db.session.execute(
        insert(SearchOutbox).from_select(
            ["message_id", "created_at"],
            select(Message.id, literal(now, DateTime)).where(
                Message.region_code.in_([place.code for place in subtree])
            ),
        )
    )
    record_change(
        actor,
        "region.rename",
        region.code,
        {"name": old_name, "full_name": old_full},
        {"name": name, "full_name": new_full, "changed_on": changed_on},
        now=now,
    )
    db.session.commit()
    search_outbox.apply_after_commit()
    return region
