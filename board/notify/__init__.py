"""Notifications: the mail outbox, who is told of what (DESIGN §8), reminders and delivery.

`services` is the front door (every name other packages use); the work is split into `outbox`
(addresses, rendering, queueing), `events` (workflow events → mails), `reminders` (the tick's
reminders and digests) and `delivery` (SMTP or files, claims, back-off, the sent journal).
"""

from flask import Flask

from . import models  # noqa: F401  (the outbox table is created with the app's models)


def init_app(app: Flask) -> None:
    """Install the session listeners that remember a transaction's events until its commit."""
    from ..extensions import db
    from . import events

    events.install(db.session.session_factory.class_)
