"""The authorization matrix: who may use every route of the app, on public and private messages.

HOW TO ADD AN ENTRY (required for every new route; `tests/test_authz_matrix.py` fails naming any
URL rule of `app.url_map` — and any workflow action of `board.api.actions.ACTIONS` — without one)

    MATRIX[(ENDPOINT, METHOD)] = Rule(PATH, ...)              # one rule
    MATRIX[(ENDPOINT, METHOD)] = [Rule(...), Rule(...)]       # several (e.g. one per API action)

- ENDPOINT is the Flask endpoint (`desk.accept`), METHOD the HTTP verb (`GET`, `POST`, …);
  every method of the rule except HEAD/OPTIONS needs its own key.
- PATH is the URL to request, with placeholders filled in by the test:
    {code}     the tracking code of the message being tried (see `public=` / `private=` below)
    {board}    `330100-secretary` (the coordinator's board)   {unit} `330100-zj` (the handler's)
    {region}   `330106`                                       {token_id} see `setup=`
  and any key returned by `setup`.
- Outcomes (what the test sees, classified):
    OK     anything that got past authorization: 2xx, 3xx not to the login page, 400, 409, 422
           (an invalid body or a wrong state is fine: the actor *was allowed* to try)
    LOGIN  302 to the login page (anonymous on a login-only HTML page)
    401    the API without (or with a bad) bearer token
    403    refused: the actor may know the thing exists but may not do this
    404    refused AND existence hidden: private messages MUST give 404 (never 403) to everyone
           who may not read them, exactly as for a code that does not exist
    A 500 is always a failure.
- Actors (keys of the outcome dicts), built once per database by the test:
    anonymous          nobody signed in (HTML) / no token (API)
    author             the citizen who wrote the message
    other_citizen      another citizen
    handler            a handler of the unit the message is assigned to (330100-zj)
    other_handler      a handler of another unit (330100-jt)
    coordinator        the coordinator of the message's board (330100-secretary-office)
    other_coordinator  a coordinator of another board (440100-secretary-office)
    moderator, admin
- Build an outcome dict with `expect(DEFAULT, actor=OUTCOME, …)`; `PRIVATE_READERS` lists who may
  read the private message.
- Routes about no particular message give `expect=`. Routes taking a message code give
  `public=` and `private=`: the test makes a fresh pair of messages for the rule (a public one,
  and one whose author asked for privacy), both in `state=` (default `assigned`: on the
  coordinator's board, assigned to the handler's unit), and tries every actor on each. Actors
  expected to be refused go first, so a state change by an allowed actor (accept, hide…) does not
  change what the refused ones see.
- `data=` (form fields) / `json=` (API body) are sent with the request. Give a body that passes
  field validation, so that the refusal (or not) comes from the role check, not from a 422.
- `api=True` sends the actor's bearer token (and no session cookie).
- `fresh_session=True` signs the actor in on a new client for this request (e.g. logout).
- `setup=` a function `(world) -> dict` run once per rule; its dict fills more placeholders.
- `per_message=` a function `(world, message) -> dict` run for each message the rule is tried on
  (e.g. to give it an attachment); its dict fills more placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OK, LOGIN = "ok", "login"
ACTORS = (
    "anonymous",
    "author",
    "other_citizen",
    "handler",
    "other_handler",
    "coordinator",
    "other_coordinator",
    "moderator",
    "admin",
)
SIGNED_IN = ACTORS[1:]
STAFF = ("handler", "other_handler", "coordinator", "other_coordinator", "moderator", "admin")
# Who may read the private message the test builds (its author and the staff on its case).
PRIVATE_READERS = ("author", "handler", "coordinator", "moderator", "admin")


def expect(default: Any, **outcomes: Any) -> dict[str, Any]:
    """An outcome for every actor: `default`, except those named."""
    unknown = set(outcomes) - set(ACTORS)
    if unknown:
        raise ValueError(f"unknown actors {sorted(unknown)}")
    return {actor: outcomes.get(actor, default) for actor in ACTORS}


def readers_only(allowed: dict[str, Any], *, anonymous: Any = 404) -> dict[str, Any]:
    """On a private message: 404 for everyone who may not read it; `allowed` for the readers."""
    base = expect(404, anonymous=anonymous)
    for actor in PRIVATE_READERS:
        base[actor] = allowed.get(actor, 403)
    return base


@dataclass(frozen=True)
class Rule:
    """How one route is tried and what each actor must get (see the module docstring)."""

    path: str
    expect: dict[str, Any] | None = None
    public: dict[str, Any] | None = None
    private: dict[str, Any] | None = None
    state: str = "assigned"
    data: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    api: bool = False
    fresh_session: bool = False
    setup: Callable[[Any], dict[str, Any]] | None = None
    per_message: Callable[[Any, Any], dict[str, Any]] | None = None
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


EVERYONE = expect(OK)
SIGNED_IN_ONLY = expect(OK, anonymous=LOGIN)
MODERATORS = expect(403, anonymous=LOGIN, moderator=OK, admin=OK)


def _spare_token(world) -> dict[str, Any]:
    """A token of the author's that a rule may revoke without breaking the others."""
    return {"token_id": world.spare_token_id("author")}


def _file(is_public: bool) -> Callable[[Any, Any], dict[str, Any]]:
    """Give the message one attachment (public or private) and name it as {file}."""

    def give(world, message) -> dict[str, Any]:
        return {"file": world.attachment(message, is_public=is_public)}

    return give


# Who reads a submitted (not yet moderated) message: its author, the platform, and the
# coordinator of its board.
SUBMITTED_READERS = ("author", "moderator", "admin", "coordinator")

MATRIX: dict[tuple[str, str], Rule | list[Rule]] = {
    # --- public pages -------------------------------------------------------------------------
    ("directory.home", "GET"): Rule("/", expect=EVERYONE),
    ("directory.leaders", "GET"): Rule("/leaders", expect=EVERYONE),
    ("directory.region", "GET"): Rule("/regions/{region}", expect=EVERYONE),
    ("directory.board", "GET"): Rule("/boards/{board}", expect=EVERYONE),
    ("directory.unit", "GET"): Rule("/units/{unit}", expect=EVERYONE),
    ("directory.favicon", "GET"): Rule("/favicon.ico", expect=EVERYONE),
    ("opendata.rankings", "GET"): Rule("/rankings", expect=EVERYONE),
    ("opendata.report", "GET"): Rule("/reports?region={region}", expect=EVERYONE),
    ("opendata.replies_feed", "GET"): Rule("/feeds/replies.atom?board={board}", expect=EVERYONE),
    ("opendata.messages_feed", "GET"): Rule("/feeds/messages.atom?unit={unit}", expect=EVERYONE),
    ("opendata.export", "GET"): Rule("/export/messages.csv?region={region}", expect=EVERYONE),
    ("directory.set_language", "GET"): Rule("/lang/en", expect=EVERYONE),
    ("deadlines.calculator", "GET"): Rule("/deadlines", expect=EVERYONE),
    ("search.search", "GET"): Rule("/search?q=物业", expect=EVERYONE),
    ("health.healthz", "GET"): Rule("/healthz", expect=EVERYONE),
    ("static", "GET"): Rule("/static/css/desk.css", expect=EVERYONE),
    # --- accounts -----------------------------------------------------------------------------
    ("auth.login", "GET"): Rule("/login", expect=EVERYONE),
    ("auth.login", "POST"): Rule("/login", expect=EVERYONE, data={"email": "", "password": ""}),
    ("auth.register", "GET"): Rule("/register", expect=EVERYONE),
    ("auth.register", "POST"): Rule("/register", expect=EVERYONE, data={"email": "bad"}),
    ("auth.logout", "POST"): Rule("/logout", expect=EVERYONE, fresh_session=True),
    ("auth.tokens", "GET"): Rule("/account/tokens", expect=SIGNED_IN_ONLY),
    ("auth.tokens", "POST"): Rule("/account/tokens", expect=SIGNED_IN_ONLY, data={"name": ""}),
    ("auth.revoke_token", "POST"): Rule(
        "/account/tokens/{token_id}/revoke",
        expect=expect(404, anonymous=LOGIN, author=OK),
        setup=_spare_token,
    ),
    ("audit.access_log", "GET"): Rule(
        "/admin/access-log", expect=expect(403, anonymous=LOGIN, admin=OK)
    ),
    # --- citizens -----------------------------------------------------------------------------
    ("messages.write", "GET"): Rule("/write?board={board}", expect=SIGNED_IN_ONLY),
    ("messages.write", "POST"): Rule("/write?board={board}", expect=SIGNED_IN_ONLY, data={}),
    ("messages.mine", "GET"): Rule("/my", expect=SIGNED_IN_ONLY),
    ("messages.show", "GET"): Rule(
        "/m/{code}", public=EVERYONE, private=readers_only(dict.fromkeys(PRIVATE_READERS, OK))
    ),
    ("messages.withdraw", "GET"): Rule(
        "/m/{code}/withdraw",
        public=expect(403, anonymous=LOGIN, author=OK),
        private=readers_only({"author": OK}, anonymous=LOGIN),
    ),
    ("messages.withdraw", "POST"): Rule(
        "/m/{code}/withdraw",
        public=expect(403, anonymous=LOGIN, author=OK),
        private=readers_only({"author": OK}, anonymous=LOGIN),
        data={"confirm": "y"},
    ),
    ("messages.rate", "POST"): Rule(
        "/m/{code}/rate",
        public=expect(403, anonymous=LOGIN, author=OK),
        private=readers_only({"author": OK}, anonymous=LOGIN),
        data={"resolution": "5", "attitude": "5", "speed": "5"},
    ),
    ("messages.cosign", "POST"): Rule(
        "/m/{code}/cosign",
        public=SIGNED_IN_ONLY,
        # Nobody co-signs a private message; even its readers are told it is not there.
        private=expect(404, anonymous=LOGIN),
    ),
    # --- moderation (role checked before the code is looked up: 403 leaks nothing) -------------
    ("moderation.queue", "GET"): Rule("/moderation/", expect=MODERATORS),
    ("moderation.review", "GET"): Rule("/moderation/{code}", public=MODERATORS, private=MODERATORS),
    ("moderation.review", "POST"): Rule(
        "/moderation/{code}",
        public=MODERATORS,
        private=MODERATORS,
        data={"action": "approve", "note": ""},
    ),
    ("moderation.sensitive_words", "GET"): Rule(
        "/moderation/words", expect=expect(403, anonymous=LOGIN, admin=OK)
    ),
    ("moderation.sensitive_words", "POST"): Rule(
        "/moderation/words", expect=expect(403, anonymous=LOGIN, admin=OK), data={"words": "办证"}
    ),
    ("moderation.delete_sensitive_word", "POST"): Rule(
        "/moderation/words/{word_id}/delete",
        expect=expect(403, anonymous=LOGIN, admin=OK),
        setup=lambda world: {"word_id": world.sensitive_word_id()},
    ),
    # --- desk ---------------------------------------------------------------------------------
    ("desk.coordinator", "GET"): Rule(
        "/desk/coordinator",
        expect=expect(403, anonymous=LOGIN, coordinator=OK, other_coordinator=OK, admin=OK),
    ),
    ("desk.handler", "GET"): Rule(
        "/desk/handler", expect=expect(403, anonymous=LOGIN, handler=OK, other_handler=OK)
    ),
    ("desk.message", "GET"): Rule(
        "/desk/m/{code}",
        public=expect(403, anonymous=LOGIN, handler=OK, coordinator=OK, admin=OK),
        private=readers_only({"handler": OK, "coordinator": OK, "admin": OK}, anonymous=LOGIN),
    ),
    ("desk.assign", "POST"): Rule(
        "/desk/m/{code}/assign",
        public=expect(403, anonymous=LOGIN, coordinator=OK, admin=OK),
        private=readers_only({"coordinator": OK, "admin": OK}, anonymous=LOGIN),
        data={"unit": "330100-jt"},
    ),
    ("desk.accept", "POST"): Rule(
        "/desk/m/{code}/accept",
        public=expect(403, anonymous=LOGIN, handler=OK),
        private=readers_only({"handler": OK}, anonymous=LOGIN),
    ),
    ("desk.reply", "POST"): Rule(
        "/desk/m/{code}/reply",
        public=expect(403, anonymous=LOGIN, handler=OK),
        private=readers_only({"handler": OK}, anonymous=LOGIN),
        data={"body": "经核查，已责令物业公司退还多收费用。"},
    ),
    # --- attachments: public files go with the message, private ones with its private side ------
    ("attachments.download", "GET"): [
        Rule(
            "/m/{code}/files/{file}",
            public=EVERYONE,
            private=readers_only(dict.fromkeys(PRIVATE_READERS, OK)),
            per_message=_file(True),
            label="public-file",
        ),
        Rule(
            "/m/{code}/files/{file}",
            public=readers_only(dict.fromkeys(PRIVATE_READERS, OK)),
            private=readers_only(dict.fromkeys(PRIVATE_READERS, OK)),
            per_message=_file(False),
            label="private-file",
        ),
    ],
    ("api.upload_attachments", "POST"): Rule(
        "/api/v1/messages/{code}/attachments",
        private=expect(404, anonymous=401, author=OK, **dict.fromkeys(SUBMITTED_READERS[1:], 403)),
        state="submitted",
        data={},
        api=True,
    ),
    # --- desk: the whole workflow (ui engineer) -------------------------------------------------
    **{
        ("desk." + endpoint, "POST"): Rule(
            f"/desk/m/{{code}}/{path}",
            public=expect(403, anonymous=LOGIN, **dict.fromkeys(allowed, OK)),
            private=readers_only(dict.fromkeys(allowed, OK), anonymous=LOGIN),
            data=data,
        )
        for endpoint, path, allowed, data in [
            ("sign_off", "sign-off", ("coordinator", "admin"), {}),
            ("decline_sign_off", "decline-sign-off", ("coordinator", "admin"), {"note": "请修改"}),
            ("approve_request", "approve-request", ("coordinator", "admin"), {"request": "1"}),
            (
                "decline_request",
                "decline-request",
                ("coordinator", "admin"),
                {"request": "1", "note": "属于本单位职责"},
            ),
            ("transfer", "transfer", ("coordinator", "admin"), {"unit": "330100-jt"}),
            ("urge", "urge", ("coordinator", "admin"), {"note": "请尽快办理"}),
            ("reopen", "reopen", ("coordinator", "admin"), {"note": "请重新办理"}),
            (
                "refuse_repeat",
                "refuse-repeat",
                ("coordinator", "admin"),
                {"earlier": "MS-2026-AAAAAA"},
            ),
            # The review body is the unit one level up; on an assigned message only admins.
            (
                "decide",
                "decide",
                ("admin",),
                {"body": "经复查，维持原意见。", "outcome": "supported"},
            ),
            ("hearing", "hearing", ("admin",), {"days": "5", "note": ""}),
            (
                "not_accept",
                "not-accept",
                ("handler",),
                {"reason": "not_accept:court_or_arbitration"},
            ),
            (
                "return_message",
                "return",
                ("handler",),
                {"reason": "return:not_our_duty", "note": "不属于本单位"},
            ),
            ("extend", "extend", ("handler",), {"reason": "需要现场核查"}),
            ("interim", "interim", ("handler",), {"body": "正在核查，近日答复。"}),
        ]
    },
    ("messages.follow_up", "POST"): Rule(
        "/m/{code}/follow-up",
        public=expect(403, anonymous=LOGIN, author=OK),
        private=readers_only({"author": OK}, anonymous=LOGIN),
        data={"body": "请问多收的费用什么时候退还？"},
    ),
    ("messages.request_review", "POST"): Rule(
        "/m/{code}/review-request",
        public=expect(403, anonymous=LOGIN, author=OK),
        private=readers_only({"author": OK}, anonymous=LOGIN),
        data={"body": "处理意见没有落实，请求复查。"},
    ),
    # --- JSON API -----------------------------------------------------------------------------
    ("api.regions", "GET"): Rule("/api/v1/regions", expect=EVERYONE, api=True),
    ("api.boards", "GET"): Rule("/api/v1/boards", expect=EVERYONE, api=True),
    ("api.units", "GET"): Rule("/api/v1/units", expect=EVERYONE, api=True),
    ("api.openapi", "GET"): Rule("/api/v1/openapi.json", expect=EVERYONE, api=True),
    ("api.stats", "GET"): Rule("/api/v1/stats?group_by=unit", expect=EVERYONE, api=True),
    ("api.search", "GET"): Rule("/api/v1/search?q=物业", expect=EVERYONE, api=True),
    ("api.deadline_calc", "GET"): Rule(
        "/api/v1/deadlines/calc?start=2026-03-02&policy=board_moderation", expect=EVERYONE, api=True
    ),
    ("api.list_messages", "GET"): Rule("/api/v1/messages", expect=EVERYONE, api=True),
    ("api.create_message", "POST"): Rule(
        "/api/v1/messages", expect=expect(OK, anonymous=401), json={}, api=True
    ),
    ("api.get_message", "GET"): Rule(
        "/api/v1/messages/{code}",
        public=EVERYONE,
        private=readers_only(dict.fromkeys(PRIVATE_READERS, OK)),
        api=True,
    ),
}

# API workflow actions: the token is checked first (401 leaks nothing), then visibility (404),
# then the role (403). Bodies pass field validation so the role check is what answers.
_PLATFORM = ("moderator", "admin")
_ACTION_RULES = {
    "approve": ({}, _PLATFORM),
    "reject": ({"reason": "unclear"}, _PLATFORM),
    "hide": ({"reason": "privacy_leak"}, _PLATFORM),
    "assign": ({"unit": "330100-jt"}, ("coordinator", "admin")),
    "accept": ({}, ("handler",)),
    "reply": ({"body": "经核查，已责令物业公司退还多收费用。"}, ("handler",)),
    "rate": ({"resolution": 5, "attitude": 5, "speed": 5}, ("author",)),
    "withdraw": ({}, ("author",)),
    # The complete workflow (core engineer). On the `assigned` message a wrong state is a 409,
    # which counts as allowed; review bodies are nobody here but admins (no review unit yet).
    "not_accept": ({"reason": "court_or_arbitration"}, ("handler",)),
    "return": ({"reason": "not_our_duty"}, ("handler",)),
    "approve_request": ({"request": 1}, ("coordinator", "admin")),
    "decline_request": ({"request": 1, "note": "属于本单位职责"}, ("coordinator", "admin")),
    "transfer": ({"unit": "330100-jt"}, ("coordinator", "admin")),
    "extend": ({"reason": "需要多个部门协调核查"}, ("handler",)),
    "interim": ({"body": "已转交相关科室现场核查，请耐心等待。"}, ("handler",)),
    "sign_off": ({}, ("coordinator", "admin")),
    "decline_sign_off": ({"note": "请补充法律依据"}, ("coordinator", "admin")),
    "urge": ({"note": "请尽快办理"}, ("coordinator", "admin")),
    "follow_up": ({"body": "请问退费什么时候到账？"}, ("author",)),
    "reopen": ({"note": "留言人不满意，重新办理"}, ("coordinator", "admin")),
    "request_review": ({"body": "答复没有回应我的诉求，请求复查。"}, ("author",)),
    "decide_review": ({"body": "经复查，维持原处理意见。", "outcome": "explained"}, ("admin",)),
    "request_rereview": ({"body": "复查意见仍未回应诉求，请求复核。"}, ("author",)),
    "hearing": ({"days": 5}, ("admin",)),
    "decide_rereview": ({"body": "经复核，维持复查意见。", "outcome": "explained"}, ("admin",)),
    "refuse_repeat": ({"earlier": "MS-2026-ZZZZZZ"}, ("coordinator", "admin")),
}
MATRIX[("api.message_action", "POST")] = [
    Rule(
        f"/api/v1/messages/{{code}}/actions/{name}",
        public=expect(403, anonymous=401, **dict.fromkeys(allowed, OK)),
        private=readers_only(dict.fromkeys(allowed, OK), anonymous=401),
        json=body,
        api=True,
        label=name,
    )
    for name, (body, allowed) in _ACTION_RULES.items()
] + [
    Rule(
        "/api/v1/messages/{code}/actions/cosign",
        public=expect(OK, anonymous=401),
        private=expect(404, anonymous=401),
        json={},
        api=True,
        label="cosign",
    )
]


# --- admin: deadline policies, the holiday calendar, the mail outbox (mail engineer) ----------
ADMINS_ONLY = expect(403, anonymous=LOGIN, admin=OK)


def _failed_mail(world) -> dict[str, Any]:
    """A failed outbox row the admin may put back in the queue."""
    from board.extensions import db
    from board.notify.models import MailState, OutgoingMail

    mail = OutgoingMail(
        recipient="someone@example.org", subject="s", body="b", mail_id="<m@x>", kind="test",
        dedupe_key=f"authz:{db.session.query(OutgoingMail).count()}", state=MailState.FAILED,
        attempts=10, next_attempt_at=world_now(), last_error="x", created_at=world_now(),
    )  # fmt: skip
    db.session.add(mail)
    db.session.commit()
    return {"mail_id": mail.id}


def world_now():
    """The matrix's fixed clock."""
    from datetime import datetime

    return datetime(2026, 3, 2, 1, 0, 0)


MATRIX.update(
    {
        ("admin.policies", "GET"): Rule("/admin/deadlines", expect=ADMINS_ONLY),
        ("admin.edit_policy", "GET"): Rule("/admin/deadlines/board_reply_long", expect=ADMINS_ONLY),
        ("admin.edit_policy", "POST"): Rule(
            "/admin/deadlines/board_reply_long",
            expect=ADMINS_ONLY,
            data={"label": "答复（投诉、求助）", "days": "20", "unit": "working"},
        ),
        ("admin.calendar", "GET"): Rule("/admin/calendar", expect=ADMINS_ONLY),
        ("admin.import_year", "POST"): Rule(
            "/admin/calendar/import", expect=ADMINS_ONLY, data={"year": "2027", "source": "file"}
        ),
        ("admin.month", "GET"): Rule("/admin/calendar/2026/10", expect=ADMINS_ONLY),
        ("admin.set_day", "POST"): Rule(
            "/admin/calendar/day",
            expect=ADMINS_ONLY,
            data={"day": "2030-01-02", "is_workday": "0", "note": "测试"},
        ),
        ("admin.units", "GET"): Rule("/admin/units", expect=ADMINS_ONLY),
        ("admin.edit_unit", "GET"): Rule("/admin/units/{unit}", expect=ADMINS_ONLY),
        ("admin.edit_unit", "POST"): Rule(
            "/admin/units/{unit}", expect=ADMINS_ONLY, data={"contact_phone": "0571-87654321"}
        ),
        ("admin.outbox", "GET"): Rule("/admin/mail", expect=ADMINS_ONLY),
        ("admin.retry", "POST"): Rule(
            "/admin/mail/{mail_id}/retry", expect=ADMINS_ONLY, data={}, setup=_failed_mail
        ),
    }
)


# --- following, saved searches, staff search (issue 18) ----------------------------------------
def _saved_search(world) -> dict[str, Any]:
    """A saved search of the author's: its id (for delete) and its feed token."""
    from board.follow import services as follow

    saved = follow.save_search(
        world.user("author"), {"q": "物业", "domain": "urban"}, name="", now=world_now()
    )
    return {"search_id": saved.id, "feed_token": saved.feed_token}


MATRIX.update(
    {
        # Only public messages are followed; a private one is "not there", even to its readers.
        ("follow.follow", "POST"): Rule(
            "/m/{code}/follow",
            public=SIGNED_IN_ONLY,
            private=expect(404, anonymous=LOGIN),
            data={},
        ),
        ("follow.unfollow", "POST"): Rule(
            "/m/{code}/unfollow",
            public=SIGNED_IN_ONLY,
            private=readers_only(dict.fromkeys(PRIVATE_READERS, OK), anonymous=LOGIN),
            data={},
        ),
        ("follow.follows", "GET"): Rule("/account/follows", expect=SIGNED_IN_ONLY),
        ("follow.searches", "GET"): Rule("/account/searches", expect=SIGNED_IN_ONLY),
        ("follow.save_search", "POST"): Rule(
            "/account/searches", expect=SIGNED_IN_ONLY, data={"q": "物业"}
        ),
        ("follow.delete_search", "POST"): Rule(
            "/account/searches/{search_id}/delete",
            expect=expect(404, anonymous=LOGIN, author=OK),
            setup=_saved_search,
            data={},
        ),
        # Anyone holding the feed's token reads it (public, masked data only).
        ("follow.saved_feed", "GET"): Rule(
            "/feeds/saved/{feed_token}.atom", expect=EVERYONE, setup=_saved_search
        ),
        ("casesearch.search", "GET"): Rule(
            "/desk/search?q=物业", expect=expect(403, anonymous=LOGIN, **dict.fromkeys(STAFF, OK))
        ),
    }
)


def _topic(world) -> dict[str, Any]:
    """A topic of the taxonomy (board/intel) to edit or give a message."""
    from board.extensions import db
    from board.intel.models import Topic

    topic = Topic(level=1, name=f"主题{db.session.query(Topic).count()}", sort=0)
    topic.path = topic.name
    db.session.add(topic)
    db.session.commit()
    return {"topic_id": topic.id}


# --- intelligence (board/intel): topics, suggestions, hot issues ------------------------------
TOPIC_SETTERS = expect(403, anonymous=LOGIN, coordinator=OK, handler=OK, moderator=OK, admin=OK)
MATRIX.update(
    {
        ("intel.topics", "GET"): Rule("/admin/topics", expect=ADMINS_ONLY),
        ("intel.topics", "POST"): Rule(
            "/admin/topics", expect=ADMINS_ONLY, data={"name": "新主题"}
        ),
        ("intel.edit_topic", "GET"): Rule(
            "/admin/topics/{topic_id}", expect=ADMINS_ONLY, setup=_topic
        ),
        ("intel.edit_topic", "POST"): Rule(
            "/admin/topics/{topic_id}", expect=ADMINS_ONLY, data={"name": "改名"}, setup=_topic
        ),
        ("intel.toggle_topic", "POST"): Rule(
            "/admin/topics/{topic_id}/active",
            expect=ADMINS_ONLY,
            data={"is_active": "0"},
            setup=_topic,
        ),
        ("intel.correct_topic", "POST"): Rule(
            "/m/{code}/topic",
            public=TOPIC_SETTERS,
            private=readers_only({a: TOPIC_SETTERS[a] for a in PRIVATE_READERS}, anonymous=LOGIN),
            data={"topic": "1"},  # authorization comes before the choice is checked
            setup=_topic,
        ),
        ("api.hot", "GET"): Rule("/api/v1/hot?from=2026-03-01", expect=EVERYONE, api=True),
        ("api.suggest", "POST"): Rule(
            "/api/v1/suggest", expect=EVERYONE, api=True, json={"title": "物业", "body": "停车费"}
        ),
    }
)


# --- admin: accounts, invitations, units, the change log (issue 18) ---------------------------


def _spare_staff(world) -> dict[str, Any]:
    """A handler no other rule uses, for rules that change, disable or sign out an account."""
    from board.auth import services as auth_services
    from board.extensions import db
    from board.models import User

    n = db.session.query(User).count()
    user = auth_services.create_user(
        f"spare{n}@example.org", "handler", password="correct-horse-battery-9",
        unit_code="330100-zj", now=world_now(),
    )  # fmt: skip
    return {"user_id": user.id}


def _invitation(world) -> dict[str, Any]:
    """An open invitation (and its link's token) made by the matrix's admin."""
    from board.admin import services as admin_services
    from board.admin.models import Invitation
    from board.clock import utcnow
    from board.extensions import db
    from board.models import User

    admin = db.session.get(User, world.user_ids["admin"])
    n = db.session.query(Invitation).count()
    # The pages check expiry on the real clock, so the invitation is made on it too.
    invitation, token = admin_services.invite_staff(
        admin, email=f"invitee{n}@example.org", role="moderator", now=utcnow()
    )
    return {"invitation_id": invitation.id, "token": token}


MATRIX.update(
    {
        ("admin.new_unit", "GET"): Rule("/admin/units/new", expect=ADMINS_ONLY),
        ("admin.new_unit", "POST"): Rule(
            "/admin/units/new",
            expect=ADMINS_ONLY,
            data={"code": "330100-mx", "name": "测试单位", "region": "330100"},
        ),
        ("admin.move_staff", "POST"): Rule(
            "/admin/units/{unit}/staff/{user_id}",
            expect=ADMINS_ONLY,
            data={"unit": "330100-jt"},
            setup=_spare_staff,
        ),
        ("admin.users", "GET"): Rule("/admin/users?q=example", expect=ADMINS_ONLY),
        ("admin.invite", "POST"): Rule(
            "/admin/users/invite",
            expect=ADMINS_ONLY,
            data={"email": "matrix-invitee@example.org", "role": "moderator", "unit": ""},
        ),
        ("admin.revoke_invitation", "POST"): Rule(
            "/admin/invitations/{invitation_id}/revoke", expect=ADMINS_ONLY, setup=_invitation
        ),
        ("admin.user", "GET"): Rule(
            "/admin/users/{user_id}", expect=ADMINS_ONLY, setup=_spare_staff
        ),
        ("admin.user", "POST"): Rule(
            "/admin/users/{user_id}",
            expect=ADMINS_ONLY,
            data={"role": "coordinator", "unit": "330100-jt"},
            setup=_spare_staff,
        ),
        ("admin.user_action", "POST"): [
            Rule(
                f"/admin/users/{{user_id}}/{action}",
                expect=ADMINS_ONLY,
                setup=_spare_staff,
                label=action,
            )
            for action in ("sign-out", "disable", "enable")
        ],
        ("audit.changes", "GET"): Rule("/admin/audit?kind=user", expect=ADMINS_ONLY),
        # The invitee has no account: the link's token is the credential. A body that fails
        # validation, so every actor sees the page and the invitation stays open for the next.
        ("invite.accept", "GET"): Rule("/invite/{token}", expect=EVERYONE, setup=_invitation),
        ("invite.accept", "POST"): Rule(
            "/invite/{token}",
            expect=EVERYONE,
            data={"pen_name": "新同事", "password": "long-enough-pass-1", "confirm": "other"},
            setup=_invitation,
        ),
    }
)

MATRIX.update(
    {
        ("admin.boards", "GET"): Rule("/admin/boards?region=330100", expect=ADMINS_ONLY),
        ("admin.new_board", "POST"): Rule(
            "/admin/boards",
            expect=ADMINS_ONLY,
            data={
                "region": "330100",
                "post": "department",
                "code": "330100-mx",
                "title": "测试局",
                "office": "330100-zj",
            },
        ),  # fmt: skip
        ("admin.board", "GET"): Rule("/admin/boards/{board}", expect=ADMINS_ONLY),
        ("admin.board", "POST"): Rule(
            "/admin/boards/{board}",
            expect=ADMINS_ONLY,
            data={"holder_name": "测试", "started_on": "2026-01-05"},
        ),
    }
)

MATRIX.update(
    {
        ("admin.reason_codes", "GET"): Rule("/admin/reason-codes", expect=ADMINS_ONLY),
        ("admin.reason_codes", "POST"): Rule(
            "/admin/reason-codes",
            expect=ADMINS_ONLY,
            data={
                "use": "hide",
                "slug": "matrix_reason",
                "label": "测试",
                "label_en": "Test",
                "sort": "50",
            },
        ),  # fmt: skip
        ("admin.edit_reason_code", "GET"): Rule(
            "/admin/reason-codes/hide:privacy_leak", expect=ADMINS_ONLY
        ),
        ("admin.edit_reason_code", "POST"): Rule(
            "/admin/reason-codes/hide:privacy_leak",
            expect=ADMINS_ONLY,
            data={
                "label": "公开内容涉及个人隐私",
                "label_en": "Public text exposes private data",
                "sort": "5",
            },
        ),
        # Retiring a code other rules give would change what they see: restore is a no-op here.
        ("admin.retire_reason_code", "POST"): Rule(
            "/admin/reason-codes/hide:privacy_leak/restore", expect=ADMINS_ONLY
        ),
    }
)

MATRIX.update(
    {
        ("admin.regions", "GET"): Rule("/admin/regions?q=3301", expect=ADMINS_ONLY),
        ("admin.region", "GET"): Rule("/admin/regions/{region}", expect=ADMINS_ONLY),
        # An unchanged name: the admin is let through to the form's answer (422), nothing moves.
        ("admin.region", "POST"): Rule(
            "/admin/regions/{region}",
            expect=ADMINS_ONLY,
            data={"name": "西湖区", "changed_on": "2026-09-01"},
        ),
    }
)

# The account routes (tests/authz_accounts.py).
from authz_accounts import ACCOUNT_RULES  # noqa: E402

MATRIX.update(ACCOUNT_RULES)

MATRIX.update(
    {
        ("api.list_follows", "GET"): Rule(
            "/api/v1/follows", expect=expect(OK, anonymous=401), api=True
        ),
        ("api.follow_message", "PUT"): Rule(
            "/api/v1/messages/{code}/follow",
            public=expect(OK, anonymous=401),
            private=expect(404, anonymous=401),
            json={},
            api=True,
        ),
        ("api.unfollow_message", "DELETE"): Rule(
            "/api/v1/messages/{code}/follow",
            public=expect(OK, anonymous=401),
            private=expect(404, anonymous=401, **dict.fromkeys(PRIVATE_READERS, OK)),
            json={},
            api=True,
        ),
    }
)

# Merging regions (board/admin/services/region_merge.py): into itself, so the admin is let
# through to the form's answer (422) and nothing moves.
MATRIX[("admin.merge_region", "POST")] = Rule(
    "/admin/regions/{region}/merge",
    expect=ADMINS_ONLY,
    data={"into": "330106", "merged_on": "2026-09-01"},
)


# --- duplicates merged or linked from the desk (issue 19) -------------------------------------
DUPLICATE_JOINERS = expect(403, anonymous=LOGIN, coordinator=OK, admin=OK)
MATRIX.update(
    {
        ("intel.join_duplicate", "POST"): Rule(
            "/m/{code}/duplicates",
            public=DUPLICATE_JOINERS,
            private=readers_only(
                {a: DUPLICATE_JOINERS[a] for a in PRIVATE_READERS}, anonymous=LOGIN
            ),
            # Authorization comes first; an unknown message to join is then a flashed error.
            data={"other": "MS-0000-NONE00", "kind": "link"},
        ),
    }
)

# Signing out everywhere ends every actor's session: it is tried last, whatever was added after
# the account rules (dicts keep insertion order).
MATRIX[("auth.end_all_sessions", "POST")] = MATRIX.pop(("auth.end_all_sessions", "POST"))
