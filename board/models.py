"""Database models, the codes of DESIGN §3 as StrEnums, and the workflow's named state sets."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
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
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

# ---------------------------------------------------------------------------------------------
# Codes


class Role(StrEnum):
    """What a user may do; handlers and coordinators also belong to a unit."""

    CITIZEN = "citizen"
    HANDLER = "handler"
    COORDINATOR = "coordinator"
    MODERATOR = "moderator"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.CITIZEN: _l("网民"),
    Role.HANDLER: _l("承办人"),
    Role.COORDINATOR: _l("交办员"),
    Role.MODERATOR: _l("审核员"),
    Role.ADMIN: _l("管理员"),
}
STAFF_ROLES = frozenset({Role.HANDLER, Role.COORDINATOR, Role.MODERATOR, Role.ADMIN})


class Track(StrEnum):
    """A message on a leader's board, or a 信访事项 under the 2022 regulation."""

    BOARD = "board"
    PETITION = "petition"


TRACK_LABELS = {Track.BOARD: _l("留言"), Track.PETITION: _l("信访")}


class Kind(StrEnum):
    """What the writer wants; each kind belongs to one track."""

    SUGGESTION = "suggestion"
    INQUIRY = "inquiry"
    COMPLAINT = "complaint"
    HELP = "help"
    THANKS = "thanks"
    OPINION = "opinion"
    REPORT = "report"
    CLAIM = "claim"


KIND_LABELS = {
    Kind.SUGGESTION: _l("建言"),
    Kind.INQUIRY: _l("咨询"),
    Kind.COMPLAINT: _l("投诉"),
    Kind.HELP: _l("求助"),
    Kind.THANKS: _l("感谢"),
    Kind.OPINION: _l("建议意见"),
    Kind.REPORT: _l("检举控告"),
    Kind.CLAIM: _l("申诉求决"),
}
KINDS_BY_TRACK = {
    Track.BOARD: (Kind.SUGGESTION, Kind.INQUIRY, Kind.COMPLAINT, Kind.HELP, Kind.THANKS),
    Track.PETITION: (Kind.OPINION, Kind.REPORT, Kind.CLAIM),
}


class Domain(StrEnum):
    """The field a message is about (领域)."""

    URBAN = "urban"
    TRANSPORT = "transport"
    RURAL = "rural"
    ENVIRONMENT = "environment"
    EDUCATION = "education"
    HEALTH = "health"
    SECURITY = "security"
    TOURISM = "tourism"
    EMPLOYMENT = "employment"
    CULTURE = "culture"
    FINANCE = "finance"
    BUSINESS = "business"
    GOVERNMENT = "government"
    OTHER = "other"


DOMAIN_LABELS = {
    Domain.URBAN: _l("城建"),
    Domain.TRANSPORT: _l("交通"),
    Domain.RURAL: _l("三农"),
    Domain.ENVIRONMENT: _l("环保"),
    Domain.EDUCATION: _l("教育"),
    Domain.HEALTH: _l("医疗"),
    Domain.SECURITY: _l("治安"),
    Domain.TOURISM: _l("旅游"),
    Domain.EMPLOYMENT: _l("就业"),
    Domain.CULTURE: _l("文娱"),
    Domain.FINANCE: _l("金融"),
    Domain.BUSINESS: _l("企业"),
    Domain.GOVERNMENT: _l("政务"),
    Domain.OTHER: _l("其他"),
}


class State(StrEnum):
    """The one state column of a message (DESIGN §3.2)."""

    SUBMITTED = "submitted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RECEIVED = "received"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    NOT_ACCEPTED = "not_accepted"
    REPLIED = "replied"
    REOPENED = "reopened"
    REVIEW_REQUESTED = "review_requested"
    REREVIEW_REQUESTED = "rereview_requested"
    REVIEWED = "reviewed"
    REREVIEWED = "rereviewed"
    CLOSED = "closed"


STATE_LABELS = {
    State.SUBMITTED: _l("待审核"),
    State.REJECTED: _l("未通过审核"),
    State.WITHDRAWN: _l("已撤回"),
    State.RECEIVED: _l("待回复"),
    State.ASSIGNED: _l("待回复"),
    State.IN_PROGRESS: _l("办理中"),
    State.NOT_ACCEPTED: _l("不予受理"),
    State.REPLIED: _l("已回复"),
    State.REOPENED: _l("办理中"),
    State.REVIEW_REQUESTED: _l("复查中"),
    State.REREVIEW_REQUESTED: _l("复核中"),
    State.REVIEWED: _l("已复查"),
    State.REREVIEWED: _l("已复核"),
    State.CLOSED: _l("已办结"),
}

# States in which a message can be seen by the public (if it is public and not hidden).
PUBLIC_STATES = frozenset(
    {
        State.RECEIVED,
        State.ASSIGNED,
        State.IN_PROGRESS,
        State.NOT_ACCEPTED,
        State.REPLIED,
        State.REOPENED,
        State.REVIEW_REQUESTED,
        State.REREVIEW_REQUESTED,
        State.REVIEWED,
        State.REREVIEWED,
        State.CLOSED,
    }
)
# States in which the handling side still owes an answer.
AWAITING_REPLY = frozenset({State.RECEIVED, State.ASSIGNED, State.IN_PROGRESS, State.REOPENED})
# States in which a unit holds the message (its desk queue).
UNIT_QUEUE = frozenset({State.ASSIGNED, State.IN_PROGRESS, State.REOPENED})
# States that carry at least one published reply.
ANSWERED_STATES = frozenset(
    {
        State.REPLIED,
        State.REVIEW_REQUESTED,
        State.REREVIEW_REQUESTED,
        State.REVIEWED,
        State.REREVIEWED,
        State.CLOSED,
    }
)


class Visibility(StrEnum):
    """Whether the public may read a message."""

    PUBLIC = "public"
    PRIVATE = "private"


class RegionLevel(StrEnum):
    """Administrative level of a GB/T 2260 division."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


LEVEL_LABELS = {
    RegionLevel.PROVINCE: _l("省级"),
    RegionLevel.CITY: _l("市级"),
    RegionLevel.COUNTY: _l("县级"),
}


class Post(StrEnum):
    """The leader post a board belongs to."""

    SECRETARY = "secretary"  # 书记
    GOVERNOR = "governor"  # 省长 / 市长 / 主席
    DEPARTMENT = "department"


class ReplyState(StrEnum):
    """A reply goes draft → awaiting sign-off → published."""

    DRAFT = "draft"
    AWAITING_SIGNOFF = "awaiting_signoff"
    PUBLISHED = "published"


class Outcome(StrEnum):
    """The decision a petition reply carries."""

    SUPPORTED = "supported"
    EXPLAINED = "explained"
    NOT_SUPPORTED = "not_supported"


OUTCOME_LABELS = {
    Outcome.SUPPORTED: _l("予以支持"),
    Outcome.EXPLAINED: _l("解释说明"),
    Outcome.NOT_SUPPORTED: _l("不予支持"),
}


class ReasonUse(StrEnum):
    """Which decision a reason code is offered for."""

    REJECT = "reject"
    HIDE = "hide"
    RETURN = "return"
    NOT_ACCEPT = "not_accept"


# ---------------------------------------------------------------------------------------------
# Directory


class Region(db.Model):
    """A GB/T 2260 administrative division; `path` lists the codes from the province down."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))  # 浙江省杭州市西湖区
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    path: Mapped[str] = mapped_column(String(32), index=True)  # 330000/330100/330106

    parent: Mapped[Region | None] = relationship(remote_side=[code], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent", order_by="Region.code")
    boards: Mapped[list[Board]] = relationship(back_populates="region", order_by="Board.id")

    @property
    def level_label(self) -> str:
        """The level's human label."""
        return str(LEVEL_LABELS[RegionLevel(self.level)])

    @property
    def label(self) -> str:
        """The name in the page's language (romanised in English: 杭州市 → Hangzhou)."""
        from .directory.names import in_english, region_name_en

        return region_name_en(self.code, self.name) if in_english() else self.name

    @property
    def full_label(self) -> str:
        """浙江省杭州市西湖区, or in English "Xihu District, Hangzhou, Zhejiang"."""
        from .directory.names import in_english

        if not in_english():
            return self.full_name
        return self.label + (f", {self.parent.full_label}" if self.parent else "")

    def contains(self, other: Region) -> bool:
        """True if `other` is this region or lies inside it."""
        return other.path == self.path or other.path.startswith(self.path + "/")


class Unit(db.Model):
    """An organisation that answers messages; a board's coordinator office is a unit too."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    email: Mapped[str | None] = mapped_column(String(200))
    # The number the unit publishes for citizens to call back: readable in every public text.
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    is_office: Mapped[bool] = mapped_column(Boolean, default=False)

    region: Mapped[Region] = relationship()
    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    @property
    def label(self) -> str:
        """The name in the page's language: offices and departments have an English name built
        from their region's (杭州市交通运输局 → Hangzhou Transport Bureau); others keep theirs."""
        from .directory.names import in_english, unit_name_en

        if not in_english():
            return self.name
        region = self.region
        parent = (region.parent.code, region.parent.name) if region.parent else None
        return unit_name_en(self.name, region.code, region.name, region.level, parent) or self.name


class Board(db.Model):
    """A leader post in a region (e.g. 杭州市委书记); messages belong to the post, not the holder."""

    __tablename__ = "board"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    post: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    holder_name: Mapped[str | None] = mapped_column(String(64))
    office_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)

    region: Mapped[Region] = relationship(back_populates="boards")
    office_unit: Mapped[Unit] = relationship()

    @property
    def label(self) -> str:
        """The title in the page's language (杭州市委书记 → Party Secretary of Hangzhou)."""
        from .directory.names import board_title_en, in_english

        if not in_english() or self.post == Post.DEPARTMENT:
            return self.title
        region = self.region
        return board_title_en(self.post, region.code, region.name, region.level)


# ---------------------------------------------------------------------------------------------
# People


class User(UserMixin, db.Model):
    """Anyone with an account: citizens, staff of units, moderators and admins."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    pen_name: Mapped[str] = mapped_column(String(40))
    real_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.CITIZEN, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Bumped on password change and logout-everywhere; part of the session identity.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        """Disabled accounts cannot sign in."""
        return self.is_active_account

    def get_id(self) -> str:
        """Session identity: id and session version, so a password change ends old sessions."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_staff(self) -> bool:
        """Handlers, coordinators, moderators and admins."""
        return self.role in STAFF_ROLES

    @property
    def role_label(self) -> str:
        """The role's human label."""
        return str(ROLE_LABELS[Role(self.role)])


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


# ---------------------------------------------------------------------------------------------
# Messages


class ReasonCode(db.Model):
    """A published reason for rejecting, hiding, returning or not accepting a message."""

    __tablename__ = "reason_code"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    use: Mapped[str] = mapped_column(String(16), index=True)
    label: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)


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

    @property
    def public_state_label(self) -> str:
        """The state as the public board shows it."""
        return str(STATE_LABELS[State(self.state)])

    @property
    def kind_label(self) -> str:
        """The kind's label."""
        return str(KIND_LABELS[Kind(self.kind)])

    @property
    def domain_label(self) -> str:
        """The domain's label."""
        return str(DOMAIN_LABELS[Domain(self.domain)])

    @property
    def track_label(self) -> str:
        """The track's label."""
        return str(TRACK_LABELS[Track(self.track)])

    @property
    def published_replies(self) -> list[Reply]:
        """Replies the public may read, oldest first."""
        return [r for r in self.replies if r.state == ReplyState.PUBLISHED]


class Event(db.Model):
    """One change to a message: who, when, from which state to which, with a note."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
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


class Reply(db.Model):
    """A unit's answer; once published it is never edited in place."""

    __tablename__ = "reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
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


class Rating(db.Model):
    """The author's three 1–5 star scores for the handling of their message."""

    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("message_id", "round", name="uq_rating_message_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
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


class Cosign(db.Model):
    """A citizen's 附议 ("I have the same problem") on someone else's public message."""

    __tablename__ = "cosign"
    __table_args__ = (UniqueConstraint("message_id", "user_id", name="uq_cosign_message_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RequestKind(StrEnum):
    """What a unit asks its coordinator for."""

    RETURN = "return"  # 退回
    EXTENSION = "extension"  # 延期


class RequestState(StrEnum):
    """A handling request waits for the coordinator's decision."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class HandlingRequest(db.Model):
    """A unit's request to return a message or to extend its answer deadline (WORKFLOW.md)."""

    __tablename__ = "handling_request"
    __table_args__ = (Index("ix_handling_request_state", "state", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
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


_UNIT_HOLDS = frozenset({State.ASSIGNED, State.IN_PROGRESS, State.REOPENED})
_HANDLING = frozenset({State.IN_PROGRESS, State.REOPENED})

# The workflow: action → (states it may start from, state it leads to; None keeps the state).
# Event actions that are decisions on a request (return_approved …) are listed too.
TRANSITIONS: dict[str, tuple[frozenset[State], State | None]] = {
    "withdraw": (frozenset({State.SUBMITTED, State.RECEIVED}), State.WITHDRAWN),
    "approve": (frozenset({State.SUBMITTED}), State.RECEIVED),
    "reject": (frozenset({State.SUBMITTED}), State.REJECTED),
    "assign": (frozenset({State.RECEIVED}), State.ASSIGNED),
    "accept": (frozenset({State.ASSIGNED}), State.IN_PROGRESS),
    "not_accept": (frozenset({State.ASSIGNED}), State.NOT_ACCEPTED),
    "return": (frozenset({State.ASSIGNED}), None),
    "return_approved": (frozenset({State.ASSIGNED}), State.RECEIVED),
    "return_declined": (frozenset({State.ASSIGNED}), None),
    "transfer": (_UNIT_HOLDS, State.ASSIGNED),
    "extend": (_HANDLING, None),
    "extension_declined": (_HANDLING, None),
    "interim": (_HANDLING, None),
    "reply": (_UNIT_HOLDS, None),
    "sign_off": (_UNIT_HOLDS, State.REPLIED),
    "decline_sign_off": (_UNIT_HOLDS, None),
    "urge": (_UNIT_HOLDS, None),
    "rate": (frozenset({State.REPLIED}), State.CLOSED),  # petition track: the state stays
    "follow_up": (frozenset({State.REPLIED}), State.IN_PROGRESS),
    "reopen": (frozenset({State.CLOSED}), State.REOPENED),
    "close": (frozenset({State.REPLIED}), State.CLOSED),
    "request_review": (
        frozenset({State.REPLIED, State.NOT_ACCEPTED}),
        State.REVIEW_REQUESTED,
    ),
    "decide_review": (frozenset({State.REVIEW_REQUESTED}), State.REVIEWED),
    "request_rereview": (frozenset({State.REVIEWED}), State.REREVIEW_REQUESTED),
    "hearing": (frozenset({State.REREVIEW_REQUESTED}), None),
    "decide_rereview": (frozenset({State.REREVIEW_REQUESTED}), State.REREVIEWED),
    "refuse_repeat": (frozenset({State.RECEIVED}), State.NOT_ACCEPTED),
    "hide": (PUBLIC_STATES, None),
    "cosign": (PUBLIC_STATES, None),
}


class SearchOutbox(db.Model):
    """A message whose searchable data changed; `id` is the sequence nodes apply in order."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: survives deletes
    created_at: Mapped[datetime] = mapped_column(DateTime)


# ---------------------------------------------------------------------------------------------
# Deadlines


class CalendarDay(db.Model):
    """One date the calendar table knows: a holiday, a make-up working day, or any listed day."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(80), default="")
    source: Mapped[str] = mapped_column(String(16), default="package")  # package | admin | file


class CalendarYear(db.Model):
    """A year whose holiday schedule was loaded; other years count Monday–Friday."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(16), default="package")
    loaded_at: Mapped[datetime] = mapped_column(DateTime)


class DeadlinePolicy(db.Model):
    """A named clock length (DESIGN §4, §10): N working or calendar days, admin-editable."""

    __tablename__ = "deadline_policy"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))  # working | calendar
    label: Mapped[str] = mapped_column(String(80), default="")


class ClockState(StrEnum):
    """An open clock runs; a met one ended in time or late; a stopped one no longer applies."""

    OPEN = "open"
    STOPPED = "stopped"
    MET = "met"


class Clock(db.Model):
    """A deadline running on a message, with its computed due date and explanation."""

    __tablename__ = "clock"
    __table_args__ = (Index("ix_clock_state_due_on", "state", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    policy: Mapped[str] = mapped_column(String(40))
    started_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    # Twice the length from the same start: past it the clock is seriously overdue.
    double_due_on: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ClockState.OPEN)
    # An approved extension (counted from the base due date) and hearing days (复核听证),
    # kept apart so a calendar change recomputes base → extension → hearing.
    extension_days: Mapped[int | None] = mapped_column(Integer)
    extension_unit: Mapped[str | None] = mapped_column(String(16))
    hearing_days: Mapped[int] = mapped_column(Integer, default=0)
    explanation: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of lines
    # Years it counts through that have no official holiday schedule yet ("2027", "2027,2028"):
    # the due date is provisional until they are imported. Set with due_on, recomputed with it.
    provisional_years: Mapped[str] = mapped_column(String(40), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    message: Mapped[Message] = relationship()

    @property
    def explanation_lines(self) -> list:
        """The stored explanation as steps (`str`: Chinese; `.text`: the request's language)."""
        import json

        from .deadlines import load_explanation

        return load_explanation(json.loads(self.explanation or "[]"))

    @property
    def provisional_year_list(self) -> list[int]:
        """The years without an official schedule that the due date depends on."""
        return [int(year) for year in (self.provisional_years or "").split(",") if year]

    @property
    def is_provisional(self) -> bool:
        """True while the due date rests on a year whose official schedule is not imported."""
        return bool(self.provisional_years)


# ---------------------------------------------------------------------------------------------
# Security


class LoginAttempt(db.Model):
    """One sign-in try for an e-mail (known or not); recent failures lock the address out."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_email_created_at", "email", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))  # as typed, lower-cased: no user FK on purpose
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(64))  # truncated, never a full address
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AccessLog(db.Model):
    """A member of staff opened a message the public cannot see (DESIGN §7)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    route: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(64))  # truncated, never a full address
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)

    user: Mapped[User] = relationship()
    message: Mapped[Message] = relationship()


@event.listens_for(Unit, "after_insert")
@event.listens_for(Unit, "after_update")
@event.listens_for(Unit, "after_delete")
def _unit_contacts_changed(mapper, connection, target) -> None:
    """A unit's published phone or e-mail may have changed: masking must see the new ones."""
    from .privacy import units_changed

    units_changed()
