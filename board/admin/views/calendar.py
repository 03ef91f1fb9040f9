"""The holiday calendar: loaded years and the import form, a month, a day changed."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ...clock import local_date, utcnow
from ...errors import ValidationFailed, attach_errors, flash_errors
from .. import services
from ..forms import ActionForm, DayForm, ImportForm
from . import bp


@bp.get("/calendar")
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
def import_year() -> ResponseReturnValue:
    """Load a year from the package or an uploaded CSV; open clocks are recomputed."""
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
            attach_errors(form, error)
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
def set_day() -> ResponseReturnValue:
    """Toggle a day; clocks running over it get a new due date and an event saying so."""
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
        flash_errors(error)
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
