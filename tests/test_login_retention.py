"""Sign-in attempts are personal data: pruned after 30 days, by the CLI and when recording."""

from __future__ import annotations

from datetime import timedelta

from conftest import PASSWORD, T0
from sqlalchemy import select

from board.auth import services
from board.auth.services import LoginFailed
from board.extensions import db
from board.models import LoginAttempt


def _add(email: str, when) -> None:
    db.session.add(LoginAttempt(email=email, succeeded=False, ip="10.0.0.0", created_at=when))


def test_cli_prunes_attempts_older_than_thirty_days(app, runner):
    """`flask users prune-logins` deletes old rows of every address and keeps recent ones."""
    _add("a@example.org", T0 - timedelta(days=31))
    _add("b@example.org", T0 - timedelta(days=30, seconds=1))
    _add("a@example.org", T0 - timedelta(days=29))
    db.session.commit()
    result = runner.invoke(args=["users", "prune-logins", "--now", T0.isoformat()])
    assert result.exit_code == 0, result.output
    assert "login attempts removed: 2" in result.output
    left = db.session.scalars(select(LoginAttempt.created_at)).all()
    assert left == [T0 - timedelta(days=29)]
    result = runner.invoke(args=["users", "prune-logins", "--now", "not-a-time"])
    assert result.exit_code != 0 and "ISO 8601" in result.output


def test_cli_days_option(app, runner):
    """--days shortens the retention."""
    _add("a@example.org", T0 - timedelta(days=8))
    db.session.commit()
    result = runner.invoke(args=["users", "prune-logins", "--days", "7", "--now", T0.isoformat()])
    assert "login attempts removed: 1" in result.output


def test_recording_an_attempt_forgets_that_addresses_old_ones(app, citizen):
    """Each sign-in drops the address's attempts past retention, not other addresses'."""
    key = citizen.email.lower()
    _add(key, T0 - timedelta(days=40))
    _add("other@example.org", T0 - timedelta(days=40))
    db.session.commit()
    services.sign_in(citizen.email, PASSWORD, now=T0)
    emails = sorted(db.session.scalars(select(LoginAttempt.email)))
    assert emails == sorted([key, "other@example.org"])
    try:
        services.sign_in(citizen.email, "wrong-password-1", now=T0)
    except LoginFailed:
        pass
    assert len(db.session.scalars(select(LoginAttempt).where(LoginAttempt.email == key)).all()) == 2
