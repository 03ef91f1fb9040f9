"""Attachments: type by content, metadata stripped, limits, random storage, guarded serving."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from conftest import T0, login
from PIL import ExifTags, Image, PngImagePlugin
from sqlalchemy import func, select

from board import PROJECT_ROOT
from board.attachments import services as attachments
from board.attachments.models import Attachment, AttachmentBlob
from board.auth.services import issue_token
from board.extensions import db
from board.models import Message

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (30.0, 15.0, 7.5),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (120.0, 9.0, 1.0),
}


def jpeg_with_gps(size=(64, 48)) -> bytes:
    """A real JPEG carrying GPS coordinates, a camera make, an orientation and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    exif[ExifTags.Base.Orientation] = 6  # rotated: the clean copy must keep the picture upright
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    buffer = io.BytesIO()
    Image.new("RGB", size, "blue").save(buffer, "JPEG", exif=exif, comment=b"home address")
    data = buffer.getvalue()
    assert b"SpyCam" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    return data


def png(size=(8, 8), text: str | None = None) -> bytes:
    """A small PNG, optionally with a text chunk."""
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    buffer = io.BytesIO()
    Image.new("RGBA", size, (255, 0, 0, 128)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def pdf() -> bytes:
    """A minimal PDF document."""
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def compose(files, *, public=False, **fields):
    """The fields of a valid compose form plus the given files."""
    data = {
        "track": "board",
        "kind": "complaint",
        "domain": "urban",
        "region": "330106",
        "title": "小区门口路灯坏了",
        "body": "小区门口的三盏路灯坏了一个多月，晚上行人很不安全，请尽快维修。",
        "submit": "提交",
        "attachments": [(io.BytesIO(data), name) for name, data in files],
        **fields,
    }
    if public:
        data["attachments_public"] = "y"
    return data


def post_compose(client, files, **kwargs):
    """Submit the compose form with files."""
    return client.post(
        "/write?board=330100-secretary",
        data=compose(files, **kwargs),
        content_type="multipart/form-data",
    )


def messages_count() -> int:
    return db.session.scalar(select(func.count(Message.id)))


def stored_files(app) -> list[Path]:
    """Every file under the upload directory."""
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_jpeg_with_gps_is_stored_without_any_metadata(app, client, citizen):
    """EXIF (GPS, camera), comments are gone from the stored bytes; orientation applied."""
    login(client, citizen)
    response = post_compose(client, [("IMG_0001.JPG", jpeg_with_gps())], public=True)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    row = db.session.scalars(select(Attachment)).one()
    data = attachments.read(row)
    for marker in (b"Exif", b"SpyCam", b"home address", b"GPS"):
        assert marker not in data, marker
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info and "comment" not in image.info
        assert image.size == (48, 64)  # orientation 6 was applied before it was dropped
    assert (row.kind, row.content_type, row.width, row.height) == ("image", "image/jpeg", 48, 64)
    assert row.original_name == "IMG_0001.jpg" and row.size == len(data)
    assert row.sha256 == hashlib.sha256(data).hexdigest()


def test_png_text_chunks_are_dropped(app, citizen, make_message):
    """PNG tEXt chunks (where editors put names and places) do not survive either."""
    prepared = attachments.prepare("a.png", png(text="张三 13800001111"))
    assert b"13800001111" not in prepared.data
    assert Image.open(io.BytesIO(prepared.data)).info.get("Comment") is None


def test_type_is_decided_by_content_not_by_name(app, client, citizen):
    """A PNG named .jpg is stored and served as a PNG, with the name corrected."""
    login(client, citizen)
    response = post_compose(client, [("photo.jpg", png())])
    assert response.status_code == 302
    row = db.session.scalars(select(Attachment)).one()
    assert row.content_type == "image/png" and row.stored_name.endswith(".png")
    assert row.original_name == "photo.png"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("evil.png", b"<html><script>alert(document.cookie)</script></html>"),
        ("evil.png", b"GIF89a<script>alert(1)</script>"),
        ("polyglot.png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"),
        ("fake.jpg", b"\xff\xd8\xff\xe0" + b"<svg onload=alert(1)>" * 10),
        ("doc.pdf", b"%PDF-1.4 <script>no end marker</script>"),
        ("page.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ],
)
def test_html_polyglots_and_broken_files_are_refused_and_nothing_is_stored(
    app, client, citizen, name, data
):
    """A file that is not really an image or PDF is refused with a field error; no message row."""
    login(client, citizen)
    before = messages_count()
    response = post_compose(client, [(name, data)])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "小区门口的三盏路灯" in html  # what the user typed is kept
    assert messages_count() == before
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert stored_files(app) == []


def test_oversize_image_is_refused(app, client, citizen):
    """Images above the size limit are refused before anything is stored."""
    app.config["ATTACHMENT_IMAGE_MAX_BYTES"] = 500
    login(client, citizen)
    response = post_compose(client, [("big.jpg", jpeg_with_gps((400, 400)))])
    assert response.status_code == 422
    assert "超过" in response.get_data(as_text=True)
    assert messages_count() == 0


def test_decompression_bomb_is_refused(app):
    """A tiny file that decodes to a huge picture is refused by its header, before decoding."""
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, "PNG")  # 48 MP in a few kB
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(attachments.ValidationFailed) as caught:
        attachments.prepare("bomb.png", buffer.getvalue())
    assert "attachments" in caught.value.fields


def test_at_most_nine_attachments(app, client, citizen):
    """Ten files in one message are refused; nine are fine."""
    login(client, citizen)
    response = post_compose(client, [(f"{n}.png", png()) for n in range(10)])
    assert response.status_code == 422 and messages_count() == 0
    response = post_compose(client, [(f"{n}.png", png()) for n in range(9)])
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Attachment.id))) == 9


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("/var/www/static/x.png", "x.png"),
        ("...png", "png.png"),
        ("....", "附件.png"),
        ("a\x00b\r\nc<script>.png", "abc_script_.png"),
        ("", None),
    ],
)
def test_path_traversal_names_never_reach_the_disk(app, citizen, make_message, name, shown):
    """The stored name is random; the shown name loses directories and control characters
    (with the bytes stored on a shared disk, where a name could matter)."""
    app.config["ATTACHMENT_STORAGE"] = "disk"
    message = make_message("submitted")
    prepared = attachments.prepare_all([(name or "x", png())])
    [row] = attachments.attach(message, citizen, prepared, is_public=False, now=T0)
    assert re.fullmatch(r"[0-9a-f]{32}\.png", row.stored_name)
    if shown:
        assert row.original_name == shown
    assert row.storage == "disk" and row.blob is None
    path = attachments.path_of(row).resolve()
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    assert root in path.parents
    assert (PROJECT_ROOT / "board" / "static").resolve() not in path.parents


def test_pdf_is_accepted_and_always_downloaded(app, client, citizen, make_message):
    """PDFs are kept as documents and served as downloads with nosniff and a sandbox CSP."""
    message = make_message("submitted")
    [row] = attachments.attach(
        message, citizen, attachments.prepare_all([("证明.pdf", pdf())]), is_public=False, now=T0
    )
    login(client, citizen)
    response = client.get(f"/m/{message.code}/files/{row.stored_name}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E8%AF%81%E6%98%8E.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data == pdf()


@pytest.fixture
def published(app, citizen, make_message):
    """A public message with one public and one private image."""
    message = make_message("submitted")
    [public] = attachments.attach(
        message, citizen, attachments.prepare_all([("street.png", png())]), is_public=True, now=T0
    )
    [private] = attachments.attach(
        message, citizen, attachments.prepare_all([("id-card.png", png())]), is_public=False, now=T0
    )
    from board.messages import services as msg
    from board.models import Role, User

    moderator = db.session.scalar(select(User).where(User.role == Role.MODERATOR))
    msg.approve_message(message, moderator, now=T0)
    assert message.is_public
    return message, public, private


def test_public_and_private_attachments_are_served_to_the_right_people(
    app, published, troll, handler, coordinator, moderator
):
    """Public files go with the message; private ones to its private side only, else 404."""
    message, public, private = published
    anonymous = app.test_client()
    page = anonymous.get(f"/m/{message.code}").get_data(as_text=True)
    assert public.stored_name in page and private.stored_name not in page
    assert anonymous.get(f"/m/{message.code}/files/{public.stored_name}").status_code == 200
    assert anonymous.get(f"/m/{message.code}/files/{private.stored_name}").status_code == 404
    other = app.test_client()
    login(other, troll)
    assert other.get(f"/m/{message.code}/files/{private.stored_name}").status_code == 404
    for staff in (coordinator, moderator):
        client = app.test_client()
        login(client, staff)
        assert private.stored_name in client.get(f"/m/{message.code}").get_data(as_text=True)
        response = client.get(f"/m/{message.code}/files/{private.stored_name}")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("inline;")
    # no path but the view: wrong code, made-up names and traversal all give 404
    assert anonymous.get(f"/m/MS-2026-AAAAAA/files/{public.stored_name}").status_code == 404
    assert anonymous.get(f"/m/{message.code}/files/..%2F..%2Fboard.sqlite").status_code == 404
    assert anonymous.get(f"/static/{public.stored_name}").status_code == 404


def test_private_attachments_of_a_report_are_withheld_from_routing_staff(
    app, citizen, coordinator, moderator, make_message
):
    """A report's private files follow its identity rule: not for the coordinator."""
    message = make_message(
        "submitted", track="petition", kind="report", real_name="王", address="某路 1 号"
    )
    [row] = attachments.attach(
        message, citizen, attachments.prepare_all([("x.png", png())]), is_public=False, now=T0
    )
    office = app.test_client()
    login(office, coordinator)
    assert office.get(f"/m/{message.code}/files/{row.stored_name}").status_code == 404
    platform = app.test_client()
    login(platform, moderator)
    assert platform.get(f"/m/{message.code}/files/{row.stored_name}").status_code == 200


def test_api_upload_by_author_before_moderation_only(app, citizen, troll, moderator, make_message):
    """The author uploads with multipart; others get 403/404; after approval the author gets 403."""
    message = make_message("submitted")
    client = app.test_client()
    url = f"/api/v1/messages/{message.code}/attachments"

    def upload(user, files, public="0"):
        headers = {"Authorization": f"Bearer {issue_token(user, name='t', now=T0)}"}
        data = {"file": [(io.BytesIO(d), n) for n, d in files], "public": public}
        return client.post(url, data=data, headers=headers, content_type="multipart/form-data")

    response = upload(citizen, [("gps.jpg", jpeg_with_gps()), ("a.pdf", pdf())], public="true")
    assert response.status_code == 201, response.get_json()
    items = response.get_json()["attachments"]
    assert [i["kind"] for i in items] == ["image", "pdf"] and all(i["is_public"] for i in items)
    stored = db.session.scalars(select(Attachment).order_by(Attachment.id)).first()
    assert b"SpyCam" not in attachments.read(stored)
    bad = upload(citizen, [("x.png", b"<html></html>")])
    assert bad.status_code == 422 and "attachments" in bad.get_json()["error"]["fields"]
    assert upload(troll, [("x.png", png())]).status_code == 404
    assert upload(moderator, [("x.png", png())]).status_code == 403
    too_many = upload(citizen, [(f"{n}.png", png()) for n in range(8)])
    assert too_many.status_code == 422
    from board.messages import services as msg

    msg.approve_message(message, moderator, now=T0)
    assert upload(citizen, [("x.png", png())]).status_code == 403
    assert db.session.scalar(select(func.count(Attachment.id))) == 2
    assert db.session.scalar(select(func.count(AttachmentBlob.attachment_id))) == 2
    assert stored_files(app) == []  # in the database, where every node reads them


def _legacy(app, citizen, message, files):
    """Attachments as uploaded before the bytes moved into the database: files on disk."""
    app.config["ATTACHMENT_STORAGE"] = "disk"
    rows = attachments.attach(
        message, citizen, attachments.prepare_all(files), is_public=False, now=T0
    )
    app.config["ATTACHMENT_STORAGE"] = "database"
    assert all(row.storage == "disk" and attachments.path_of(row).is_file() for row in rows)
    return rows


def test_files_on_disk_are_still_served_and_the_command_moves_them(
    app, client, runner, citizen, make_message
):
    """Rows from before keep working; `flask attachments migrate` copies their bytes into the
    database (digest checked), deletes the files, reports the missing ones and can run again."""
    message = make_message("submitted")
    old_png, old_pdf, gone = _legacy(
        app, citizen, message, [("a.png", png()), ("b.pdf", pdf()), ("c.png", png((9, 9)))]
    )
    [new] = attachments.attach(
        message, citizen, attachments.prepare_all([("d.png", png((7, 7)))]), is_public=False, now=T0
    )
    assert new.storage == "database" and not attachments.path_of(new).exists()
    expected = {row.stored_name: attachments.read(row) for row in (old_png, old_pdf, new)}
    login(client, citizen)
    for row in (old_png, old_pdf, new):
        response = client.get(f"/m/{message.code}/files/{row.stored_name}")
        assert response.status_code == 200 and response.data == expected[row.stored_name]
    attachments.path_of(gone).unlink()
    assert client.get(f"/m/{message.code}/files/{gone.stored_name}").status_code == 404
    moved_paths = [attachments.path_of(old_png), attachments.path_of(old_pdf)]

    result = runner.invoke(args=["attachments", "migrate", "--batch", "2"])
    assert result.exit_code == 1, result.output  # one file was missing
    assert "moved 2 attachments" in result.output
    assert f"missing on disk: 1: {gone.stored_name}" in result.output
    assert not any(path.exists() for path in moved_paths)
    db.session.expire_all()
    rows = {row.stored_name: row for row in db.session.scalars(select(Attachment))}
    assert rows[gone.stored_name].storage == "disk"
    for name, data in expected.items():
        assert rows[name].storage == "database" and rows[name].blob.data == data
        response = client.get(f"/m/{message.code}/files/{name}")
        assert response.status_code == 200 and response.data == data
    again = runner.invoke(args=["attachments", "migrate"])
    assert "moved 0 attachments" in again.output


def test_a_file_whose_digest_differs_is_not_moved(app, runner, citizen, make_message):
    """Bytes that changed on disk since the upload stay there, reported, never copied."""
    message = make_message("submitted")
    [row] = _legacy(app, citizen, message, [("a.png", png())])
    attachments.path_of(row).write_bytes(png((3, 3)))
    result = runner.invoke(args=["attachments", "migrate"])
    assert result.exit_code == 1 and "digest differs: 1" in result.output
    db.session.expire_all()
    assert db.session.get(Attachment, row.id).storage == "disk"
    assert attachments.path_of(row).is_file()


def test_downloads_are_conditional_and_ranged(app, client, citizen, make_message):
    """The digest is the ETag (304 on a match); a Range request gets exactly those bytes."""
    message = make_message("submitted")
    [row] = attachments.attach(
        message, citizen, attachments.prepare_all([("证明.pdf", pdf())]), is_public=False, now=T0
    )
    login(client, citizen)
    url = f"/m/{message.code}/files/{row.stored_name}"
    full = client.get(url)
    assert full.headers["ETag"] == f'"{row.sha256}"'
    assert full.headers["Content-Length"] == str(len(pdf()))
    assert client.get(url, headers={"If-None-Match": f'"{row.sha256}"'}).status_code == 304
    part = client.get(url, headers={"Range": "bytes=5-12"})
    assert part.status_code == 206 and part.data == pdf()[5:13]
    assert part.headers["Content-Range"] == f"bytes 5-12/{len(pdf())}"
