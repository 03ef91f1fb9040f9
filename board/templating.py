"""Jinja filters and globals shared by every template."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask
from markupsafe import Markup

from . import models, workflow
from .clock import local_text
from .intel.names_en import path_label, topic_name
from .privacy import mask_pen_name, public_text


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC datetime in Beijing time."""
    return local_text(moment, fmt)


# What templates read from `board.models` by name: the label tables and the roles.
VOCABULARY = ("KIND_LABELS", "DOMAIN_LABELS", "STATE_LABELS", "TRACK_LABELS", "ROLE_LABELS", "Role")
HAN = re.compile(r"[\u3400-\u9fff]")


def user_text(value) -> Markup | str:
    """Text in Chinese (user content, a unit's name without an English one) marked as Chinese
    inside an English page (WCAG 3.1.2, language of parts); unchanged in a Chinese page and
    when it holds no Chinese."""
    from .directory.names import in_english

    if not value or not in_english() or not HAN.search(str(value)):
        return value
    return Markup('<span lang="zh-CN">%s</span>') % value


def init_app(app: Flask) -> None:
    """Register filters and the label tables."""
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["zh"] = user_text
    app.jinja_env.filters["topic_name"] = topic_name  # a topic's name in the page's language
    app.jinja_env.filters["topic_path"] = path_label  # a path given as its list of names
    app.jinja_env.filters["local_date"] = lambda m: local_time(m, "%Y-%m-%d")
    app.jinja_env.filters["pen_name"] = mask_pen_name
    app.jinja_env.filters["public"] = lambda message, field: public_text(
        message, getattr(message, field)
    )
    app.jinja_env.filters["public_reply"] = lambda reply: public_text(reply.message, reply.body)
    app.jinja_env.globals.update({name: getattr(models, name) for name in VOCABULARY})
    app.jinja_env.globals["MAIL_HEADS"] = {
        "staff": workflow.mail_heads("staff"),
        "author": workflow.mail_heads("author"),
    }
