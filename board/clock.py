"""The platform's notion of time: naive UTC in the database, Asia/Shanghai for people."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Now, as the naive UTC datetime stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(moment: datetime) -> datetime:
    """A stored naive-UTC datetime as an aware Asia/Shanghai datetime."""
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_TZ)


def local_text(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored naive-UTC datetime as people read it: Beijing time (every page, mail and message
    shown to a person goes through here, or through the `local_time` filter that calls it)."""
    return to_local(moment).strftime(fmt) if moment else ""


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of a stored naive-UTC datetime."""
    return to_local(moment).date()


def from_local(moment: datetime) -> datetime:
    """An aware or Asia/Shanghai-naive datetime as naive UTC for storage."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC).replace(tzinfo=None)
