"""Pages of the intelligence features: the admin's topic tree and the staff topic correction."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import workflow
from ..admin.services import require_admin
from ..admin.views.common import attach_errors
from ..clock import utcnow
from ..errors import InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..messages import services as msg
from ..models import Kind, Message
from ..workflow import Action
from . import taxonomy
from .forms import DuplicateForm, TopicActiveForm, TopicChoiceForm, TopicNameForm
from .models import TOPIC_SOURCE_LABELS, LinkKind

bp = Blueprint("intel", __name__)


@bp.app_template_global()
def hot_issues_for(board=None, region=None) -> list:
    """The current hot issues of a board, a region or (neither) the whole site, for pages."""
    from .hot import current_hot_issues

    return current_hot_issues(
        board_id=board.id if board is not None else None, region=region, now=utcnow()
    )


@bp.app_template_global()
def compose_suggestion(title: str | None, body: str | None) -> dict | None:
    """The topic and domain the model suggests for a draft (None without a model or text)."""
    from .classifier import DOMAIN_OF_TOPIC, load
    from .services import domain_label

    model = load()
    ranked = model.predict(title or "", body or "") if model is not None else []
    if not ranked:
        return None
    label, score = ranked[0]
    domain = DOMAIN_OF_TOPIC.get(label)
    return {"topic": label, "score": score, "domain": domain, "domain_label": domain_label(domain)}


@bp.app_template_global()
def reply_checklist(reply) -> list:
    """The advisory checks of a reply (on the message it answers), for the sign-off card."""
    from .replies import check_reply

    if reply is None:
        return []
    return check_reply(reply.message.title, reply.message.body, reply.body)


@bp.app_template_global()
def topic_source_label(source: str | None) -> str:
    """Who set a message's topic, in words."""
    return str(TOPIC_SOURCE_LABELS.get(source, "")) if source else ""


@bp.app_template_global()
def desk_intel(message):
    """The staff panel of a message page, or None for anyone who may not set its topic."""
    from . import services

    if message is None or not taxonomy.may_set_topic(current_user, message):
        return None
    form = TopicChoiceForm(formdata=None, data={"topic": message.topic_id})
    form.topic.choices = taxonomy.active_topic_choices()
    view = services.desk_view(message)
    # Who else the author wrote to is the author's identity: only for who may know it, and
    # only messages this viewer may read anyway.
    if msg.can_see_private_fields(current_user, message):
        view.same_author = [
            other
            for other in view.same_author
            if other.kind != Kind.REPORT and msg.can_view(current_user, other)
        ]
    else:
        view.same_author = []
    return {"view": view, "form": form, "dup_form": DuplicateForm(formdata=None)}


@bp.app_template_global()
def message_links(message) -> list[dict]:
    """The messages this one was merged or linked with that the viewer may read, for its page:
    `merged_into` (this one was closed into it), `merged_here` or `linked`."""
    from .duplicates import links_of

    if message is None or message.id is None:
        return []
    found = []
    for link in links_of(message):
        mine = link.message_id == message.id
        other = db.session.get(Message, link.other_id if mine else link.message_id)
        if other is None or not msg.can_view(current_user, other):
            continue
        if link.kind == LinkKind.MERGE:
            found.append({"kind": "merged_into" if mine else "merged_here", "message": other})
        else:
            found.append({"kind": "linked", "message": other})
    return found


@bp.route("/admin/topics", methods=["GET", "POST"])
@login_required
def topics() -> ResponseReturnValue:
    """The topic tree with a form to add a topic (first level, or below a parent)."""
    require_admin(current_user)
    form = TopicNameForm()
    if form.validate_on_submit():
        try:
            parent = taxonomy.get_topic(form.parent_id.data) if form.parent_id.data else None
            topic = taxonomy.add_topic(current_user, form.name.data, parent=parent)
        except ValidationFailed as error:
            attach_errors(form, error)
        else:
            flash(_("已添加主题分类“%(path)s”。", path=topic.path_label), "success")
            return redirect(url_for("intel.topics"))
    status = 422 if request.method == "POST" else 200
    return render_template("intel/topics.html", tree=taxonomy.topic_tree(), form=form), status


@bp.route("/admin/topics/<id:topic_id>", methods=["GET", "POST"])
@login_required
def edit_topic(topic_id: int) -> ResponseReturnValue:
    """Rename a topic, add a child below it, retire it or bring it back."""
    require_admin(current_user)
    topic = taxonomy.get_topic(topic_id)
    form = TopicNameForm(data={"name": topic.name} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            taxonomy.rename_topic(current_user, topic, form.name.data)
        except ValidationFailed as error:
            attach_errors(form, error)
        else:
            flash(_("主题分类已改名为“%(path)s”。", path=topic.path_label), "success")
            return redirect(url_for("intel.edit_topic", topic_id=topic.id))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "intel/topic_edit.html",
            topic=topic,
            form=form,
            child_form=TopicNameForm(formdata=None, data={"parent_id": topic.id}),
            active_form=TopicActiveForm(formdata=None),
        ),
        status,
    )


@bp.post("/admin/topics/<id:topic_id>/active")
@login_required
def toggle_topic(topic_id: int) -> ResponseReturnValue:
    """Retire a topic (with everything below it) or bring it back."""
    require_admin(current_user)
    topic = taxonomy.get_topic(topic_id)
    form = TopicActiveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        taxonomy.set_topic_active(current_user, topic, is_active=form.is_active.data == "1")
    except ValidationFailed as error:
        for messages in error.fields.values():
            for message in messages:
                flash(message, "error")
    else:
        flash(
            _("已启用“%(path)s”。", path=topic.path_label)
            if topic.is_active
            else _("已停用“%(path)s”及其下级分类。", path=topic.path_label),
            "success",
        )
    return redirect(url_for("intel.edit_topic", topic_id=topic.id))


@bp.post("/m/<code>/topic")
@login_required
def correct_topic(code: str) -> ResponseReturnValue:
    """Staff correct a message's topic (the correction is recorded and feeds the next training)."""
    message = db.session.scalar(select(Message).where(Message.code == code))
    if message is None:
        raise NotFound()
    taxonomy.authorize_topic_change(current_user, message)
    form = TopicChoiceForm()
    form.topic.choices = taxonomy.active_topic_choices()
    if not form.validate_on_submit():
        flash(_("请选择主题分类。"), "error")
        return redirect(url_for("messages.show", code=code))
    taxonomy.correct_topic(message, taxonomy.get_topic(form.topic.data), current_user, now=utcnow())
    flash(_("主题分类已更正。"), "success")
    return redirect(url_for("messages.show", code=code))


@bp.post("/m/<code>/duplicates")
@login_required
def join_duplicate(code: str) -> ResponseReturnValue:
    """Merge (same person, same matter) or link (many people, one matter) in one step."""
    from . import duplicates

    message = db.session.scalar(select(Message).where(Message.code == code[:32]))
    if message is None or not msg.can_view(current_user, message):
        raise NotFound()
    workflow.require_actor(Action.LINK, current_user, message)  # the coordinator or an admin
    form = DuplicateForm()
    try:
        if not form.validate_on_submit():
            raise NotFound()
        other = duplicates.find_other(current_user, form.other.data)
    except NotFound:
        flash(_("请从相似留言列表中选择要合并或关联的留言。"), "error")
        return redirect(url_for("messages.show", code=message.code))
    try:
        if form.kind.data == LinkKind.MERGE:
            kept = duplicates.merge_duplicate(message, other, current_user, now=utcnow())
            flash(_("已合并，合并后在 %(code)s 一并办理。", code=kept.code), "success")
        else:
            duplicates.link_duplicate(message, other, current_user, now=utcnow())
            flash(_("已与 %(code)s 关联。", code=other.code), "success")
    except ValidationFailed as error:
        for texts in error.fields.values():
            for text in texts:
                flash(text, "error")
    except InvalidTransition as error:
        flash(error.message, "error")
    return redirect(url_for("messages.show", code=message.code))
