"""The citizen's side of a message: write (with preview), my messages, the message page, actions."""

from __future__ import annotations

import uuid

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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from .. import workflow
from ..attachments import services as attachments
from ..auth.forms import apply_service_errors
from ..calendar import services as clocks
from ..clock import utcnow
from ..directory.services import (
    ancestors,
    current_region,
    get_board,
    get_region,
    provinces,
    successor_board,
)
from ..errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..intel.services import suggested_topic
from ..intel.taxonomy import compose_topic_choices
from ..models import (
    DOMAIN_LABELS,
    KIND_LABELS,
    Board,
    Clock,
    Cosign,
    Kind,
    Message,
    ReasonCode,
    Region,
    Role,
    State,
    Track,
    User,
    Visibility,
)
from ..paging import paginate
from ..privacy import (
    mask_pen_name,
    mask_text,
    public_text,
    published_contacts,
    secrets_of,
    truncate_ip,
)
from ..retry import mark_idempotent
from ..security import limit_cosigning, limit_posting
from ..workflow import Action
from . import services
from .forms import ComposeForm, FollowUpForm, RateForm, ReviewRequestForm, WithdrawForm
from .stepping import one_click, take_step
from .viewing import record_view

bp = Blueprint("messages", __name__)

BOARD_SEARCH_LIMIT = 30


def _me() -> User:
    """The signed-in user as a model instance (not the proxy)."""
    return current_user._get_current_object()


def _viewer() -> User | None:
    """The signed-in user, or None for a visitor."""
    return _me() if current_user.is_authenticated else None


def _find(code: str) -> Message | None:
    """The message with this tracking code, if any."""
    return db.session.scalar(select(Message).where(Message.code == code.strip().upper()))


def _not_found(code: str) -> NotFound:
    """The one answer for "no such message" and "not yours to see": they must look the same."""
    return NotFound(_("没有编号为 %(code)s 的留言。", code=code))


def _viewable(code: str) -> Message:
    """The message if the current user may read it, else NotFound."""
    message = _find(code)
    if message is None or not services.can_view(_viewer(), message):
        raise _not_found(code)
    return message


def reason_labels(codes: set[str | None]) -> dict[str, str]:
    """Labels of reason codes in the current language."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    english = str(get_locale() or "").startswith("en")
    rows = db.session.scalars(select(ReasonCode).where(ReasonCode.code.in_(codes)))
    return {r.code: (r.label_en if english else r.label) for r in rows}


def _staff_tools(message: Message) -> list[tuple[str, str]]:
    """Links to the staff pages for this message, for the roles that use them."""
    if not current_user.is_authenticated or not current_user.is_staff:
        return []
    tools = []
    endpoints = current_app.view_functions
    if current_user.role in (Role.MODERATOR, Role.ADMIN) and "moderation.review" in endpoints:
        tools.append((_("审核处理"), url_for("moderation.review", code=message.code)))
    if (
        current_user.role in (Role.COORDINATOR, Role.HANDLER, Role.ADMIN)
        and "desk.message" in endpoints
    ):
        tools.append((_("办理台"), url_for("desk.message", code=message.code)))
    return tools


# ---------------------------------------------------------------------------------------------
# Writing


def _board_chooser() -> ResponseReturnValue:
    """Pick a board by drilling down from a province, or by searching names (no JS needed)."""
    region_code = request.args.get("region", "").strip()
    q = request.args.get("q", "").strip()
    region = get_region(region_code) if region_code else None
    if region is not None and region.merged_into_code:  # a retired code: its boards are history
        current = current_region(region)
        if current.code != region.code:
            return redirect(url_for("messages.write", region=current.code, q=q or None))
    found: list[Board] = []
    if q:
        found = list(
            db.session.scalars(
                select(Board)
                .join(Region, Board.region_code == Region.code)
                .where(Region.merged_into_code.is_(None))  # a merged region's boards are history
                .where(
                    or_(
                        Board.title.contains(q, autoescape=True),
                        Region.full_name.contains(q, autoescape=True),
                    )
                )
                .options(selectinload(Board.region))
                .order_by(Region.path, Board.id)
                .limit(BOARD_SEARCH_LIMIT)
            )
        )
    return render_template(
        "messages/choose_board.html",
        provinces=provinces(),
        region=region,
        trail=ancestors(region) if region else [],
        q=q,
        found=found,
        search_limit=BOARD_SEARCH_LIMIT,
    )


def _region_choices(board: Board) -> list[SelectChoice]:
    """The board's region and every region below it, as select options."""
    path = board.region.path
    regions = db.session.scalars(
        select(Region)
        .where(or_(Region.path == path, Region.path.like(path + "/%")))
        .order_by(Region.path)
    )
    return [SelectChoice(r.code, r.full_label) for r in regions]


def _similar_public(title: str, body: str) -> list[dict]:
    """Public messages like the draft (likely duplicates), masked; none if the index fails."""
    from ..search.query import similar_to_text

    try:
        found = similar_to_text(title, body, limit=5)
    except Exception:  # the preview never fails because of the search index
        current_app.logger.exception("search: similar messages for the preview failed")
        return []
    return [
        {"code": m.code, "title": public_text(m, m.title), "state": m.public_state_label}
        for m in found
    ]


def _preview(form: ComposeForm, region: Region) -> dict:
    """What the public would see of the filled form: private values and numbers masked."""
    me = _me()
    secrets = secrets_of(
        form.private_note.data,
        form.real_name.data,
        form.phone.data,
        form.address.data,
        me.real_name,
        me.phone,
        me.address,
    )
    published = published_contacts()
    title = mask_text(form.title.data, secrets, published)
    body = mask_text(form.body.data, secrets, published)
    return {
        "title": title,
        "body": body,
        "similar": _similar_public(title, body),
        "pen_name": mask_pen_name(me.pen_name),
        "kind_label": KIND_LABELS[Kind(form.kind.data)],
        "domain_label": DOMAIN_LABELS[form.domain.data],
        "region": region.full_label,
        "is_public": form.chosen_public() and form.kind.data != Kind.REPORT,
    }


def prefill_topic(form: ComposeForm) -> bool:
    """On the preview, a citizen who chose no topic finds the suggested one selected (they may
    change it or clear it); True when it was pre-selected."""
    if form.topic.data:
        return False
    topic = suggested_topic(form.title.data, form.body.data)
    if topic is None:
        return False
    form.topic.data = str(topic.id)
    return True


def _retired_notice(board: Board, successor: Board | None) -> str:
    """Why a board of a merged region takes no messages, and where to write instead."""
    if successor is not None:
        return _(
            "%(region)s已并入%(into)s，“%(board)s”不再接收留言，请写给“%(successor)s”。",
            region=board.region.full_label,
            into=successor.region.full_label,
            board=board.label,
            successor=successor.label,
        )
    return _(
        "%(region)s已并入其他区划，“%(board)s”不再接收留言，请另选留言对象。",
        region=board.region.full_label,
        board=board.label,
    )


def _write_to_retired(board: Board) -> ResponseReturnValue:
    """A board whose region was merged away takes no messages. A GET goes to the board that
    succeeded it (or to the board chooser where the region lives now), saying why; a POSTed
    draft is shown again, addressed to the successor when there is one, so nothing typed is
    lost."""
    successor = successor_board(board)
    notice = _retired_notice(board, successor)
    now_at = current_region(board.region)
    moved = now_at.code != board.region_code
    chooser = url_for("messages.write", region=now_at.code if moved else None)
    if request.method == "GET":
        flash(notice, "warning")
        if successor is None:
            return redirect(chooser)
        args = {k: v for k, v in request.args.items() if k not in ("board", "region")}
        region = db.session.get(Region, request.args.get("region", "").strip()[:6])
        if region is not None:
            args["region"] = current_region(region).code
        return redirect(url_for("messages.write", board=successor.code, **args))
    target = successor or board
    form = ComposeForm()
    form.region.choices = _region_choices(target)
    form.topic.choices = compose_topic_choices()
    if not form.submission_key.data:
        form.submission_key.data = uuid.uuid4().hex
    region = db.session.get(Region, (form.region.data or "")[:6])
    if successor is not None and region is not None:
        form.region.data = current_region(region).code
    return _write_page(target, form, None, 409, retired_notice=notice, retired_chooser=chooser)


@bp.route("/write", methods=["GET", "POST"])
@login_required
@limit_posting
def write() -> ResponseReturnValue:
    """Compose a message to a board: preview it as the public will see it, then submit."""
    board_code = request.args.get("board", "").strip()
    if not board_code:
        return _board_chooser()
    board = get_board(board_code)
    if board.region.merged_into_code:  # its region was merged away: the board is history
        return _write_to_retired(board)
    me = _me()
    form = ComposeForm()
    form.region.choices = _region_choices(board)
    form.topic.choices = compose_topic_choices()
    if not form.submission_key.data:
        form.submission_key.data = uuid.uuid4().hex
    if request.method == "GET":
        form.region.data = request.args.get("region") or board.region_code
        form.real_name.data = me.real_name or ""
        form.phone.data = me.phone or ""
        form.address.data = me.address or ""
    preview = None
    if form.validate_on_submit():
        region = db.session.get(Region, form.region.data)
        if region is None:
            form.region.errors.append(_("请选择问题发生地。"))
        elif form.preview.data:
            if not board.region.contains(region):
                form.region.errors.append(
                    _("问题发生地必须在“%(board)s”的辖区内。", board=board.label)
                )
            else:
                preview = _preview(form, region)
                preview["topic_prefilled"] = prefill_topic(form)
        else:
            mark_idempotent()
            now = utcnow()
            try:
                uploads = attachments.prepare_all(attachments.read_uploads(form.attachments.data))
                message = services.submit_message(
                    me,
                    board=board,
                    region=region,
                    **form.submission(),
                    now=now,
                    ip=truncate_ip(request.remote_addr),
                    idempotency_key=form.submission_key.data,
                    attachments=uploads,
                    attachments_public=bool(form.attachments_public.data),
                    topic_id=form.topic.data or None,
                )
            except services.SubmissionKeyReused:
                # Filed once already, with other text: a new key lets a second click file this.
                form.submission_key.data = uuid.uuid4().hex
                form.form_errors.append(
                    _(
                        "这张表单已经提交过一条内容不同的留言。如确要另提交这一条，请再点一次“提交”。"
                    )
                )
            except ValidationFailed as error:
                apply_service_errors(form, error)
            else:
                if message.created_at != now:  # this form was submitted before
                    flash(_("这条留言已经提交过，查询编号：%(code)s。", code=message.code), "info")
                    return redirect(url_for("messages.show", code=message.code))
                flash(
                    _(
                        "留言已提交，查询编号：%(code)s。审核通过后将转交办理，请留意进展。",
                        code=message.code,
                    ),
                    "success",
                )
                return redirect(url_for("messages.show", code=message.code))
    return _write_page(board, form, preview, 422 if form.errors else 200)


def _write_page(board: Board, form: ComposeForm, preview, status: int, **extra):
    """The compose page for `board` with its form (and preview), answered with `status`."""
    trail = ancestors(board.region) + [board.region]
    page = render_template(
        "messages/write.html", board=board, trail=trail, form=form, preview=preview, **extra
    )
    return page, status


@bp.route("/my")
@login_required
def mine() -> ResponseReturnValue:
    """The signed-in user's own messages, with their state and code."""
    pagination = paginate(services.my_messages_query(_me()).options(selectinload(Message.board)))
    return render_template(
        "messages/mine.html",
        pagination=pagination,
        reasons=reason_labels({m.rejection_reason for m in pagination.items}),
    )


# ---------------------------------------------------------------------------------------------
# Reading


# Private events the author still sees on their own message (the rest is the office's business).
AUTHOR_PRIVATE_ACTIONS = frozenset({"reject"})


# The steps an author may take from their message's page, each with its form.
AUTHOR_ACTIONS = (
    Action.WITHDRAW,
    Action.RATE,
    Action.FOLLOW_UP,
    Action.REQUEST_REVIEW,
    Action.REQUEST_REREVIEW,
)


def _render_message(
    message: Message,
    rate_form: RateForm | None = None,
    status: int = 200,
    follow_up_form: FollowUpForm | None = None,
    review_form: ReviewRequestForm | None = None,
):
    """The message page for the current viewer: originals or masked text, actions, timeline."""
    viewer = _viewer()
    is_author = viewer is not None and message.author_id == viewer.id
    sees_private = services.can_see_private_fields(viewer, message)
    sees_all_events = viewer is not None and viewer.is_staff
    has_cosigned = viewer is not None and bool(
        db.session.scalar(
            select(Cosign.id).where(Cosign.message_id == message.id, Cosign.user_id == viewer.id)
        )
    )
    offered = (
        workflow.available(viewer, message, now=utcnow(), among=AUTHOR_ACTIONS)
        if is_author
        else set()
    )
    can_rate = Action.RATE in offered
    if can_rate and rate_form is None:
        rate_form = RateForm(formdata=None)
    can_follow_up = Action.FOLLOW_UP in offered  # it reopens the round: one per round
    if can_follow_up and follow_up_form is None:
        follow_up_form = FollowUpForm(formdata=None)
    review_step = next(
        (
            workflow.step(a)
            for a in (Action.REQUEST_REVIEW, Action.REQUEST_REREVIEW)
            if a in offered
        ),
        None,
    )
    review_window = (
        clocks.open_clock(message, (review_step.window,)) if review_step is not None else None
    )
    if review_window is not None and review_form is None:
        review_form = ReviewRequestForm(formdata=None)
    started_at = {
        c.created_at: c
        for c in db.session.scalars(
            select(Clock).where(Clock.message_id == message.id).order_by(Clock.id)
        )
    }
    events = [
        e
        for e in message.events
        if sees_all_events
        or e.is_public
        or (is_author and (e.action in AUTHOR_PRIVATE_ACTIONS or e.actor_id == viewer.id))
    ]
    return (
        render_template(
            "messages/show.html",
            m=message,
            is_author=is_author,
            sees_private=sees_private,
            events=events,
            event_clocks={
                e.id: started_at[e.created_at]
                for e in events
                if e.due_on and e.created_at in started_at
            },
            reasons=reason_labels({message.rejection_reason, message.hidden_reason}),
            action_labels=workflow.labels(),
            can_withdraw=Action.WITHDRAW in offered,
            can_rate=can_rate,
            rate_form=rate_form,
            follow_up_form=follow_up_form if can_follow_up else None,
            review_form=review_form if review_window is not None else None,
            review_window=review_window,
            is_rereview=message.state == State.REVIEWED,
            can_cosign=message.is_public and not is_author and not has_cosigned,
            has_cosigned=has_cosigned,
            staff_tools=_staff_tools(message),
            is_petition=message.track == Track.PETITION,
            public_of=lambda text: public_text(message, text),
        ),
        status,
    )


@bp.route("/m/<code>")
def show(code: str) -> ResponseReturnValue:
    """A message by its tracking code, as far as the viewer may see it."""
    message = _find(code)
    viewer = _viewer()
    if message is not None and not services.can_view(viewer, message):
        if message.is_hidden and message.visibility == Visibility.PUBLIC:
            return (
                render_template(
                    "messages/removed.html",
                    m=message,
                    reason=reason_labels({message.hidden_reason}).get(message.hidden_reason),
                ),
                410,
            )
        message = None
    if message is None:
        raise _not_found(code)
    record_view(viewer, message)
    return _render_message(message)


# ---------------------------------------------------------------------------------------------
# Actions


@bp.route("/m/<code>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(code: str) -> ResponseReturnValue:
    """The author takes the message back before it is assigned, after ticking the confirmation
    on this page; a POST without it shows the page again and withdraws nothing."""
    message = _viewable(code)
    form = WithdrawForm()
    try:
        services.require_withdrawable(message, _me())
        if not form.validate_on_submit():
            page = render_template("messages/withdraw.html", m=message, form=form)
            return page, 422 if form.errors else 200
        services.withdraw_message(message, _me(), now=utcnow())
    except InvalidTransition as error:
        flash(error.message, "error")
    else:
        flash(_("留言已撤回。"), "success")
    return redirect(url_for("messages.show", code=message.code))


@bp.route("/m/<code>/rate", methods=["POST"])
@login_required
def rate(code: str) -> ResponseReturnValue:
    """The author rates the handling of the answered message."""
    message = _viewable(code)
    if message.author_id != current_user.id:
        raise PermissionDenied(_("只有留言人本人可以评价。"))
    form = RateForm()
    if form.validate_on_submit():
        try:
            services.rate_message(
                message,
                _me(),
                resolution=form.resolution.data,
                attitude=form.attitude.data,
                speed=form.speed.data,
                comment=form.comment.data or "",
                now=utcnow(),
            )
        except ValidationFailed as error:
            apply_service_errors(form, error)
        except InvalidTransition as error:
            flash(error.message, "error")
            return redirect(url_for("messages.show", code=message.code))
        else:
            flash(_("感谢您的评价。"), "success")
            return redirect(url_for("messages.show", code=message.code))
    return _render_message(message, rate_form=form, status=422)


@bp.route("/m/<code>/cosign", methods=["POST"])
@login_required
@limit_cosigning
def cosign(code: str) -> ResponseReturnValue:
    """Another citizen says they have the same problem (附议)."""
    message = _viewable(code)
    one_click(lambda: services.cosign_message(message, _me(), now=utcnow()), _("已附议。"))
    return redirect(url_for("messages.show", code=message.code))


def _author_step(message: Message, form, run, done: str, form_name: str) -> ResponseReturnValue:
    """Validate an author's form, run one service, flash and redirect; errors keep the input."""
    return take_step(
        form,
        form.validate_on_submit(),
        lambda: run(form),
        done=lambda: done,
        to=url_for("messages.show", code=message.code),
        render=lambda status: _render_message(message, status=status, **{form_name: form}),
    )


def _authored(code: str) -> Message:
    """The viewer's own message (others get 403 once they may see it, 404 otherwise)."""
    message = _viewable(code)
    if message.author_id != current_user.id:
        raise PermissionDenied(_("只有留言人本人可以执行此操作。"))
    return message


@bp.route("/m/<code>/follow-up", methods=["POST"])
@login_required
def follow_up(code: str) -> ResponseReturnValue:
    """追问: the author asks one follow-up question after a reply; the unit answers again."""
    message = _authored(code)
    return _author_step(
        message,
        FollowUpForm(),
        lambda form: services.follow_up_message(message, _me(), body=form.body.data, now=utcnow()),
        _("追问已提交，承办单位将再次答复。"),
        "follow_up_form",
    )


@bp.route("/m/<code>/review-request", methods=["POST"])
@login_required
def request_review(code: str) -> ResponseReturnValue:
    """复查 / 复核申请: the petitioner asks the body one level up, within the window."""
    message = _authored(code)
    rereview = message.state == State.REVIEWED
    service = services.request_rereview if rereview else services.request_review
    return _author_step(
        message,
        ReviewRequestForm(),
        lambda form: service(message, _me(), body=form.body.data, now=utcnow()),
        _("复核申请已提交。") if rereview else _("复查申请已提交。"),
        "review_form",
    )
