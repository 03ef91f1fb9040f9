"""Backup and restore: an archive of a site with messages, events, replies, ratings and
attachments (in the database and on disk), restored into a fresh database on both engines,
holds every row and byte; the index is rebuilt and searchable; a damaged archive changes nothing."""

from __future__ import annotations

import os
import tarfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from conftest import T0, _postgres_base, login, make_test_app
from sqlalchemy import func, select
from test_attachments import pdf, png

from board.attachments import services as attachments
from board.attachments.models import Attachment, AttachmentBlob
from board.extensions import db
from board.messages import services as msg
from board.models import Event, Message, Rating, Reply, User
from board.search import indexer
from board.search.query import search_messages

pytestmark = pytest.mark.slow


def _rows() -> dict[str, list[tuple]]:
    """Every row of every table of the models, in primary-key order."""
    out = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(table.select().order_by(*order))]
    return out


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Message, Event, Reply, Rating, Attachment, AttachmentBlob)
    }


def _codes(q: str) -> set[str]:
    return {hit.message.code for hit in search_messages(q, per_page=100).hits}


@pytest.fixture
def site(app, make_message, citizen, moderator):
    """Messages through the workflow (events, replies, a rating) and a public message with
    attachments: two in the database, one still on disk (uploaded before the move)."""
    closed = make_message("closed", title="小区物业乱收停车费")
    replied = make_message(
        "replied",
        title="地铁站口共享单车堆积",
        body="地铁站出口共享单车乱停放，行人无法通行，希望尽快清理并划定停放区域。",
    )
    with_files = make_message(
        "submitted",
        title="路灯损坏无人维修",
        body="小区门口的路灯损坏一个多月了，晚上行人很不安全，请尽快维修。",
    )
    attachments.attach(with_files, citizen, attachments.prepare_all(
        [("street.png", png((20, 10))), ("证明.pdf", pdf())]), is_public=True, now=T0)  # fmt: skip
    app.config["ATTACHMENT_STORAGE"] = "disk"
    [on_disk] = attachments.attach(with_files, citizen, attachments.prepare_all(
        [("old.png", png((5, 5)))]), is_public=True, now=T0)  # fmt: skip
    app.config["ATTACHMENT_STORAGE"] = "database"
    msg.approve_message(with_files, moderator, now=T0)
    assert _codes("管理费") == {closed.code} and _codes("单车") == {replied.code}
    return {"closed": closed.code, "replied": replied.code, "files": with_files.code,
            "on_disk": on_disk.stored_name}  # fmt: skip


@contextmanager
def fresh_database(database: str, tmp_path: Path):
    """An empty database of the same engine: a new SQLite file, or a new PostgreSQL database
    created here and dropped afterwards."""
    if database.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    base = _postgres_base()
    name = f"minsheng_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _downloads(client, code: str) -> dict[str, bytes]:
    message = db.session.scalar(select(Message).where(Message.code == code))
    out = {}
    for row in message.attachments:
        response = client.get(f"/m/{code}/files/{row.stored_name}")
        assert response.status_code == 200, row.stored_name
        out[row.stored_name] = response.data
    return out


def test_a_backup_restored_into_a_fresh_database_holds_everything(
    app, database, tmp_path, runner, site, citizen
):
    """Create and verify an archive, restore it into an empty database: every row of every
    table equal, attachment bytes (database and disk) served, the index rebuilt and searchable."""
    before_rows, before_counts = _rows(), _counts()
    assert all(before_counts.values()), before_counts
    client = app.test_client()
    files_before = _downloads(client, site["files"])
    assert len(files_before) == 3
    email = citizen.email
    archive = tmp_path / "backups" / "site.tar"
    created = runner.invoke(args=["backup", "create", str(archive)])
    assert created.exit_code == 0, created.output
    assert f"backup written: {archive}" in created.output
    assert "attachment files from disk: 1" in created.output
    verified = runner.invoke(args=["backup", "verify", str(archive)])
    assert verified.exit_code == 0 and "backup ok" in verified.output, verified.output
    assert f"message  {before_counts['Message']}" in verified.output.replace(" " * 10, " ")

    with fresh_database(database, tmp_path) as url:
        restored = make_test_app(url, tmp_path / "restored")
        with restored.app_context():
            result = restored.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
            assert result.exit_code == 0, result.output
            public = indexer.count_public()
            assert public == 3
            assert f"search index rebuilt: {public} documents" in result.output
            assert "attachment files put back: 1" in result.output
            assert _rows() == before_rows
            assert _counts() == before_counts
            assert (
                Path(restored.config["UPLOAD_DIR"]) / site["on_disk"][:2] / site["on_disk"]
            ).is_file()
            reader = restored.test_client()
            assert _downloads(reader, site["files"]) == files_before
            assert _codes("管理费") == {site["closed"]}
            assert _codes("单车") == {site["replied"]}
            assert _codes("路灯") == {site["files"]}
            user = db.session.scalar(select(User).where(User.email == email))
            login(reader, user)  # passwords, sessions: the accounts came back too
            again = restored.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
            assert (
                again.exit_code == 1 and "not empty" in again.output and "--force" in again.output
            )
            forced = restored.test_cli_runner().invoke(
                args=["backup", "restore", "--force", str(archive)]
            )
            assert forced.exit_code == 0, forced.output
            assert _rows() == before_rows
            db.session.remove()
            db.engine.dispose()


def _truncated(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    return target


def _flipped(source: Path, target: Path) -> Path:
    """The archive with one byte changed inside the database member."""
    data = bytearray(source.read_bytes())
    with tarfile.open(source) as archive:
        member = next(m for m in archive.getmembers() if m.name.startswith("database."))
    spot = member.offset_data + member.size // 2
    data[spot] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


def _forged_manifest(source: Path, target: Path) -> Path:
    """The archive whose manifest (and its checksum) claim one message more than it holds."""
    import hashlib
    import io
    import json

    with tarfile.open(source) as archive, tarfile.open(target, "w") as out:
        for info in archive.getmembers():
            data = archive.extractfile(info).read()
            if info.name == "manifest.json":
                manifest = json.loads(data)
                manifest["tables"]["message"] += 1
                data = json.dumps(manifest).encode()
                forged_sum = hashlib.sha256(data).hexdigest().encode()
            elif info.name == "manifest.sha256":
                data = forged_sum
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return target


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_truncated, "truncated"),
        (_flipped, "damaged"),
        (_forged_manifest, "differs from its manifest"),
    ],
)
def test_a_damaged_archive_is_refused_and_changes_nothing(
    app, database, tmp_path, runner, site, damage, says
):
    """Truncated, altered or lying archives fail verify and restore with a clear message; the
    target database (here: the site itself, with --force) is left exactly as it was."""
    archive = tmp_path / "site.tar"
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    broken = damage(archive, tmp_path / "broken.tar")
    before = _rows()
    verified = runner.invoke(args=["backup", "verify", str(broken)])
    assert verified.exit_code == 1 and says in verified.output, verified.output
    restored = runner.invoke(args=["backup", "restore", "--force", str(broken)])
    assert restored.exit_code == 1 and says in restored.output, restored.output
    db.session.expire_all()
    assert _rows() == before
    assert _codes("管理费") == {site["closed"]}


def test_verify_refuses_what_is_not_a_backup(app, tmp_path, runner):
    """A missing file, a random file and a tar without a manifest are each named as such."""
    assert "no such file" in runner.invoke(args=["backup", "verify", str(tmp_path / "x")]).output
    (tmp_path / "random.tar").write_bytes(os.urandom(4096))
    assert (
        "damaged or truncated"
        in runner.invoke(args=["backup", "verify", str(tmp_path / "random.tar")]).output
    )
    with tarfile.open(tmp_path / "other.tar", "w") as other:
        other.add(__file__, arcname="notes.txt")
    assert (
        "not a Minsheng backup"
        in runner.invoke(args=["backup", "verify", str(tmp_path / "other.tar")]).output
    )


def test_a_backup_taken_while_messages_are_filed_is_one_instant(
    app, database, tmp_path, runner, site, citizen
):
    """A writer files messages (message, event, clock and outbox rows in one transaction each)
    while the backup runs: the archive holds whole transactions only, between the counts seen
    before and after."""
    import threading
    from datetime import timedelta

    from board.models import Board, Region

    def count() -> int:
        return db.session.scalar(select(func.count(Message.id)))

    stop = threading.Event()
    author_id, board_id = citizen.id, db.session.scalar(select(Board.id).limit(1))
    failures: list[BaseException] = []

    def writer() -> None:
        with app.app_context():
            try:
                n = 0
                while not stop.is_set():
                    n += 1
                    msg.submit_message(
                        db.session.get(User, author_id),
                        board=db.session.get(Board, board_id),
                        region=db.session.get(Region, "330106"),
                        track="board", kind="complaint", domain="urban",
                        title=f"写入中的留言{n}", body="备份进行时提交的留言，用来检查备份是否完整一致。" * 2,
                        now=T0 + timedelta(hours=n),
                    )  # fmt: skip
            except BaseException as error:  # reported below
                failures.append(error)
            finally:
                db.session.remove()

    start = count()
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        _wait_for(lambda: count() >= start + 3)
        archive = tmp_path / "busy.tar"
        created = runner.invoke(args=["backup", "create", str(archive)])
        assert created.exit_code == 0, created.output
        db.session.expire_all()
        during = count()
        _wait_for(lambda: count() >= during + 3)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failures, failures
    end = count()
    with fresh_database(database, tmp_path) as url:
        restored = make_test_app(url, tmp_path / "restored")
        with restored.app_context():
            result = restored.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
            assert result.exit_code == 0, result.output
            held = count()
            assert start + 3 <= held < end
            messages = set(db.session.scalars(select(Message.id)))
            with_events = set(db.session.scalars(select(Event.message_id).distinct()))
            assert messages == with_events  # no message without its event, nor the reverse
            db.session.remove()
            db.engine.dispose()


def _wait_for(condition, seconds: float = 60.0) -> None:
    """Poll `condition` (a fresh read each time) until it holds or the deadline passes."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        db.session.rollback()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("the writer made no progress")
