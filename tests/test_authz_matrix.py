"""Every route × every role × owner or not × public or private message, from tests/authz_matrix.py."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from authz_matrix import ACTORS, LOGIN, MATRIX, OK, Rule
from conftest import MINI_REGIONS, PASSWORD, T0, _databases, empty_schema, make_test_app
from PIL import Image
from sqlalchemy import func, select

from board.api.actions import ACTIONS
from board.attachments import services as attachments
from board.attachments.models import Attachment, AttachmentBlob
from board.auth import services as auth_services
from board.extensions import db
from board.messages import services as msg
from board.models import ApiToken, Board, Region, Role, Unit, User
from board.moderation.models import SensitiveWord
from board.seed.directory import ensure_boards, load_regions
from board.seed.reference import seed_reason_codes

UNITS = [
    ("330100-zj", "杭州市住房和城乡建设局", "330100"),
    ("330100-jt", "杭州市交通运输局", "330100"),
    ("330106-zj", "西湖区住房和城乡建设局", "330106"),
    ("440100-zj", "广州市住房和城乡建设局", "440100"),
]
ROLES = {
    "author": (Role.CITIZEN, None),
    "other_citizen": (Role.CITIZEN, None),
    "handler": (Role.HANDLER, "330100-zj"),
    "other_handler": (Role.HANDLER, "330100-jt"),
    "coordinator": (Role.COORDINATOR, "330100-secretary-office"),
    "other_coordinator": (Role.COORDINATOR, "440100-secretary-office"),
    "moderator": (Role.MODERATOR, None),
    "admin": (Role.ADMIN, None),
}
PLACES = {"board": "330100-secretary", "unit": "330100-zj", "region": "330106"}


def _rules() -> list[tuple[str, str, Rule]]:
    """Every (endpoint, method, rule) of the matrix, flattened."""
    flat = []
    for (endpoint, method), entry in MATRIX.items():
        for rule in entry if isinstance(entry, list) else [entry]:
            flat.append((endpoint, method, rule))
    return flat


def _rule_id(item: tuple[str, str, Rule]) -> str:
    endpoint, method, rule = item
    return f"{endpoint}:{method}" + (f":{rule.label}" if rule.label else "")


class World:
    """One database with every actor signed in on a client of their own and holding a token."""

    def __init__(self, app):
        self.app = app
        self.user_ids: dict[str, int] = {}
        self.tokens: dict[str, str] = {}
        for name, (role, unit_code) in ROLES.items():
            user = auth_services.create_user(
                f"{name}@example.org", role, password=PASSWORD, pen_name=name,
                unit_code=unit_code, now=T0,
            )  # fmt: skip
            db.session.commit()
            self.user_ids[name] = user.id
            self.tokens[name] = auth_services.issue_token(user, name="matrix", now=T0)
        self.clients = {"anonymous": app.test_client()}
        for name in self.user_ids:
            self.clients[name] = self.signed_in(name)
        self.api_client = app.test_client()

    def signed_in(self, name: str):
        """A new client with `name` signed in through the real login form."""
        client = self.app.test_client()
        if name != "anonymous":
            response = client.post(
                "/login", data={"email": f"{name}@example.org", "password": PASSWORD}
            )
            assert response.status_code == 302, name
        return client

    def attachment(self, message, *, is_public: bool) -> str:
        """Store a small PNG on the message and return its stored name."""
        image = Image.new("RGB", (4, 4), "red")
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        prepared = attachments.prepare("a.png", buffer.getvalue())
        stored = attachments.random_name(prepared.extension)
        db.session.add(
            Attachment(
                message_id=message.id, uploader_id=message.author_id, kind=prepared.kind,
                content_type=prepared.content_type, is_public=is_public, stored_name=stored,
                original_name=prepared.original_name, size=len(prepared.data),
                sha256=prepared.sha256, width=4, height=4, created_at=T0,
                blob=AttachmentBlob(data=prepared.data),
            )
        )  # fmt: skip
        db.session.commit()
        return stored

    def sensitive_word_id(self) -> int:
        """A fresh word on the sensitive-word list, for rules that delete one."""
        word = SensitiveWord(word=f"词{db.session.scalar(select(func.count(SensitiveWord.id)))}",
                             created_at=T0)  # fmt: skip
        db.session.add(word)
        db.session.commit()
        return word.id

    def user(self, name: str) -> User:
        """The actor's row, loaded in the current session."""
        return db.session.get(User, self.user_ids[name])

    def spare_token_id(self, name: str) -> int:
        """The id of a new token of `name`'s, for rules that revoke one."""
        auth_services.issue_token(self.user(name), name="spare", now=T0)
        return db.session.scalars(
            select(ApiToken.id)
            .where(ApiToken.user_id == self.user_ids[name])
            .order_by(ApiToken.id.desc())
        ).first()

    def message(self, state: str, *, public: bool):
        """A fresh message by `author` on the coordinator's board, brought to `state`."""
        board = db.session.scalar(select(Board).where(Board.code == PLACES["board"]))
        m = msg.submit_message(
            self.user("author"),
            board=board,
            region=db.session.get(Region, PLACES["region"]),
            track="board",
            kind="complaint",
            domain="urban",
            title="小区物业乱收停车费",
            body="我们小区物业今年起每月多收停车管理费两百元，没有任何公示。",
            wants_public=public,
            now=T0,
        )
        if state == "submitted":
            return m
        msg.approve_message(m, self.user("moderator"), now=T0 + timedelta(hours=1))
        if state == "received":
            return m
        unit = db.session.scalar(select(Unit).where(Unit.code == PLACES["unit"]))
        msg.assign_message(m, unit, self.user("coordinator"), now=T0 + timedelta(hours=2))
        assert state == "assigned", state
        return m


@pytest.fixture(scope="module", params=_databases())
def world(request, tmp_path_factory):
    """The actors and the directory, built once per database for the whole matrix."""
    tmp = tmp_path_factory.mktemp(f"authz-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'matrix.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    app = make_test_app(url, tmp)
    with app.app_context():
        empty_schema(url)
        load_regions(MINI_REGIONS)
        ensure_boards()
        seed_reason_codes()
        for code, name, region in UNITS:
            db.session.add(Unit(code=code, name=name, region_code=region))
        db.session.commit()
        yield World(app)
        db.session.remove()
        db.engine.dispose()


def outcome(response) -> object:
    """What an actor got, in the matrix's vocabulary."""
    status = response.status_code
    if status >= 500:
        return status
    if 300 <= status < 400 and "/login" in response.headers.get("Location", ""):
        return LOGIN
    if status in (401, 403, 404, 405, 410):
        return status
    return OK


def _try(world: World, method: str, rule: Rule, actor: str, values: dict) -> object:
    """Send the rule's request as `actor` and classify the answer."""
    path = rule.path.format(**values)
    headers = {}
    if rule.api:
        client = world.api_client
        if actor != "anonymous":
            headers["Authorization"] = f"Bearer {world.tokens[actor]}"
    elif rule.fresh_session:
        client = world.signed_in(actor)
    else:
        client = world.clients[actor]
    kwargs = {"headers": headers}
    if rule.json is not None:
        kwargs["json"] = rule.json
    elif rule.data is not None:
        kwargs["data"] = rule.data
    db.session.remove()  # each request starts from the database, not from this test's session
    response = client.open(path, method=method, **kwargs)
    db.session.remove()
    return outcome(response)


def _refused_first(expected: dict) -> list[str]:
    """Actors expected to be refused go before those allowed (allowed ones may change state)."""
    return sorted(ACTORS, key=lambda a: expected[a] == OK)


@pytest.mark.parametrize("item", _rules(), ids=_rule_id)
def test_route_answers_each_actor_as_the_matrix_says(world, item):
    """Every actor gets exactly the matrix's outcome, on public and private messages alike."""
    endpoint, method, rule = item
    values = dict(PLACES)
    if rule.setup:
        values.update(rule.setup(world))
    cases = []
    if rule.expect is not None:
        cases.append(("-", rule.expect, values))
    for variant, expected in (("public", rule.public), ("private", rule.private)):
        if expected is not None:
            m = world.message(rule.state, public=variant == "public")
            assert m.is_public is (variant == "public") or rule.state == "submitted"
            more = rule.per_message(world, m) if rule.per_message else {}
            cases.append((variant, expected, {**values, **more, "code": m.code}))
    assert cases, f"{endpoint} {method}: the entry gives no expectation"
    wrong = []
    for variant, expected, fill in cases:
        assert set(expected) == set(ACTORS), f"{endpoint}: expected outcomes for every actor"
        for actor in _refused_first(expected):
            got = _try(world, method, rule, actor, fill)
            if got != expected[actor]:
                wrong.append(f"{variant} message, {actor}: expected {expected[actor]}, got {got}")
    assert not wrong, f"{method} {rule.path}:\n  " + "\n  ".join(wrong)


def test_every_route_and_api_action_has_a_matrix_entry(tmp_path):
    """A new route (or API action) without an entry in tests/authz_matrix.py fails here, by name."""
    app = make_test_app("sqlite://", tmp_path)
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = sorted(routes - set(MATRIX))
    assert not missing, "routes without an entry in tests/authz_matrix.py: " + ", ".join(
        f"{endpoint} {method} ({_path(app, endpoint)})" for endpoint, method in missing
    )
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"entries in tests/authz_matrix.py for routes that no longer exist: {stale}"
    covered = {r.label for r in MATRIX[("api.message_action", "POST")]}
    missing_actions = sorted(set(ACTIONS) - covered)
    assert not missing_actions, (
        "API actions without a rule under ('api.message_action', 'POST') in "
        f"tests/authz_matrix.py: {missing_actions}"
    )


def _path(app, endpoint: str) -> str:
    return ", ".join(r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint)
