"""Fixtures: an app per test on a throwaway SQLite or PostgreSQL database, factories, login."""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from flask import g
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import Table, select, text
from sqlalchemy.util import LRUCache

from board import create_app
from board.auth import services as auth_services
from board.extensions import db
from board.messages import services as msg
from board.models import Board, Domain, Kind, Message, Region, Role, Track, Unit, User
from board.seed.directory import ensure_boards, load_regions
from board.seed.reference import seed_reason_codes

T = TypeVar("T")

PASSWORD = "correct-horse-battery-9"
# A fixed clock for tests: services take `now=`, nothing reads the real time.
T0 = datetime(2026, 3, 2, 1, 0, 0)  # 2026-03-02 09:00 Beijing, a Monday

MINI_REGIONS = [
    ("330000", "浙江省", "province", None),
    ("330100", "杭州市", "city", "330000"),
    ("330106", "西湖区", "county", "330100"),
    ("330127", "淳安县", "county", "330100"),
    ("330200", "宁波市", "city", "330000"),
    ("330203", "海曙区", "county", "330200"),
    ("440000", "广东省", "province", None),
    ("440100", "广州市", "city", "440000"),
    ("440106", "天河区", "county", "440100"),
]


def _share_url_builders() -> None:
    """Every test makes its own app, and every app compiles a URL builder for each of its ~125
    routes (Python source built and compiled per rule: 0.2-0.4 s an app, a tenth of a short
    test). The builder Werkzeug compiles depends only on the rule's text, its parts and the names
    of its defaults, so a builder compiled once is shared by the same rule in every later app.
    Rules whose defaults fill in a part of the URL are compiled as before."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    builders: dict = {}

    def shared(self, append_unknown: bool = True):
        defaults = self.defaults or {}
        if any(dynamic and part in defaults for dynamic, part in self._trace):
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), tuple(defaults), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = shared


_share_url_builders()


class _SharedTemplateCode(BytecodeCache):
    """Every test makes its own app, and every app's Jinja environment parses and compiles each
    template it renders again (Python source generated and compiled: about a fifth of a page
    test's time). The compiled code depends only on the template's source and the
    environment's settings, so code compiled once is handed to every later app with the same
    settings; a changed source (another checksum) is compiled again. Code objects are
    immutable: nothing a test does to one app reaches another."""

    def __init__(self) -> None:
        self.codes: dict[str, tuple[str, object]] = {}

    def get_bucket(self, environment, name, filename, source) -> Bucket:
        settings = (
            environment.block_start_string,
            environment.block_end_string,
            environment.variable_start_string,
            environment.variable_end_string,
            environment.comment_start_string,
            environment.comment_end_string,
            environment.line_statement_prefix,
            environment.line_comment_prefix,
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.newline_sequence,
            environment.keep_trailing_newline,
            environment.optimized,
            environment.is_async,
            getattr(environment.autoescape, "__qualname__", environment.autoescape),
            tuple(sorted(environment.extensions)),
            tuple(sorted(environment.filters)),
            tuple(sorted(environment.tests)),
        )
        key = f"{self.get_cache_key(name, filename)}|{hash(settings)}"
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self.codes.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.codes[bucket.key] = (bucket.checksum, bucket.code)


_TEMPLATE_CODE = _SharedTemplateCode()


class _SharedCompiledSQL:
    """Every test makes its own app, so its own engine and dialect, and SQLAlchemy keys its
    compiled statements by the dialect object: each test compiled every statement it ran again
    (the ORM's flushes, the pages' queries, the statistics upserts: about a fifth of a workflow
    test's time). The SQL a statement compiles to depends only on the statement and on the
    dialect's kind and settings, so statements compiled for one test's dialect are handed to
    any later dialect of the same kind and settings (below); a different server version or
    setting compiles its own."""

    def __init__(self, capacity: int = 5000) -> None:
        self.compiled = LRUCache(capacity)  # the engines' own caches hold 500 each

    @staticmethod
    def _key(key: tuple) -> tuple:
        dialect, *rest = key
        settings = (
            type(dialect),
            dialect.server_version_info,
            dialect.paramstyle,
            dialect.positional,
            dialect.label_length,
            dialect.max_identifier_length,
            dialect.use_insertmanyvalues,
            dialect.insertmanyvalues_page_size,
            dialect.supports_native_boolean,
            dialect.supports_native_decimal,
            getattr(dialect, "_json_serializer", None),
            getattr(dialect, "_json_deserializer", None),
            getattr(dialect, "native_datetime", None),
        )
        return (settings, *rest)

    def get(self, key: tuple, default=None):
        return self.compiled.get(self._key(key), default)

    def __setitem__(self, key: tuple, value) -> None:
        self.compiled[self._key(key)] = value


_COMPILED_SQL = _SharedCompiledSQL()


def _share_compiled_sql(app) -> None:
    """Point the app's engines, and the ORM's statement caches, at the shared compiled SQL."""
    with app.app_context():
        for engine in db.engines.values():
            engine.update_execution_options(compiled_cache=_COMPILED_SQL)
    for mapper in db.Model.registry.mappers:
        # The ORM's flushes pass each mapper's own cache (a memoized property) explicitly.
        mapper.base_mapper.__dict__["_compiled_cache"] = _COMPILED_SQL


def _admin_url(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


def _postgres_base() -> str | None:
    """The PostgreSQL server to test against, or None when none answers."""
    url = os.environ.get("BOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        with psycopg.connect(url, connect_timeout=3):
            return url
    except psycopg.Error:
        return None


def _databases() -> list[str]:
    wanted = os.environ.get("BOARD_TEST_DATABASES", "sqlite,postgres").split(",")
    return [d.strip() for d in wanted if d.strip()]


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database created for this test run and dropped at its end."""
    base = _postgres_base()
    if base is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 in CI")
        pytest.skip("no PostgreSQL server reachable")
    name = f"minsheng_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # A throwaway database need not wait for the disk on every commit (a crash of the server
        # may lose the last commits, which the run drops anyway); what a commit means to the
        # other sessions -- visibility, locks, constraints -- is unchanged.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = _admin_url(base, name).replace("postgresql://", "postgresql+psycopg://", 1)
    schema_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with schema_app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=_databases())
def database(request, tmp_path):
    """The URL of an empty database: a temp SQLite file, or the run's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    raise ValueError(request.param)


def make_test_app(database: str, tmp_path, **overrides):
    """An app on `database` with its own index directory and mail folder."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",  # fresh counters per app
        # scrypt costs ~0.1 s a hash; every test makes several users. Production keeps scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SERVER_NAME": "localhost",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        # Figures exact on every request (tests change data and look at once); the reuse bound
        # has its own test (test_page_cache.py).
        "STATS_REUSE_SECONDS": 0,
        # The outbox is applied when a search next reads the index, not after every commit:
        # one index write for all of a test's setup instead of one per workflow step (about a
        # third of the suite's time went on those). Tests of the inline path turn it off.
        "SEARCH_APPLY_ON_READ": True,
    }
    config.update(overrides)
    app = create_app(config)
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    _share_compiled_sql(app)

    # The test's app context outlives each request, and `g` with it: forget the signed-in user
    # before every request, as a fresh context does in production, so each client is itself.
    # Also forget the CSRF token and the language chosen for the previous request. First of
    # all before_request functions: the page cache asks who is signed in before a view.
    def _forget_user() -> None:
        for name in ("_login_user", "csrf_token", "_flask_babel"):
            g.pop(name, None)

    app.before_request_funcs.setdefault(None, []).insert(0, _forget_user)

    return app


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory):
    """A SQLite file holding the empty schema, made once per test process and copied per test
    (copying the file is about a hundred times quicker than creating the tables again)."""
    tmp = tmp_path_factory.mktemp("schema")
    path = tmp / "schema.sqlite"
    schema_app = make_test_app(f"sqlite:///{path}", tmp)
    with schema_app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


def empty_schema(database: str, template=None) -> None:
    """Make the current app's database an empty schema with fresh ids: a copy of `template` (or
    the tables created) on SQLite; every row deleted and every sequence restarted on PostgreSQL.

    DELETE rather than TRUNCATE: a test leaves a few rows behind, and TRUNCATE writes new files
    for all 37 tables (about 1.5 s a test), DELETE only touches the rows there are."""
    if database.startswith("sqlite"):
        path = database.removeprefix("sqlite:///")
        if template is not None and not os.path.exists(path):
            db.engine.dispose()
            shutil.copyfile(template, path)
        else:
            db.create_all()
        return
    db.session.execute(text(";\n".join(_empty_statements())))
    db.session.commit()


def _empty_statements() -> list[str]:
    """DELETE from every table (children first), then every sequence owned by a column
    restarted: RESTART IDENTITY's set."""
    statements = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]
    statements.append(
        "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s"
        " JOIN pg_depend d ON d.objid = s.seqrelid AND d.classid = 'pg_class'::regclass"
        " AND d.deptype IN ('a', 'i')"
    )
    return statements


_SETVAL = "SELECT setval('{}', {}, true)"


def prepare_database(app, database: str, request) -> None:
    """Give the current app's database a fresh start: the empty schema, or the `directory`
    fixture's rows already in when the test asks for that fixture (a copy of a database loaded
    once per test process: a file on SQLite, a snapshot of rows on PostgreSQL)."""
    sqlite = database.startswith("sqlite")
    with_directory = "directory" in request.fixturenames
    if sqlite:
        name = "sqlite_directory" if with_directory else "sqlite_schema"
        empty_schema(database, request.getfixturevalue(name))
    elif with_directory:
        restore_snapshot(request.getfixturevalue("postgres_directory"))
    else:
        empty_schema(database)
    if with_directory:
        app.extensions[DIRECTORY_LOADED] = True


@pytest.fixture
def app(database, tmp_path, request):
    """A fresh app per test on a fresh database (see `prepare_database`)."""
    overrides = {}
    if request.node.get_closest_marker("inline_index"):
        overrides["SEARCH_APPLY_ON_READ"] = False  # what the index holds right after a commit
    app = make_test_app(database, tmp_path, **overrides)
    with app.app_context():
        prepare_database(app, database, request)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for the app's commands."""
    return app.test_cli_runner()


UNITS = [
    ("330100-zj", "杭州市住房和城乡建设局", "330100"),
    ("330100-jt", "杭州市交通运输局", "330100"),
    ("330106-zj", "西湖区住房和城乡建设局", "330106"),
    ("330000-jy", "浙江省教育厅", "330000"),
    ("440100-zj", "广州市住房和城乡建设局", "440100"),
]

# Set on an app whose database the `app` fixture filled with the directory's rows already.
DIRECTORY_LOADED = "tests.directory_loaded"


def load_directory() -> None:
    """The `directory` fixture's rows, loaded through the real seeding services."""
    load_regions(MINI_REGIONS)
    ensure_boards()
    seed_reason_codes()
    for code, name, region in UNITS:
        db.session.add(Unit(code=code, name=name, region_code=region))
    db.session.commit()


@pytest.fixture(scope="session")
def sqlite_directory(sqlite_schema, tmp_path_factory):
    """The empty schema with the directory loaded (once per test process, copied per test)."""
    tmp = tmp_path_factory.mktemp("directory")
    path = tmp / "directory.sqlite"
    shutil.copyfile(sqlite_schema, path)
    loader = make_test_app(f"sqlite:///{path}", tmp)
    with loader.app_context():
        load_directory()
        db.session.remove()
        db.engine.dispose()
    return path


@dataclass(frozen=True)
class Snapshot:
    """Every row of a database and, on PostgreSQL, its sequences' positions."""

    rows: list[tuple[Table, list[dict]]]
    sequences: list[tuple[str, int]]


@pytest.fixture(scope="session")
def postgres_directory(postgres_url, tmp_path_factory):
    """The rows `empty_schema` then `load_directory` leave in the run's PostgreSQL database,
    taken once per test process and put back per test by `restore_snapshot` (a few INSERTs
    instead of the seeding services' hundred-odd statements)."""
    loader = make_test_app(postgres_url, tmp_path_factory.mktemp("directory"))
    with loader.app_context():
        empty_schema(postgres_url)
        load_directory()
        snapshot = take_snapshot()
        db.session.remove()
        db.engine.dispose()
    return snapshot


def take_snapshot() -> Snapshot:
    """Every row of the current app's database, and on PostgreSQL its sequences' positions
    (SQLite hands out the next id after the highest row, so its rows are enough)."""
    db.session.commit()
    connection = db.session.connection()
    rows = []
    for table in db.metadata.sorted_tables:
        found = [dict(r) for r in connection.execute(select(table)).mappings()]
        if found:
            rows.append((table, found))
    sequences = []
    if connection.dialect.name == "postgresql":
        sequences = connection.execute(
            text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value"
                " FROM pg_sequences WHERE last_value IS NOT NULL"
            )
        ).all()
    db.session.commit()
    return Snapshot(rows, [tuple(s) for s in sequences])


def restore_snapshot(snapshot: Snapshot) -> None:
    """Make the current app's database hold exactly `snapshot`: every row deleted (on
    PostgreSQL by `empty_schema`'s statements, sequences restarted), the rows inserted with their ids, each sequence where it was. Core statements on the
    session's connection: no session hook sees them (so no content version is added that the
    snapshot does not hold). Objects the session holds are expired and read back by their ids."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        statements = [
            *_empty_statements(),
            *(_SETVAL.format(name, n) for name, n in snapshot.sequences),
        ]
        connection.exec_driver_sql(";\n".join(statements))
    else:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    for table, rows in snapshot.rows:
        connection.execute(table.insert(), rows)
    db.session.commit()


# Worlds built once per test process and database by `world` (see there).
_WORLDS: dict[tuple[str, str], tuple[Snapshot, Path | None, object]] = {}


def world(name: str, database: str, tmp_path_factory, build: Callable[[], T]) -> T:
    """A test world built through the real services by the first test of the process that
    asks for `name` on this database, and put back for each later one: every row
    (`restore_snapshot`) and a copy of the search index folder. `build` returns what the tests
    need to find it again (ids, counts; not ORM objects, which belong to one test's session).

    The fixtures the world's fixture asks for (users, the directory) run before it in every
    test, in the same order, so their rows get the same ids each time and the snapshot's rows
    replace them one for one."""
    from board.search import index

    kind = "sqlite" if database.startswith("sqlite") else "postgres"
    root = index.index_root()
    if (name, kind) in _WORLDS:
        snapshot, saved, value = _WORLDS[name, kind]
        made = set(db.session.execute(select(User.id, User.email)).all())
        kept = {
            (row["id"], row["email"])
            for table, rows in snapshot.rows
            if table is User.__table__
            for row in rows
        }
        assert made <= kept, (
            f"world {name!r}: accounts {sorted(made - kept)} made before it are not in it (a"
            " fixture the first test did not ask for ran first: ask for the world's fixture"
            " before it, or build those accounts inside the world)"
        )
        index.close_searcher()
        restore_snapshot(snapshot)
        shutil.rmtree(root, ignore_errors=True)
        if saved is not None:
            shutil.copytree(saved, root, symlinks=True)
        return value  # type: ignore[return-value]
    value = build()
    saved = None
    if root.exists():
        saved = tmp_path_factory.mktemp(f"{name}-{kind}") / "search_index"
        shutil.copytree(root, saved, symlinks=True)
    _WORLDS[name, kind] = (take_snapshot(), saved, value)
    return value


def world_messages(
    name: str, database: str, tmp_path_factory, build: Callable[[], dict[str, Message]]
) -> dict[str, Message]:
    """`world` for messages by name: `build` makes them through the services once per process
    and database; every test gets them read back in its own session."""
    ids = world(name, database, tmp_path_factory, lambda: {k: m.id for k, m in build().items()})
    return {key: db.session.get(Message, i) for key, i in ids.items()}


@pytest.fixture
def directory(app):
    """A small real directory: Zhejiang and Guangdong with cities, counties, boards and units.

    The conftest `app` loads it before the test (a copy of a loaded database: see `app`); an
    app from elsewhere gets it loaded here."""
    if not app.extensions.get(DIRECTORY_LOADED):
        load_directory()
    return {
        "province": db.session.get(Region, "330000"),
        "city": db.session.get(Region, "330100"),
        "county": db.session.get(Region, "330106"),
        "other_city": db.session.get(Region, "440100"),
    }


def board(code: str) -> Board:
    """The board with this code."""
    return db.session.scalar(select(Board).where(Board.code == code))


def unit(code: str) -> Unit:
    """The unit with this code."""
    return db.session.scalar(select(Unit).where(Unit.code == code))


@pytest.fixture
def make_user(app):
    """Factory: a user of a role (handlers and coordinators need a unit code)."""
    counter = iter(range(1, 10_000))

    def make(role: str = Role.CITIZEN, unit_code: str | None = None, **fields) -> User:
        n = next(counter)
        email = fields.pop("email", f"{role}{n}@example.org")
        user = auth_services.create_user(
            email,
            role,
            password=PASSWORD,
            pen_name=fields.pop("pen_name", f"{role}{n}"),
            unit_code=unit_code,
            now=T0,
        )
        for key, value in fields.items():
            setattr(user, key, value)
        db.session.commit()
        return user

    return make


@pytest.fixture
def citizen(make_user, directory):
    """A citizen with a profile."""
    return make_user(Role.CITIZEN, pen_name="陈明", real_name="陈明亮", phone="13912345678")


@pytest.fixture
def troll(make_user, directory):
    """Another citizen who tries what they should not."""
    return make_user(Role.CITIZEN, pen_name="路人甲")


@pytest.fixture
def moderator(make_user, directory):
    """A platform moderator."""
    return make_user(Role.MODERATOR)


@pytest.fixture
def coordinator(make_user, directory):
    """The coordinator of the 杭州市委书记 board's office."""
    return make_user(Role.COORDINATOR, unit_code="330100-secretary-office")


@pytest.fixture
def handler(make_user, directory):
    """A handler at 杭州市住房和城乡建设局."""
    return make_user(Role.HANDLER, unit_code="330100-zj")


@pytest.fixture
def admin(make_user, directory):
    """A platform admin."""
    return make_user(Role.ADMIN)


@pytest.fixture
def make_message(directory, citizen, moderator, coordinator, handler):
    """Factory: a message on 杭州市委书记 brought to `state` through the real services."""

    def make(
        state: str = "submitted",
        *,
        author: User | None = None,
        title: str = "小区物业乱收停车费",
        body: str = "我们小区物业今年起每月多收停车管理费两百元，没有任何公示，业主多次反映无果。",
        track: str = Track.BOARD,
        kind: str = Kind.COMPLAINT,
        domain: str = Domain.URBAN,
        wants_public: bool = True,
        private_note: str = "",
        board_code: str = "330100-secretary",
        region_code: str = "330106",
        now: datetime = T0,
        **extra,
    ):
        author = author or citizen
        m = msg.submit_message(
            author,
            board=board(board_code),
            region=db.session.get(Region, region_code),
            track=track,
            kind=kind,
            domain=domain,
            title=title,
            body=body,
            private_note=private_note,
            wants_public=wants_public,
            now=now,
            **extra,
        )
        if state == "submitted":
            return m
        if state == "withdrawn":
            return msg.withdraw_message(m, author, now=now + timedelta(minutes=30))
        if state == "rejected":
            return msg.reject_message(m, moderator, reason="unclear", now=now + timedelta(hours=1))
        msg.approve_message(m, moderator, now=now + timedelta(hours=1))
        if state in ("approved", "received"):
            return m
        msg.assign_message(m, unit("330100-zj"), coordinator, now=now + timedelta(hours=2))
        if state == "assigned":
            return m
        petition = track == Track.PETITION
        if state == "not_accepted":
            assert petition, "only a petition can be not accepted"
            return msg.not_accept_message(
                m,
                handler,
                reason="not_accept:court_or_arbitration",
                now=now + timedelta(hours=3),
            )
        msg.accept_message(m, handler, now=now + timedelta(hours=3))
        if state == "in_progress":
            return m
        msg.reply_message(
            m,
            handler,
            body="经核查，该小区停车收费未经备案，已责令物业公司退还多收费用。",
            outcome="explained" if petition else None,
            now=now + timedelta(days=3),
        )
        msg.sign_off_reply(m, coordinator, now=now + timedelta(days=3, hours=1))
        if state == "replied":
            return m
        if state in ("closed", "reopened") and not petition:
            unhappy = state == "reopened"
            msg.rate_message(
                m,
                author,
                resolution=1 if unhappy else 5,
                attitude=2 if unhappy else 5,
                speed=1 if unhappy else 4,
                comment="没有解决" if unhappy else "满意",
                now=now + timedelta(days=4),
            )
            if state == "closed":
                return m
            return msg.reopen_message(
                m, coordinator, note="留言人不满意，责成重新办理。", now=now + timedelta(days=5)
            )
        assert petition, f"{state} is not reachable on the board track"
        if state == "closed":
            msg.close_lapsed_messages(now + timedelta(days=45))
            db.session.refresh(m)
            return m
        msg.request_review(
            m, author, body="答复没有回应我的诉求，请求上一级复查。", now=now + timedelta(days=5)
        )
        if state == "review_requested":
            return m
        reviewer = _review_coordinator(m)
        msg.decide_review(
            m,
            reviewer,
            body="经复查，原处理意见认定事实清楚，予以维持。",
            outcome="not_supported",
            now=now + timedelta(days=10),
        )
        if state == "reviewed":
            return m
        msg.request_rereview(
            m, author, body="复查意见仍未回应我的诉求，请求复核。", now=now + timedelta(days=12)
        )
        if state == "rereview_requested":
            return m
        assert state == "rereviewed", state
        return msg.decide_rereview(
            m,
            _review_coordinator(m),
            body="经复核，维持复查意见，本事项复核终结。",
            outcome="not_supported",
            now=now + timedelta(days=20),
        )

    reviewers: dict[int, User] = {}

    def _review_coordinator(m) -> User:
        """A coordinator of the message's current review unit (made once per unit)."""
        unit_id = m.review_unit_id
        if unit_id not in reviewers:
            code = m.review_unit.code
            reviewers[unit_id] = auth_services.create_user(
                f"reviewer-{code}@example.org",
                Role.COORDINATOR,
                password=PASSWORD,
                pen_name=f"复查{code}",
                unit_code=code,
                now=T0,
            )
            db.session.commit()
        return reviewers[unit_id]

    return make


def login(client, user: User, password: str = PASSWORD):
    """Sign `user` in through the real login form."""
    response = client.post(
        "/login", data={"email": user.email, "password": password}, follow_redirects=False
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return response


def pytest_collection_modifyitems(config, items):
    """Order the suite for the xdist workers (`--dist loadfile` in setup.cfg: a module's tests
    run in one process, so a module-scoped site, browser or authorization world is made once).

    Modules are handed out in the order of their first test (`--no-loadscope-reorder` in
    setup.cfg: otherwise xdist hands out the modules with the most tests first, and the
    few-test browser and fault modules, tens of seconds a test, came last, one worker running
    them while the other had finished). So the order is the longest first: the modules in
    HEAVIEST, the other slow modules (a gunicorn site, a browser), then the rest by their number
    of tests. Neither worker is left with one long module after the other has finished.
    (`--dist loadgroup` would split modules finer, but it does not group on pytest 9.2:
    pytest-xdist issue #1386.)"""
    size = Counter(item.module.__name__ for item in items)
    first = {name: n for n, name in enumerate(HEAVIEST)}

    def order(item) -> tuple:  # a stable sort: each module's own order is kept
        name = item.module.__name__
        rank = first.get(name, len(HEAVIEST))
        return rank, item.get_closest_marker("slow") is None, -size[name], name

    items.sort(key=order)


# The longest modules of all (minutes each under load, in the order of the durations of a whole
# run): started before anything else, longest first.
HEAVIEST = ["test_search_scale", "test_seed", "test_faults", "test_e2e_passes"]
