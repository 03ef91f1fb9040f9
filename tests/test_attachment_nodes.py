"""Attachments on every node: two app processes (gunicorn, each with its own instance folder
and no shared disk) on one database; a file uploaded through node A is served by node B."""

from __future__ import annotations

import hashlib
import os
import subprocess
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests
from conftest import T0
from e2e_server import ROOT, VENV_BIN, free_port, wait_for
from sqlalchemy import select
from test_attachments import pdf, png

from board.attachments import services as attachments
from board.attachments.models import Attachment
from board.auth.services import issue_token
from board.extensions import db
from board.messages import services as msg
from board.models import Message, User

pytestmark = pytest.mark.slow


@contextmanager
def node(database: str, folder: Path):
    """One app node: gunicorn with the shipped config, its own instance folder, index and port."""
    port = free_port()
    env = dict(
        os.environ,
        FLASK_APP="wsgi",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        BOARD_INSTANCE_PATH=str(folder / "instance"),
        BOARD_SQLALCHEMY_DATABASE_URI=database,
        BOARD_SEARCH_INDEX_DIR=str(folder / "index"),
        BOARD_SECRET_KEY="two-nodes",
        BOARD_SEARCH_APPLY_INLINE="false",
        BOARD_RATELIMIT_ENABLED="false",
    )
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "node.log", "w") as log:
        web = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/login", web, deadline_s=60)
            yield f"http://127.0.0.1:{port}"
        finally:
            web.terminate()
            try:
                web.wait(timeout=20)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()


def test_a_file_uploaded_on_node_a_is_served_byte_for_byte_by_node_b(
    app, database, tmp_path, citizen, moderator, make_message
):
    """Upload through node A's API, download from node B (no shared disk): identical bytes,
    the same ETag and ranges; a file from before, on node A's disk, reaches node B once
    `flask attachments migrate` moved it; no node keeps a file on disk."""
    message = make_message("submitted")
    token = issue_token(citizen, name="nodes", now=T0)
    # A file uploaded before the bytes moved into the database, on node A's disk only.
    app.config.update(
        ATTACHMENT_STORAGE="disk", UPLOAD_DIR=str(tmp_path / "node-a" / "instance" / "uploads")
    )
    [legacy] = attachments.attach(
        message, citizen, attachments.prepare_all([("old.png", png((6, 6)))]), is_public=True,
        now=T0,
    )  # fmt: skip
    app.config["ATTACHMENT_STORAGE"] = "database"
    legacy_url, legacy_bytes = (
        f"/m/{message.code}/files/{legacy.stored_name}",
        attachments.read(legacy),
    )
    code, moderator_id = message.code, moderator.id
    db.session.remove()  # the nodes start with this process holding no connection
    with ExitStack() as stack:
        a = stack.enter_context(node(database, tmp_path / "node-a"))
        b = stack.enter_context(node(database, tmp_path / "node-b"))
        picture = png((40, 30))
        answer = requests.post(
            f"{a}/api/v1/messages/{code}/attachments",
            headers={"Authorization": f"Bearer {token}"},
            files=[("file", ("street.png", picture)), ("file", ("证明.pdf", pdf()))],
            data={"public": "true"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        items = answer.json()["attachments"]
        message = db.session.scalar(select(Message).where(Message.code == code))
        msg.approve_message(message, db.session.get(User, moderator_id), now=T0)
        on_a = {item["url"]: requests.get(a + item["url"], timeout=30) for item in items}
        for item in items:
            from_b = requests.get(b + item["url"], timeout=30)
            assert from_b.status_code == 200, item
            assert from_b.content == on_a[item["url"]].content
            assert hashlib.sha256(from_b.content).hexdigest() == item["sha256"]
            assert from_b.headers["Content-Type"].startswith(item["content_type"])
            assert from_b.headers["ETag"] == on_a[item["url"]].headers["ETag"]
            again = requests.get(
                b + item["url"], headers={"If-None-Match": from_b.headers["ETag"]}, timeout=30
            )
            assert again.status_code == 304
            part = requests.get(b + item["url"], headers={"Range": "bytes=2-9"}, timeout=30)
            assert part.status_code == 206 and part.content == from_b.content[2:10]
        pdf_item = next(item for item in items if item["kind"] == "pdf")
        assert requests.get(b + pdf_item["url"], timeout=30).content == pdf()
        # The old file: node A has it, node B does not, until it moves into the database.
        assert requests.get(a + legacy_url, timeout=30).content == legacy_bytes
        assert requests.get(b + legacy_url, timeout=30).status_code == 404
        moved = attachments.move_to_database()
        assert moved.moved == 1 and not moved.missing
        from_b = requests.get(b + legacy_url, timeout=30)
        assert from_b.status_code == 200 and from_b.content == legacy_bytes
    rows = db.session.scalars(select(Attachment)).all()
    assert {row.storage for row in rows} == {"database"} and len(rows) == 3
    for uploads in (tmp_path / node / "instance" / "uploads" for node in ("node-a", "node-b")):
        assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))
