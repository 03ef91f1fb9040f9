"""Messages and what happens to them: events, replies, ratings, co-signs, handling requests and
the search outbox (the workflow itself is declared in `board.workflow`)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .directory import Board, Region, Unit
from .vocab import (
    OUTCOME_LABELS,
    PUBLIC_STATES,
    Domain,
    Kind,
    LabelledEnum,
    Outcome,
    ReplyState,
    RequestState,
    State,
    Track,
    Visibility,
)


def label_of(column: str, codes: type[LabelledEnum]) -> property:
    """A read-only property: the label of the code stored in `column`."""
    return property(lambda row: str(codes(getattr(row, column)).label))


class OnMessage:
    """The columns of a row that belongs to one message: its own id and the message's."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-2)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True, sort_order=-1)


class ReasonCode(db.Model):
    """A published reason for rejecting, hiding, returning or not accepting a message."""

    __tablename__ = "reason_code"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    use: Mapped[str] = mapped_column(String(16), index=True)
    label: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    # Retired codes are no longer offered; decisions that gave them keep showing their label.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


class Message(db.Model):
    """A citizen's message or petition, with one state column and an append-only event log."""

    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_public_list", "visibility", "is_hidden", "state", "published_at"),
        Index("ix_message_board_state", "board_id", "state"),
        Index("ix_message_unit_state", "unit_id", "state"),
        UniqueConstraint("source", "external_id", name="uq_message_source_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    track: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    domain: Mapped[str] = mapped_column(String(16), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    region_path: Mapped[str] = mapped_column(String(32), index=True)  # copied for subtree filters
    title: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    private_note: Mapped[str] = mapped_column(Text, default="")
    wants_public: Mapped[bool] = mapped_column(Boolean, default=True)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PRIVATE)
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(24), default=State.SUBMITTED, index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    pen_name: Mapped[str] = mapped_column(String(40), default="")
    # Petition track: who the petitioner is (required, never public).
    real_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    rejection_reason: Mapped[str | None] = mapped_column(String(40))
    cosign_count: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="web")
    external_id: Mapped[str | None] = mapped_column(String(64))
    # sha256 of the author's id and the submission's Idempotency-Key: a retried submission
    # (a lost answer, a double click) finds this message instead of filing it twice.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    author_ip: Mapped[str | None] = mapped_column(String(64))  # truncated, never a full address
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Bumped by a follow-up (追问) or a re-handling (重办): extensions and ratings are per round.
    handling_round: Mapped[int] = mapped_column(Integer, default=1)
    # Petition track: the body deciding the review (复查) or re-review (复核) now asked for.
    review_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # The topic (board/intel): chosen by the citizen, corrected by staff or imported; the source
    # says which (TopicSource).
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), index=True)
    topic_source: Mapped[str | None] = mapped_column(String(16))

    board: Mapped[Board] = relationship()
    region: Mapped[Region] = relationship()
    author: Mapped[User | None] = relationship()
    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    review_unit: Mapped[Unit | None] = relationship(foreign_keys=[review_unit_id])
    events: Mapped[list[Event]] = relationship(
        back_populates="message", order_by="Event.id", cascade="all, delete-orphan"
    )
    replies: Mapped[list[Reply]] = relationship(
        back_populates="message", order_by="Reply.id", cascade="all, delete-orphan"
    )
    ratings: Mapped[list[Rating]] = relationship(
        back_populates="message", order_by="Rating.round", cascade="all, delete-orphan"
    )
    handling_requests: Mapped[list[HandlingRequest]] = relationship(
        back_populates="message", order_by="HandlingRequest.id", cascade="all, delete-orphan"
    )

    @property
    def rating(self) -> Rating | None:
        """The latest rating (one per handling round), or None."""
        return self.ratings[-1] if self.ratings else None

    @property
    def is_public(self) -> bool:
        """True if anyone may read this message right now."""
        return (
            self.visibility == Visibility.PUBLIC
            and not self.is_hidden
            and self.state in PUBLIC_STATES
        )

    # The codes' labels (the public board's state label merges assigned into 待回复).
    public_state_label = label_of("state", State)
    kind_label = label_of("kind", Kind)
    domain_label = label_of("domain", Domain)
    track_label = label_of("track", Track)

    @property
    def published_replies(self) -> list[Reply]:
        """Replies the public may read, oldest first."""
        return [r for r in self.replies if r.state == ReplyState.PUBLISHED]


class Event(OnMessage, db.Model):
    """One change to a message: who, when, from which state to which, with a note."""

    __tablename__ = "event"

    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    message: Mapped[Message] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Reply(OnMessage, db.Model):
    """A unit's answer; once published it is never edited in place."""

    __tablename__ = "reply"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    is_interim: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=ReplyState.DRAFT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    message: Mapped[Message] = relationship(back_populates="replies")
    unit: Mapped[Unit] = relationship()
    author: Mapped[User | None] = relationship()

    @property
    def outcome_label(self) -> str | None:
        """The petition outcome's label, if any."""
        return str(OUTCOME_LABELS[Outcome(self.outcome)]) if self.outcome else None


SATISFACTION_LABELS = (
    (4.5, _l("很满意")),
    (3.5, _l("满意")),
    (2.5, _l("基本满意")),
    (1.5, _l("不满意")),
    (0.0, _l("很不满意")),
)


class Rating(OnMessage, db.Model):
    """The author's three 1–5 star scores for the handling of their message."""

    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("message_id", "round", name="uq_rating_message_round"),)

    round: Mapped[int] = mapped_column(Integer, default=1)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolution: Mapped[int] = mapped_column(Integer)
    attitude: Mapped[int] = mapped_column(Integer)
    speed: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)

    message: Mapped[Message] = relationship(back_populates="ratings")

    @property
    def composite(self) -> float:
        """Mean of the three scores."""
        return (self.resolution + self.attitude + self.speed) / 3

    @property
    def satisfaction_label(self) -> str:
        """很满意 … 很不满意 from the composite score."""
        for floor, label in SATISFACTION_LABELS:
            if self.composite >= floor:
                return str(label)
        return str(SATISFACTION_LABELS[-1][1])

    @property
    def is_dissatisfied(self) -> bool:
        """不满意 or 很不满意."""
        return self.composite < 2.5


class Cosign(OnMessage, db.Model):
    """A citizen's 附议 ("I have the same problem") on someone else's public message."""

    __tablename__ = "cosign"
    __table_args__ = (UniqueConstraint("message_id", "user_id", name="uq_cosign_message_user"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class HandlingRequest(OnMessage, db.Model):
    """A unit's request to return a message or to extend its answer deadline (WORKFLOW.md)."""

    __tablename__ = "handling_request"
    __table_args__ = (Index("ix_handling_request_state", "state", "requested_at"),)

    kind: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=1)
    reason_code: Mapped[str | None] = mapped_column(ForeignKey("reason_code.code"))
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(16), default=RequestState.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    message: Mapped[Message] = relationship(back_populates="handling_requests")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    reason: Mapped[ReasonCode | None] = relationship()


class SearchOutbox(db.Model):
    """A message whose searchable data changed; `id` is the sequence nodes apply in order."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: survives deletes
    created_at: Mapped[datetime] = mapped_column(DateTime)
