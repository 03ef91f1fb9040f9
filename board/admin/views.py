"""Admin pages: deadline policies, the holiday calendar (month view, import), the mail outbox."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..clock import local_date, utcnow
from ..errors import ValidationFailed
from ..extensions import db
from ..notify import services as notify
from ..notify.models import MailState
from . import services
from .forms import ActionForm, DayForm, ImportForm, PolicyForm, UnitContactForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _attach(form, error: ValidationFailed) -> None:
    """Show a service's field errors next to the form's fields."""
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + list(messages)
        else:
            for message in messages:
                flash(message, "error")


@bp.app_template_global()
def missing_schedules() -> list[services.MissingYear]:
    """The admin pages' banner: official holiday schedules that are due and not imported."""
    return services.missing_years(current_user, now=utcnow())


# ---------------------------------------------------------------------------------------------
# Policies


@bp.get("/deadlines")
@login_required
def policies() -> ResponseReturnValue:
    """Every deadline policy with its length."""
    return render_template("admin/policies.html", policies=services.policies(current_user))


@bp.route("/deadlines/<name>", methods=["GET", "POST"])
@login_required
def edit_policy(name: str) -> ResponseReturnValue:
    """Change a policy; running clocks keep the length they started with."""
    policy = services.get_policy(current_user, name)
    form = PolicyForm(
        data={"label": policy.label, "days": policy.days, "unit": str(policy.unit)}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            services.update_policy(
                current_user,
                name,
                days=form.days.data,
                unit=form.unit.data,
                label=form.label.data,
            )
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(
                _("期限“%(label)s”已保存；新开始的期限按新设置计算。", label=form.label.data),
                "success",
            )
            return redirect(url_for("admin.policies"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/policy_edit.html", policy=policy, form=form), status


# ---------------------------------------------------------------------------------------------
# The calendar


@bp.get("/calendar")
@login_required
def calendar() -> ResponseReturnValue:
    """Loaded years, a warning for missing ones, links to months, and the import form."""
    now = utcnow()
    years = services.calendar_years(current_user)
    form = ImportForm(data={"year": local_date(now).year + 1, "source": "package"})
    return render_template(
        "admin/calendar.html",
        years=years,
        package_years=services.package_years_available(),
        form=form,
        today=local_date(now),
    )


@bp.post("/calendar/import")
@login_required
def import_year() -> ResponseReturnValue:
    """Load a year from the package or an uploaded CSV; open clocks are recomputed."""
    services.require_admin(current_user)
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data if form.source.data == "file" else None
        try:
            if form.source.data == "file" and not upload:
                raise ValidationFailed(fields={"file": [_("请选择要上传的 CSV 文件。")]})
            data = upload.read(2 * 1024 * 1024 + 1) if upload else None
            if data is not None and len(data) > 2 * 1024 * 1024:
                raise ValidationFailed(fields={"file": [_("文件不能超过 2 MB。")]})
            stored, changed = services.import_year(
                current_user, form.year.data, csv_bytes=data, now=utcnow()
            )
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(
                _(
                    "%(year)d 年的日历已导入：%(days)d 个特殊日期，%(clocks)d 个进行中的期限已重新计算。",
                    year=form.year.data,
                    days=stored,
                    clocks=changed,
                ),
                "success",
            )
            return redirect(url_for("admin.calendar"))
    now = utcnow()
    return (
        render_template(
            "admin/calendar.html",
            years=services.calendar_years(current_user),
            package_years=services.package_years_available(),
            form=form,
            today=local_date(now),
        ),
        422,
    )


@bp.get("/calendar/<int:year>/<int:month>")
@login_required
def month(year: int, month: int) -> ResponseReturnValue:
    """A month: every day working or not, with a form to change it."""
    weeks, loaded = services.month_view(current_user, year, month)
    prev_year, prev_month = (year, month - 1) if month > 1 else (year - 1, 12)
    next_year, next_month = (year, month + 1) if month < 12 else (year + 1, 1)
    return render_template(
        "admin/calendar_month.html",
        weeks=weeks,
        year=year,
        month=month,
        loaded=loaded,
        prev=(prev_year, prev_month),
        next=(next_year, next_month),
        form=ActionForm(),
    )


@bp.post("/calendar/day")
@login_required
def set_day() -> ResponseReturnValue:
    """Toggle a day; clocks running over it get a new due date and an event saying so."""
    services.require_admin(current_user)
    form = DayForm()
    if not form.validate_on_submit():
        for field in form:
            for message in field.errors:
                flash(f"{field.label.text}：{message}", "error")
        day = form.day.data or date.today()
        return redirect(url_for("admin.month", year=day.year, month=day.month))
    day: date = form.day.data
    try:
        changed = services.set_day(
            current_user,
            day,
            is_workday=form.is_workday.data == "1",
            note=form.note.data or "",
            now=utcnow(),
        )
    except ValidationFailed as error:
        for messages in error.fields.values():
            for message in messages:
                flash(message, "error")
    else:
        kind = _("工作日") if form.is_workday.data == "1" else _("休息日")
        flash(
            _(
                "%(day)s 已设为%(kind)s；%(clocks)d 个进行中的期限已重新计算。",
                day=day.isoformat(),
                kind=kind,
                clocks=changed,
            ),
            "success",
        )
    return redirect(url_for("admin.month", year=day.year, month=day.month))


# ---------------------------------------------------------------------------------------------
# Units


@bp.get("/units")
@login_required
def units() -> ResponseReturnValue:
    """Every unit with its published contact phone."""
    return render_template("admin/units.html", units=services.units(current_user))


@bp.route("/units/<code>", methods=["GET", "POST"])
@login_required
def edit_unit(code: str) -> ResponseReturnValue:
    """Change a unit's published contact phone (shown on its page, never masked)."""
    unit = services.get_unit(current_user, code)
    form = UnitContactForm(
        data={"contact_phone": unit.contact_phone or ""} if request.method == "GET" else None
    )
    if form.validate_on_submit():
        try:
            services.update_unit_contact(current_user, code, contact_phone=form.contact_phone.data)
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(_("“%(name)s”的对外联系电话已保存。", name=unit.name), "success")
            return redirect(url_for("admin.units"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/unit_edit.html", unit=unit, form=form), status


# ---------------------------------------------------------------------------------------------
# The mail outbox


@bp.get("/mail")
@login_required
def outbox() -> ResponseReturnValue:
    """Mails not yet delivered (or a chosen state), with a retry button for each."""
    state = request.args.get("state", "")
    state = state if state in {s.value for s in MailState} else ""
    pagination = db.paginate(
        notify.outbox_query(current_user, state=state),
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "admin/outbox.html",
        pagination=pagination,
        counts=notify.outbox_counts(current_user),
        state=state,
        states=[s.value for s in MailState],
        form=ActionForm(),
        mail_to_files=not current_app.config.get("MAIL_URL"),
    )


@bp.post("/mail/<int:mail_id>/retry")
@login_required
def retry(mail_id: int) -> ResponseReturnValue:
    """Queue a mail again for the next `flask deadlines tick`."""
    form = ActionForm()
    if form.validate_on_submit():
        notify.retry_mail(current_user, mail_id, now=utcnow())
        flash(_("邮件已重新排队，将在下次发送时投递。"), "success")
    else:
        services.require_admin(current_user)
        flash(_("请求已过期，请重试。"), "error")
    return redirect(url_for("admin.outbox"))
