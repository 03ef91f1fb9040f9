"""Who may see a message and in which capacity a user acts on it (no queries, no upward imports).

The workflow registry, the message services, attachments and the desk all ask here; nothing in
this module imports a feature package, so any of them may use it.
"""

from __future__ import annotations

from ..models import Board, Kind, Message, Role, User


def is_admin(user: User | None) -> bool:
    """Admins may do everything a coordinator or a moderator does."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)


def is_moderator(user: User | None) -> bool:
    """Moderators (and admins) screen and hide messages."""
    return bool(user and user.is_authenticated and user.role in (Role.MODERATOR, Role.ADMIN))


def _serves(user: User | None, role: Role, unit_id: int | None) -> bool:
    """`user` has `role` in the unit `unit_id` (a user without a unit serves none)."""
    return bool(user and user.role == role and user.unit_id is not None and user.unit_id == unit_id)


def is_board_coordinator(user: User | None, board: Board) -> bool:
    """Coordinators act for the boards whose office is their unit."""
    return _serves(user, Role.COORDINATOR, board.office_unit_id)


def is_unit_handler(user: User | None, message: Message) -> bool:
    """Handlers act on messages assigned to their own unit."""
    return _serves(user, Role.HANDLER, message.unit_id)


def is_review_coordinator(user: User | None, message: Message) -> bool:
    """A coordinator of the unit that decides the message's review or re-review."""
    return _serves(user, Role.COORDINATOR, message.review_unit_id)


def coordinates(user: User | None, message: Message) -> bool:
    """The board's coordinator, or an admin (who may do everything a coordinator does)."""
    return is_admin(user) or is_board_coordinator(user, message.board)


def is_review_body(user: User | None, message: Message) -> bool:
    """The coordinators of the unit a review or re-review was sent to (and admins)."""
    return is_admin(user) or is_review_coordinator(user, message)


def is_author(user: User | None, message: Message) -> bool:
    """The citizen who wrote the message."""
    return bool(user and user.is_authenticated and message.author_id == user.id)


def can_view(user: User | None, message: Message) -> bool:
    """Public messages are for everyone; others for the author and the staff handling them."""
    if message.is_public:
        return True
    if user is None or not user.is_authenticated:
        return False
    if message.author_id == user.id:
        return True
    if user.role in (Role.MODERATOR, Role.ADMIN):
        return True
    if is_board_coordinator(user, message.board):
        return True
    if is_review_coordinator(user, message):
        return True
    return is_unit_handler(user, message)


def can_see_private_fields(user: User | None, message: Message) -> bool:
    """The private note and the petitioner's identity: the author and the handling side only.

    A 检举控告 report is routed with the reporter's identity withheld: only the author,
    moderators and admins see it — neither the coordinator nor the unit it may accuse.
    """
    if user is None or not user.is_authenticated:
        return False
    if message.author_id == user.id or user.role in (Role.MODERATOR, Role.ADMIN):
        return True
    if message.kind == Kind.REPORT:
        return False
    if is_board_coordinator(user, message.board):
        return True
    return is_unit_handler(user, message)


def can_work_on(user: User | None, message: Message) -> bool:
    """The staff view of a message: its board's coordinators, its unit's handlers, the review
    body, admins."""
    if user is None or not user.is_authenticated:
        return False
    return (
        is_admin(user)
        or is_board_coordinator(user, message.board)
        or is_unit_handler(user, message)
        or is_review_body(user, message)
    )
