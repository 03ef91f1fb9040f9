"""Codes of DESIGN §3 as StrEnums with their labels, and the workflow's named state sets."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class LabelledEnum(StrEnum):
    """A StrEnum whose members are declared with their label: `CITY = "city", _l("市级")`."""

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict:
        """Every member's label, in declaration order (the `*_LABELS` tables)."""
        return {member: member.label for member in cls}


class Role(LabelledEnum):
    """What a user may do; handlers and coordinators also belong to a unit."""

    CITIZEN = "citizen", _l("网民")
    HANDLER = "handler", _l("承办人")
    COORDINATOR = "coordinator", _l("交办员")
    MODERATOR = "moderator", _l("审核员")
    ADMIN = "admin", _l("管理员")


STAFF_ROLES = frozenset({Role.HANDLER, Role.COORDINATOR, Role.MODERATOR, Role.ADMIN})


class Track(LabelledEnum):
    """A message on a leader's board, or a 信访事项 under the 2022 regulation."""

    BOARD = "board", _l("留言")
    PETITION = "petition", _l("信访")


class Kind(LabelledEnum):
    """What the writer wants; each kind belongs to one track."""

    SUGGESTION = "suggestion", _l("建言")
    INQUIRY = "inquiry", _l("咨询")
    COMPLAINT = "complaint", _l("投诉")
    HELP = "help", _l("求助")
    THANKS = "thanks", _l("感谢")
    OPINION = "opinion", _l("建议意见")
    REPORT = "report", _l("检举控告")
    CLAIM = "claim", _l("申诉求决")


KINDS_BY_TRACK = {
    Track.BOARD: (Kind.SUGGESTION, Kind.INQUIRY, Kind.COMPLAINT, Kind.HELP, Kind.THANKS),
    Track.PETITION: (Kind.OPINION, Kind.REPORT, Kind.CLAIM),
}


class Domain(LabelledEnum):
    """The field a message is about (领域)."""

    URBAN = "urban", _l("城建")
    TRANSPORT = "transport", _l("交通")
    RURAL = "rural", _l("三农")
    ENVIRONMENT = "environment", _l("环保")
    EDUCATION = "education", _l("教育")
    HEALTH = "health", _l("医疗")
    SECURITY = "security", _l("治安")
    TOURISM = "tourism", _l("旅游")
    EMPLOYMENT = "employment", _l("就业")
    CULTURE = "culture", _l("文娱")
    FINANCE = "finance", _l("金融")
    BUSINESS = "business", _l("企业")
    GOVERNMENT = "government", _l("政务")
    OTHER = "other", _l("其他")


class State(LabelledEnum):
    """The one state column of a message (DESIGN §3.2)."""

    SUBMITTED = "submitted", _l("待审核")
    REJECTED = "rejected", _l("未通过审核")
    WITHDRAWN = "withdrawn", _l("已撤回")
    RECEIVED = "received", _l("待回复")
    ASSIGNED = "assigned", _l("待回复")
    IN_PROGRESS = "in_progress", _l("办理中")
    NOT_ACCEPTED = "not_accepted", _l("不予受理")
    REPLIED = "replied", _l("已回复")
    REOPENED = "reopened", _l("办理中")
    REVIEW_REQUESTED = "review_requested", _l("复查中")
    REREVIEW_REQUESTED = "rereview_requested", _l("复核中")
    REVIEWED = "reviewed", _l("已复查")
    REREVIEWED = "rereviewed", _l("已复核")
    CLOSED = "closed", _l("已办结")


# States in which the handling side still owes an answer.
AWAITING_REPLY = frozenset({State.RECEIVED, State.ASSIGNED, State.IN_PROGRESS, State.REOPENED})
# States in which a unit holds the message (its desk queue).
UNIT_QUEUE = frozenset({State.ASSIGNED, State.IN_PROGRESS, State.REOPENED})
# States that carry at least one published reply, in the order a message passes them.
ANSWERED_ORDER = (
    State.REPLIED,
    State.REVIEW_REQUESTED,
    State.REREVIEW_REQUESTED,
    State.REVIEWED,
    State.REREVIEWED,
    State.CLOSED,
)
ANSWERED_STATES = frozenset(ANSWERED_ORDER)
# States in which a message can be seen by the public (if it is public and not hidden).
PUBLIC_STATES = AWAITING_REPLY | {State.NOT_ACCEPTED} | ANSWERED_STATES


class Visibility(StrEnum):
    """Whether the public may read a message."""

    PUBLIC = "public"
    PRIVATE = "private"


class RegionLevel(LabelledEnum):
    """Administrative level of a GB/T 2260 division."""

    PROVINCE = "province", _l("省级")
    CITY = "city", _l("市级")
    COUNTY = "county", _l("县级")


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


class Outcome(LabelledEnum):
    """The decision a petition reply carries."""

    SUPPORTED = "supported", _l("予以支持")
    EXPLAINED = "explained", _l("解释说明")
    NOT_SUPPORTED = "not_supported", _l("不予支持")


class ReasonUse(StrEnum):
    """Which decision a reason code is offered for."""

    REJECT = "reject"
    HIDE = "hide"
    RETURN = "return"
    NOT_ACCEPT = "not_accept"


# The label tables by name, as forms, pages and templates use them.
ROLE_LABELS = Role.labels()
TRACK_LABELS = Track.labels()
KIND_LABELS = Kind.labels()
DOMAIN_LABELS = Domain.labels()
STATE_LABELS = State.labels()
LEVEL_LABELS = RegionLevel.labels()
OUTCOME_LABELS = Outcome.labels()
