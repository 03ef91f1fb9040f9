"""PIPL art. 47: a person deletes their own account (`/account/delete`, docs/accounts.md).

The account row stays as an anonymous tombstone (no address, name, phone, password or
sessions), so the messages, events, co-signs and ratings that point at it keep their meaning.
What the person wrote in public stays public under "已注销用户"; what the law makes the office
keep (petition files) stays with the office; everything else personal is erased.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from ..admin.models import AdminChange, Invitation
from ..attachments import services as attachments
from ..attachments.models import Attachment
from ..audit import record_change
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..follow.models import Follow, SavedSearch
from ..models import ApiToken, LoginAttempt, Message, Track, User
from ..models.accounts import AccountToken, UserSession
from ..notify.models import MailOptOut, OutgoingMail
from ..privacy import DELETED_PEN_NAME, mask_secrets, message_secrets
from .services import _check_current_password

# Not a hash of anything: check_password_hash refuses it, so no password matches.
ERASED_PASSWORD_HASH = "!erased"  # noqa: S105
DELETED_KIND = "account_deleted"  # the confirmation mail (board/notify/delivery.py erases it)


def tombstone_label(user: User) -> str:
    """How logs name an erased account: by id, never by its former address."""
    return f"user:{user.id}"


def may_delete(user: User) -> bool:
    """Staff accounts are work accounts: an admin disables them or changes their role first."""
    return not user.is_staff and user.deleted_at is None


def require_deletable(user: User) -> None:
    """PermissionDenied for staff accounts (NotFound for one already deleted)."""
    if user.deleted_at is not None:
        raise NotFound()
    if user.is_staff:
        raise PermissionDenied(
            _("工作人员账户不能自行注销。请联系管理员停用账户，或先改为普通用户。")
        )


def _queue_confirmation(user: User, *, now: datetime) -> None:
    """Mail the old address that the account is gone (rendered now, while the name exists)."""
    from ..notify import outbox

    outbox.enqueue(
        outbox.Draft(
            recipient=user.email,
            kind=DELETED_KIND,
            dedupe_key=f"account:deleted:{user.id}",
            template=DELETED_KIND,
            context={"user": user, "deleted_at": now},
        ),
        now=now,
    )


def _bake_masks(user: User) -> None:
    """Mask the person's private values inside the stored texts of their messages (title, body,
    replies, rating comments, event notes) before the values are erased.

    Public pages mask these values at display time with the message's private fields and the
    author's profile (privacy.message_secrets): once erased, they could no longer be found, and
    a real name typed in a body would show. Petition files keep their own fields (which go on
    masking), so only the profile's other values are baked into them."""
    profile = [user.real_name, user.phone, user.address]
    messages = db.session.scalars(
        select(Message)
        .where(Message.author_id == user.id)
        .options(
            selectinload(Message.author),
            selectinload(Message.replies),
            selectinload(Message.ratings),
            selectinload(Message.events),
        )
    ).all()
    for message in messages:
        if message.track == Track.BOARD:
            secrets = message_secrets(message)
        else:
            kept = {message.real_name, message.phone, message.address}
            secrets = [value for value in profile if value and value not in kept]
        if not secrets:
            continue
        texts = [(message, "title"), (message, "body")]
        texts += [(reply, "body") for reply in message.replies]
        texts += [(rating, "comment") for rating in message.ratings]
        texts += [(event, "note") for event in message.events]
        for row, name in texts:
            before = getattr(row, name)
            after = mask_secrets(before, secrets)
            if after != before:
                setattr(row, name, after)
    db.session.flush()


def _erase_from_messages(user: User) -> tuple[int, list[Attachment]]:
    """Anonymise the person's messages: how many there are, and the attachments deleted.

    Every message loses the pen name and the network address. Board-track messages also lose
    the private contact details and note, and their private attachments. Petition files keep
    the petitioner's real name, phone, address, note and private attachments: the office must
    keep them (docs/accounts.md). Set-based: an account may have thousands of messages, and
    none of these columns counts in the statistics."""
    mine = Message.author_id == user.id
    count = db.session.scalar(select(func.count(Message.id)).where(mine)) or 0
    for where, values in (
        ((mine,), {"pen_name": DELETED_PEN_NAME, "author_ip": None}),
        (
            (mine, Message.track == Track.BOARD),
            {"real_name": None, "phone": None, "address": None, "private_note": ""},
        ),
    ):
        db.session.execute(
            update(Message)
            .where(*where)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    removed = db.session.scalars(
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .where(mine, Message.track == Track.BOARD, Attachment.is_public.is_(False))
    ).all()
    for attachment in removed:
        db.session.delete(attachment)  # its bytes go with it (ON DELETE CASCADE)
    # A file's original name may carry the person's name: keep only its type.
    for attachment in db.session.scalars(
        select(Attachment).where(Attachment.uploader_id == user.id)
    ):
        if attachment not in removed:
            extension = attachment.original_name.rpartition(".")[2][:8]
            attachment.original_name = f"附件-{attachment.id}.{extension}"
    return count, list(removed)


def _erase_account_records(user: User, address: str, *, confirmation_kind: str) -> None:
    """Delete the rows that exist only for the person: sessions, links, tokens, follows,
    saved searches, mail choices, sign-in attempts, invitations and mail to the address (but
    the confirmation, which the delivery erases once sent)."""
    for model in (UserSession, AccountToken, ApiToken, Follow, SavedSearch):
        db.session.execute(delete(model).where(model.user_id == user.id))
    db.session.execute(delete(MailOptOut).where(MailOptOut.address == address))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == address))
    db.session.execute(delete(Invitation).where(func.lower(Invitation.email) == address))
    db.session.execute(
        delete(OutgoingMail).where(
            func.lower(OutgoingMail.recipient) == address,
            OutgoingMail.kind != confirmation_kind,
        )
    )
    # Earlier change-log entries keep what was done, naming the account by id instead.
    label = tombstone_label(user)
    db.session.execute(
        update(AdminChange).where(func.lower(AdminChange.target) == address).values(target=label)
    )
    db.session.execute(
        update(AdminChange)
        .where(or_(AdminChange.actor_id == user.id, func.lower(AdminChange.actor_label) == address))
        .values(actor_label=label)
    )


def delete_account(user: User, password: str, *, now: datetime) -> None:
    """Erase the person's account: confirm with the password, mail the old address, erase the
    personal data, keep public messages under "已注销用户", sign out everywhere, log it.

    One transaction: either all of it happens or none."""
    require_deletable(user)
    _check_current_password(user, password)
    address = user.email.lower()
    _queue_confirmation(user, now=now)
    _bake_masks(user)
    kept, removed = _erase_from_messages(user)
    _erase_account_records(user, address, confirmation_kind=DELETED_KIND)
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.pen_name = DELETED_PEN_NAME
    user.real_name = user.phone = user.address = None
    user.password_hash = ERASED_PASSWORD_HASH
    user.email_verified_at = None
    user.is_active_account = False
    user.session_version = (user.session_version or 1) + 1
    user.deleted_at = now
    record_change(
        tombstone_label(user),
        "user.delete",
        tombstone_label(user),
        {"account": "active"},
        {"account": "deleted", "messages_kept": kept},
        now=now,
    )
    db.session.commit()
    attachments.discard(removed)  # files of rows still on disk go once the rows are gone
