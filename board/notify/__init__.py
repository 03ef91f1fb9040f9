"""Notifications: the mail outbox, who is told of what (DESIGN §8), reminders and delivery."""

from . import models  # noqa: F401  (the outbox table is created with the app's models)
