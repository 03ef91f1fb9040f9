"""Admin pages: deadline policies, the holiday calendar (month view, import), the mail outbox."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth import services as auth_services
from ..auth.views import start_session
from ..clock import local_date, utcnow
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import ROLE_LABELS, Role
from ..notify import services as notify
from ..notify.models import MailState
from ..privacy import mask_text, truncate_ip
from . import regions_merge, services
from .forms import (
    AcceptInvitationForm,
    ActionForm,
    BoardForm,
    DayForm,
    HolderForm,
    ImportForm,
    InviteForm,
    MoveStaffForm,
    PolicyForm,
    ReasonCodeForm,
    RegionMergeForm,
    RegionRenameForm,
    RoleForm,
    UnitForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
invite_bp = Blueprint("invite", __name__)


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


@bp.app_template_global()
def role_label(role: str) -> str:
    """A role's label in the page's language."""
    return str(ROLE_LABELS.get(role, role))


@bp.app_template_global()
def masked_email(email: str) -> str:
    """A citizen's e-mail as admin lists show it (c***@example.org): enough to tell accounts
    apart, not to copy the address. Searching by the full address still finds it."""
    return mask_text(email)


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
                now=utcnow(),
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
    """Every unit with its region, parent and published contact phone."""
    return render_template("admin/units.html", units=services.units(current_user))


def _unit_values(form: UnitForm) -> dict:
    return {
        "name": form.name.data or "",
        "region_code": form.region.data or "",
        "parent_code": form.parent.data or "",
        "email": form.email.data or "",
        "contact_phone_text": form.contact_phone.data or "",
    }


@bp.route("/units/new", methods=["GET", "POST"])
@login_required
def new_unit() -> ResponseReturnValue:
    """Add a unit."""
    services.require_admin(current_user)
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = services.create_unit(
                current_user, code=form.code.data or "", now=utcnow(), **_unit_values(form)
            )
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(_("单位“%(name)s”已添加。", name=unit.name), "success")
            return redirect(url_for("admin.edit_unit", code=unit.code))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/unit_edit.html", unit=None, form=form), status


@bp.route("/units/<code>", methods=["GET", "POST"])
@login_required
def edit_unit(code: str) -> ResponseReturnValue:
    """Change a unit's name, region, parent, e-mail and published phone; list and move its staff."""
    unit = services.get_unit(current_user, code)
    form = UnitForm(
        data={
            "name": unit.name,
            "region": unit.region_code,
            "parent": unit.parent.code if unit.parent else "",
            "email": unit.email or "",
            "contact_phone": unit.contact_phone or "",
        }
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            services.update_unit(current_user, code, now=utcnow(), **_unit_values(form))
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(_("“%(name)s”已保存。", name=unit.name), "success")
            return redirect(url_for("admin.units"))
    status = 422 if request.method == "POST" else 200
    if status == 422:
        db.session.rollback()
    return (
        render_template(
            "admin/unit_edit.html",
            unit=unit,
            form=form,
            staff=services.unit_staff(current_user, unit),
            move_form=MoveStaffForm(formdata=None),
        ),
        status,
    )


@bp.post("/units/<code>/staff/<int:user_id>")
@login_required
def move_staff(code: str, user_id: int) -> ResponseReturnValue:
    """Move a handler or coordinator of this unit to another unit."""
    unit = services.get_unit(current_user, code)
    user = services.get_user(current_user, user_id)
    if user.unit_id != unit.id:
        raise NotFound()
    form = MoveStaffForm()
    if not form.validate_on_submit():
        flash(_("请填写要调往的单位代码。"), "error")
        return redirect(url_for("admin.edit_unit", code=unit.code))
    try:
        services.move_staff(current_user, user, form.unit.data, now=utcnow())
    except ValidationFailed as error:
        for messages in error.fields.values():
            for message in messages:
                flash(message, "error")
    else:
        flash(_("%(email)s 已调往 %(unit)s。", email=user.email, unit=user.unit.name), "success")
    return redirect(url_for("admin.edit_unit", code=unit.code))


# ---------------------------------------------------------------------------------------------
# Accounts


@bp.get("/users")
@login_required
def users() -> ResponseReturnValue:
    """Accounts, searchable by e-mail or pen name, with open invitations and the invite form."""
    q = request.args.get("q", "")[: services.SEARCH_MAX]
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    pagination = db.paginate(
        services.users_query(current_user, q=q, role=role, status=status),
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "admin/users.html",
        pagination=pagination,
        q=q,
        role=role,
        status=status,
        roles=list(Role),
        invitations=services.invitations(current_user, now=utcnow()),
        invite_form=InviteForm(formdata=None),
        form=ActionForm(),
    )


@bp.post("/users/invite")
@login_required
def invite() -> ResponseReturnValue:
    """Invite a staff member: a mail with a single-use link valid for seven days."""
    services.require_admin(current_user)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation, _token = services.invite_staff(
                current_user,
                email=form.email.data,
                role=form.role.data,
                unit_code=form.unit.data or "",
                now=utcnow(),
            )
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(_("邀请已发往 %(email)s，链接 7 天内有效。", email=invitation.email), "success")
            return redirect(url_for("admin.users"))
    db.session.rollback()
    return (
        render_template(
            "admin/invite.html",
            invite_form=form,
        ),
        422,
    )


@bp.post("/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    """Withdraw an open invitation; its link stops working."""
    services.require_admin(current_user)
    if ActionForm().validate_on_submit():
        services.revoke_invitation(current_user, invitation_id, now=utcnow())
        flash(_("邀请已撤回。"), "success")
    else:
        flash(_("请求已过期，请重试。"), "error")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user(user_id: int) -> ResponseReturnValue:
    """One account: change its role and unit, disable or enable it, sign it out everywhere."""
    account = services.get_user(current_user, user_id)
    form = RoleForm(
        data={"role": account.role, "unit": account.unit.code if account.unit else ""}
        if request.method == "GET"
        else None
    )
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.change_role(
                    current_user,
                    account,
                    role=form.role.data,
                    unit_code=form.unit.data or "",
                    now=utcnow(),
                )
            except ValidationFailed as error:
                _attach(form, error)
            else:
                flash(_("%(email)s 的角色已保存。", email=account.email), "success")
                return redirect(url_for("admin.user", user_id=account.id))
        db.session.rollback()
        status = 422
    return (
        render_template(
            "admin/user.html",
            account=account,
            form=form,
            action_form=ActionForm(),
            changes=services.changes_about(current_user, account.email),
        ),
        status,
    )


@bp.post("/users/<int:user_id>/<any(disable, enable, 'sign-out'):action>")
@login_required
def user_action(user_id: int, action: str) -> ResponseReturnValue:
    """Disable, enable or sign out everywhere one account."""
    account = services.get_user(current_user, user_id)
    if not ActionForm().validate_on_submit():
        flash(_("请求已过期，请重试。"), "error")
        return redirect(url_for("admin.user", user_id=account.id))
    try:
        if action == "sign-out":
            services.sign_out_everywhere(current_user, account, now=utcnow())
            flash(_("%(email)s 的所有会话已结束。", email=account.email), "success")
        else:
            services.set_active(current_user, account, active=action == "enable", now=utcnow())
            flash(
                _("%(email)s 已启用。", email=account.email)
                if action == "enable"
                else _("%(email)s 已停用，所有会话已结束。", email=account.email),
                "success",
            )
    except ValidationFailed as error:
        for messages in error.fields.values():
            for message in messages:
                flash(message, "error")
    return redirect(url_for("admin.user", user_id=account.id))


# ---------------------------------------------------------------------------------------------
# Boards


@bp.get("/boards")
@login_required
def boards() -> ResponseReturnValue:
    """Boards (of one region if asked), with the form to open a new one."""
    region = request.args.get("region", "").strip()[:6]
    pagination = db.paginate(
        services.boards_query(current_user, region_code=region),
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "admin/boards.html", pagination=pagination, region=region, form=BoardForm(formdata=None)
    )


@bp.post("/boards")
@login_required
def new_board() -> ResponseReturnValue:
    """Open a leader post or a department board with its office unit."""
    services.require_admin(current_user)
    form = BoardForm()
    if form.validate_on_submit():
        try:
            board = services.create_board(
                current_user,
                code=form.code.data,
                region_code=form.region.data,
                post=form.post.data,
                title=form.title.data,
                office_code=form.office.data,
                holder_name=form.holder_name.data or "",
                started_on=form.started_on.data,
                now=utcnow(),
            )
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(_("留言板“%(title)s”已开通。", title=board.title), "success")
            return redirect(url_for("admin.board", code=board.code))
    db.session.rollback()
    return render_template("admin/board_new.html", form=form), 422


@bp.route("/boards/<code>", methods=["GET", "POST"])
@login_required
def board(code: str) -> ResponseReturnValue:
    """One board: its holders past and present, and the form to record a new holder."""
    board = services.get_board(current_user, code)
    form = HolderForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.change_holder(
                    current_user,
                    board,
                    holder_name=form.holder_name.data or "",
                    started_on=form.started_on.data,
                    now=utcnow(),
                )
            except ValidationFailed as error:
                _attach(form, error)
            else:
                flash(_("“%(title)s”的任职记录已保存。", title=board.label), "success")
                return redirect(url_for("admin.board", code=board.code))
        db.session.rollback()
        status = 422
    return render_template("admin/board.html", board=board, form=form), status


# ---------------------------------------------------------------------------------------------
# Reason codes


def _reason_values(form: ReasonCodeForm) -> dict:
    return {
        "label": form.label.data or "",
        "label_en": form.label_en.data or "",
        "description": form.description.data or "",
        "sort": form.sort.data,
    }


@bp.route("/reason-codes", methods=["GET", "POST"])
@login_required
def reason_codes() -> ResponseReturnValue:
    """The published reasons by use, the retired marked, with the form to add one."""
    services.require_admin(current_user)
    form = ReasonCodeForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                reason = services.create_reason_code(
                    current_user,
                    use=form.use.data,
                    slug=form.slug.data or "",
                    now=utcnow(),
                    **_reason_values(form),
                )
            except ValidationFailed as error:
                _attach(form, error)
            else:
                flash(_("理由“%(label)s”已发布。", label=reason.label), "success")
                return redirect(url_for("admin.reason_codes"))
        db.session.rollback()
        status = 422
    return (
        render_template(
            "admin/reason_codes.html",
            reasons=services.reason_codes(current_user),
            form=form,
            action_form=ActionForm(),
        ),
        status,
    )


@bp.route("/reason-codes/<path:code>", methods=["GET", "POST"])
@login_required
def edit_reason_code(code: str) -> ResponseReturnValue:
    """Reword a reason or move it in the list."""
    reason = services.get_reason_code(current_user, code)
    form = ReasonCodeForm(obj=reason if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.update_reason_code(current_user, code, now=utcnow(), **_reason_values(form))
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(_("理由“%(label)s”已保存。", label=reason.label), "success")
            return redirect(url_for("admin.reason_codes"))
    status = 422 if request.method == "POST" else 200
    if status == 422:
        db.session.rollback()
    return render_template("admin/reason_code_edit.html", reason=reason, form=form), status


@bp.post("/reason-codes/<path:code>/<any(retire, restore):change>")
@login_required
def retire_reason_code(code: str, change: str) -> ResponseReturnValue:
    """Stop offering a reason, or offer it again (codes are never deleted)."""
    reason = services.get_reason_code(current_user, code)
    if ActionForm().validate_on_submit():
        services.set_reason_retired(current_user, code, retired=change == "retire", now=utcnow())
        flash(
            _("理由“%(label)s”已停用。", label=reason.label)
            if change == "retire"
            else _("理由“%(label)s”已恢复使用。", label=reason.label),
            "success",
        )
    else:
        flash(_("请求已过期，请重试。"), "error")
    return redirect(url_for("admin.reason_codes"))


# ---------------------------------------------------------------------------------------------
# Regions


@bp.get("/regions")
@login_required
def regions() -> ResponseReturnValue:
    """Regions, searchable by code or name."""
    q = request.args.get("q", "")[: services.SEARCH_MAX]
    pagination = db.paginate(
        services.regions_query(current_user, q=q),
        page=max(request.args.get("page", 1, type=int) or 1, 1),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template("admin/regions.html", pagination=pagination, q=q)


@bp.route("/regions/<code>", methods=["GET", "POST"])
@login_required
def region(code: str) -> ResponseReturnValue:
    """Rename a region after a GB/T 2260 change; its earlier names stay listed."""
    region = services.get_region(current_user, code)
    form = RegionRenameForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.rename_region(
                    current_user,
                    code,
                    name=form.name.data,
                    changed_on=form.changed_on.data,
                    now=utcnow(),
                )
            except ValidationFailed as error:
                _attach(form, error)
            else:
                flash(_("行政区划已改名为“%(name)s”。", name=region.name), "success")
                return redirect(url_for("admin.region", code=region.code))
        db.session.rollback()
        status = 422
    return _region_page(region, form=form, status=status)


def _region_page(region, *, status: int = 200, **forms) -> ResponseReturnValue:
    """The region's admin page with its rename and merge forms."""
    forms.setdefault("form", RegionRenameForm(formdata=None))
    forms.setdefault("merge_form", RegionMergeForm(formdata=None))
    return render_template("admin/region.html", region=region, **forms), status


@bp.post("/regions/<code>/merge")
@login_required
def merge_region(code: str) -> ResponseReturnValue:
    """Retire this region into another after a GB/T 2260 merge (board/admin/regions_merge.py)."""
    region = services.get_region(current_user, code)
    form = RegionMergeForm()
    if form.validate_on_submit():
        try:
            survivor = regions_merge.merge_region(
                current_user, code, into=form.into.data, merged_on=form.merged_on.data,
                now=utcnow(),
            )  # fmt: skip
        except ValidationFailed as error:
            _attach(form, error)
        else:
            flash(_("%(old)s 已并入 %(new)s。", old=code, new=survivor.full_name), "success")
            return redirect(url_for("admin.region", code=survivor.code))
    db.session.rollback()
    return _region_page(region, merge_form=form, status=422)


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
        services.retry_mail(current_user, mail_id, now=utcnow())
        flash(_("邮件已重新排队，将在下次发送时投递。"), "success")
    else:
        services.require_admin(current_user)
        flash(_("请求已过期，请重试。"), "error")
    return redirect(url_for("admin.outbox"))


# ---------------------------------------------------------------------------------------------
# The invitee's page (no account yet: the link's token is the credential)


@invite_bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str) -> ResponseReturnValue:
    """Set a password for the invited staff account, then sign in."""
    invitation = services.open_invitation(token, now=utcnow())
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            key = auth_services.new_session_key()
            user = services.accept_invitation(
                token,
                password=form.password.data,
                pen_name=form.pen_name.data,
                now=utcnow(),
                session_key=key,
                user_agent=(request.headers.get("User-Agent") or "")[:200],
                ip=truncate_ip(request.remote_addr),
            )
        except ValidationFailed as error:
            db.session.rollback()
            _attach(form, error)
        else:
            start_session(user, key)
            flash(_("欢迎！账户已开通，您已登录。"), "success")
            return redirect(url_for("directory.home"))
    status = 422 if request.method == "POST" else 200
    response = render_template("admin/accept_invitation.html", invitation=invitation, form=form)
    return response, status, {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
