"""Codes of DESIGN §3 as StrEnums with their labels, and the workflow's named state sets."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


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
