"""The content version: one row per committed transaction that changed what public pages show."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ContentVersion(db.Model):
    """A change to public data; the largest `id` is the version cached pages are keyed with.

    Insert-only (no row is updated), so concurrent writers never wait on each other for it; old
    rows are pruned as new ones arrive (board/cache/versions.py)."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
