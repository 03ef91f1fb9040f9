"""Uploads: decide the type by content, re-encode images without metadata, store the bytes in the
database (or on a shared disk) under random names."""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app, url_for
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import Message, State, User
from ..workflow.access import can_see_private_fields, can_view
from .models import Attachment, AttachmentBlob, AttachmentKind, Storage

IMAGE_MAX_BYTES = 5 * 1024 * 1024
PDF_MAX_BYTES = 10 * 1024 * 1024
MAX_PER_MESSAGE = 9
MAX_PIXELS = 40_000_000  # 40 MP: far above any phone photo, far below a decompression bomb
NAME_MAX = 100

# Signature → (Pillow format, MIME type, extension). Names and browser MIME types are ignored.
_IMAGE_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"),
                  "WEBP": ("image/webp", ".webp")}  # fmt: skip
_STORED_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png|webp|pdf)")


@dataclass
class Prepared:
    """A checked upload, ready to be written: the clean bytes and what we know about them."""

    kind: AttachmentKind
    content_type: str
    extension: str
    data: bytes
    original_name: str
    width: int | None = None
    height: int | None = None

    @property
    def sha256(self) -> str:
        """The digest of the stored (clean) bytes."""
        return hashlib.sha256(self.data).hexdigest()


def _limit(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def storage() -> Storage:
    """Where new uploads go: `ATTACHMENT_STORAGE`, "database" (the default) or "disk"."""
    return Storage(current_app.config.get("ATTACHMENT_STORAGE") or Storage.DATABASE)


def upload_dir() -> Path:
    """Where files are stored: `UPLOAD_DIR`, by default instance/uploads (never under static/)."""
    configured = current_app.config.get("UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def sniff(data: bytes) -> str | None:
    """The real type of `data` from its first bytes: JPEG, PNG, WEBP, PDF, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(b"%PDF-"):
        return "PDF"
    return None


def clean_name(name: str | None) -> str:
    """A display name safe anywhere: no directories, control characters or leading dots."""
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"[<>:\"|?*]", "_", name).strip().lstrip(".").strip()
    return name[:NAME_MAX]


def _display_name(name: str | None, extension: str) -> str:
    """The sanitized original name with the extension of the detected type."""
    stem = clean_name(name)
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return (stem or _("附件"))[: NAME_MAX - len(extension)] + extension


def _reencode(data: bytes, fmt: str) -> tuple[bytes, int, int]:
    """Decode the image and write its pixels into a new file: no EXIF, GPS, XMP, ICC or comments."""
    max_pixels = _limit("ATTACHMENT_MAX_PIXELS", MAX_PIXELS)
    too_big = ValidationFailed(fields={"attachments": [_("图片尺寸过大。")]})
    broken = ValidationFailed(fields={"attachments": [_("图片文件已损坏或无法识别。")]})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                width, height = image.size
                if width * height > max_pixels or width < 1 or height < 1:
                    raise too_big
                image.load()
                image = ImageOps.exif_transpose(image)  # keep the orientation, drop the tag
                if fmt == "JPEG":
                    image = image.convert("L" if image.mode in ("1", "L") else "RGB")
                elif image.mode not in ("RGB", "RGBA", "L", "LA"):
                    has_alpha = "A" in image.getbands() or "transparency" in image.info
                    image = image.convert("RGBA" if has_alpha else "RGB")
                # A new image from raw pixels carries no `info` at all: nothing can leak through.
                clean = Image.frombytes(image.mode, image.size, image.tobytes())
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise broken from None
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=88)
    return out.getvalue(), clean.width, clean.height


def prepare(filename: str | None, data: bytes) -> Prepared:
    """Check one upload by its content and return its clean form, or raise a field error."""
    shown = clean_name(filename) or _("附件")
    fmt = sniff(data)
    if fmt is None:
        raise ValidationFailed(
            fields={
                "attachments": [_("“%(name)s”不是 JPEG、PNG、WebP 图片或 PDF 文件。", name=shown)]
            }
        )
    if fmt == "PDF":
        limit = _limit("ATTACHMENT_PDF_MAX_BYTES", PDF_MAX_BYTES)
        if len(data) > limit:
            raise ValidationFailed(
                fields={
                    "attachments": [_("“%(name)s”超过 %(mb)d MB。", name=shown, mb=limit >> 20)]
                }
            )
        if b"%%EOF" not in data[-2048:]:
            raise ValidationFailed(fields={"attachments": [_("PDF 文件不完整。")]})
        return Prepared(
            AttachmentKind.PDF, "application/pdf", ".pdf", data, _display_name(filename, ".pdf")
        )
    limit = _limit("ATTACHMENT_IMAGE_MAX_BYTES", IMAGE_MAX_BYTES)
    if len(data) > limit:
        raise ValidationFailed(
            fields={"attachments": [_("“%(name)s”超过 %(mb)d MB。", name=shown, mb=limit >> 20)]}
        )
    clean, width, height = _reencode(data, fmt)
    content_type, extension = _IMAGE_FORMATS[fmt]
    return Prepared(
        AttachmentKind.IMAGE,
        content_type,
        extension,
        clean,
        _display_name(filename, extension),
        width,
        height,
    )


def read_uploads(files) -> list[tuple[str | None, bytes]]:
    """(name, bytes) of uploaded FileStorage objects, each read no further than a limit past the
    largest allowed size (so an oversize file is refused without being held whole)."""
    cap = max(_limit("ATTACHMENT_PDF_MAX_BYTES", PDF_MAX_BYTES),
              _limit("ATTACHMENT_IMAGE_MAX_BYTES", IMAGE_MAX_BYTES)) + 1  # fmt: skip
    out = []
    for storage in files or []:
        if isinstance(storage, str) and storage:
            # The field arrived as text, not as a file: a client that could not encode the
            # file's name (e.g. a bare backslash ends the quoted filename early). Refuse rather
            # than file the message without the attachment the citizen chose.
            raise ValidationFailed(
                fields={"attachments": [_("附件没有作为文件收到，请重新选择文件后再提交。")]}
            )
        if storage is None or isinstance(storage, str) or not hasattr(storage, "stream"):
            continue
        data = storage.stream.read(cap)
        if not storage.filename and not data:
            continue  # the empty part a browser sends when no file was chosen
        out.append((storage.filename, data))
    return out


def prepare_all(files: list[tuple[str | None, bytes]], *, already: int = 0) -> list[Prepared]:
    """Check every upload of one request; all or nothing, within the per-message count."""
    limit = _limit("ATTACHMENTS_MAX_COUNT", MAX_PER_MESSAGE)
    if already + len(files) > limit:
        raise ValidationFailed(fields={"attachments": [_("每条留言最多 %(n)d 个附件。", n=limit)]})
    return [prepare(name, data) for name, data in files]


def may_upload(user: User | None, message: Message) -> bool:
    """The author adds files until moderation has looked at the message."""
    return bool(
        user is not None
        and user.is_authenticated
        and message.author_id == user.id
        and message.state == State.SUBMITTED
    )


def count(message: Message) -> int:
    """How many attachments the message has."""
    return db.session.scalar(
        select(func.count(Attachment.id)).where(Attachment.message_id == message.id)
    )


def _write(prepared: Prepared) -> str:
    """Write the bytes under a fresh random name (atomically) and return that name."""
    root = upload_dir()
    while True:
        name = secrets.token_hex(16) + prepared.extension
        target = root / name[:2] / name
        if not target.exists():
            break
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(name + ".part")
    temporary.write_bytes(prepared.data)
    os.replace(temporary, target)
    return name


def random_name(extension: str) -> str:
    """A random stored name for bytes kept in the database (128 bits; the column is unique)."""
    return secrets.token_hex(16) + extension


def path_of(attachment: Attachment) -> Path:
    """Where an attachment's bytes are (or were, before they moved into the database) on disk."""
    if not _STORED_NAME.fullmatch(attachment.stored_name):
        raise NotFound()
    return upload_dir() / attachment.stored_name[:2] / attachment.stored_name


def read(attachment: Attachment) -> bytes | None:
    """The attachment's bytes from wherever they are stored; None when they are missing."""
    if attachment.storage == Storage.DATABASE:
        data = db.session.scalar(
            select(AttachmentBlob.data).where(AttachmentBlob.attachment_id == attachment.id)
        )
        return bytes(data) if data is not None else None
    path = path_of(attachment)
    return path.read_bytes() if path.is_file() else None


def attach(
    message: Message,
    actor: User,
    prepared: list[Prepared],
    *,
    is_public: bool,
    now: datetime,
    commit: bool = True,
) -> list[Attachment]:
    """Store checked uploads on a message of the actor's that moderation has not yet seen."""
    if not may_upload(actor, message):
        raise PermissionDenied(_("只有留言人本人可以在审核前添加附件。"))
    if count(message) + len(prepared) > _limit("ATTACHMENTS_MAX_COUNT", MAX_PER_MESSAGE):
        raise ValidationFailed(
            fields={"attachments": [_("每条留言最多 %(n)d 个附件。", n=MAX_PER_MESSAGE)]}
        )
    where = storage()
    written: list[str] = []
    rows = []
    try:
        for item in prepared:
            if where == Storage.DISK:
                stored = _write(item)
                written.append(stored)
            else:
                stored = random_name(item.extension)
            row = Attachment(
                message_id=message.id,
                uploader_id=actor.id,
                kind=item.kind,
                content_type=item.content_type,
                is_public=bool(is_public),
                stored_name=stored,
                original_name=item.original_name,
                size=len(item.data),
                sha256=item.sha256,
                width=item.width,
                height=item.height,
                created_at=now,
                storage=where,
            )
            if where == Storage.DATABASE:
                row.blob = AttachmentBlob(data=item.data)
            db.session.add(row)
            rows.append(row)
        if commit:
            db.session.commit()
    except Exception:
        db.session.rollback()
        for stored in written:
            (upload_dir() / stored[:2] / stored).unlink(missing_ok=True)
        raise
    return rows


def discard(rows: list[Attachment]) -> None:
    """Remove the disk files of attachment rows whose transaction did not commit."""
    for row in rows:
        if row.storage == Storage.DISK:
            (upload_dir() / row.stored_name[:2] / row.stored_name).unlink(missing_ok=True)


def may_download(user: User | None, attachment: Attachment) -> bool:
    """Who may fetch a file: public ones with the message; private ones with its private side."""
    message = attachment.message
    if not can_view(user, message):
        return False
    return attachment.is_public or can_see_private_fields(user, message)


def visible(user: User | None, message: Message) -> list[Attachment]:
    """The attachments of a message that `user` may see, in upload order."""
    return [a for a in message.attachments if may_download(user, a)]


def find(code: str, stored_name: str) -> Attachment:
    """The attachment by its message code and stored name, or NotFound."""
    if not _STORED_NAME.fullmatch(stored_name or ""):
        raise NotFound()
    attachment = db.session.scalar(
        select(Attachment)
        .join(Message, Attachment.message_id == Message.id)
        .where(Attachment.stored_name == stored_name, Message.code == code.strip().upper())
    )
    if attachment is None:
        raise NotFound()
    return attachment


def as_json(attachment: Attachment) -> dict:
    """An attachment as the API shows it to someone allowed to see it."""
    return {
        "id": attachment.id,
        "kind": attachment.kind,
        "content_type": attachment.content_type,
        "is_public": bool(attachment.is_public),
        "name": attachment.original_name,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "width": attachment.width,
        "height": attachment.height,
        "url": url_for(
            "attachments.download", code=attachment.message.code, name=attachment.stored_name
        ),
    }


@dataclass
class MoveReport:
    """What `move_to_database` did: files moved, and the rows it had to leave on disk."""

    moved: int = 0
    bytes: int = 0
    missing: list[str] | None = None
    damaged: list[str] | None = None


def on_disk_count() -> int:
    """How many attachments still have their bytes on disk."""
    return db.session.scalar(
        select(func.count(Attachment.id)).where(Attachment.storage == Storage.DISK)
    )


def move_to_database(
    *, batch: int = 50, keep_files: bool = False, progress: Callable[[int], None] | None = None
) -> MoveReport:
    """Copy the bytes of every attachment still on disk into the database, a batch per
    transaction; then delete the files (unless `keep_files`). A file that is missing or whose
    digest differs from the row's is left where it is and reported."""
    report = MoveReport(missing=[], damaged=[])
    after = 0
    while True:
        rows = db.session.scalars(
            select(Attachment)
            .where(Attachment.storage == Storage.DISK, Attachment.id > after)
            .order_by(Attachment.id)
            .limit(batch)
        ).all()
        if not rows:
            return report
        moved: list[Path] = []
        for row in rows:
            after = row.id
            path = path_of(row)
            if not path.is_file():
                report.missing.append(row.stored_name)
                continue
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != row.sha256:
                report.damaged.append(row.stored_name)
                continue
            row.blob = AttachmentBlob(data=data)
            row.storage = Storage.DATABASE
            moved.append(path)
            report.bytes += len(data)
        db.session.commit()  # expires the batch: its bytes are not kept in memory
        report.moved += len(moved)
        if not keep_files:
            for path in moved:
                path.unlink(missing_ok=True)
        if progress:
            progress(len(rows))
