"""The reference page of `bench/pages.py`: a minimal Flask + Flask-SQLAlchemy list page.

    REFERENCE_DB=/tmp/ref.sqlite .venv/bin/gunicorn -w 4 -b 127.0.0.1:8100 \
        --chdir bench reference_app:app

One table of N rows (`python bench/reference_app.py DB N` fills it), one page rendering the 20
newest rows through a Jinja template with a page-number argument: what the same stack delivers
for a plain list page, the yardstick every public page of the board is measured against.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta

from flask import Flask, render_template, request
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import DateTime, Integer, String, Text, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>留言 · 第 {{ page }} 页</title></head>
<body><h1>最新留言（共 {{ total }} 条）</h1>
<ol>
{% for item in items %}
  <li><a href="/items/{{ item.id }}">{{ item.title }}</a>
    <span>{{ item.region }}</span> · <time>{{ item.created_at.strftime('%Y-%m-%d %H:%M') }}</time>
    <p>{{ item.body[:120] }}</p></li>
{% endfor %}
</ol>
<a href="?page={{ page + 1 }}">下一页</a>
</body></html>
"""


class Item(db.Model):
    """One row of the reference table: a message-like record."""

    __tablename__ = "item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)


def create_app(database: str) -> Flask:
    """The reference app on an SQLite file."""
    app = Flask(__name__)
    # A named template, compiled once and cached like any file template (render_template_string
    # would compile it on every request and make the reference needlessly slow).
    app.jinja_loader = DictLoader({"items.html": PAGE})
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    db.init_app(app)

    @app.get("/")
    def items():
        """The 20 newest rows (or page N) and the row count, through a template."""
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        rows = db.session.scalars(
            select(Item).order_by(Item.created_at.desc()).limit(20).offset((page - 1) * 20)
        ).all()
        total = db.session.scalar(select(func.max(Item.id)))
        return render_template("items.html", items=rows, page=page, total=total)

    return app


def fill(database: str, rows: int) -> None:
    """Create the table with `rows` rows (once)."""
    app = create_app(database)
    with app.app_context():
        db.create_all()
        have = db.session.scalar(select(func.count(Item.id)))
        start = datetime(2020, 1, 1)
        batch = []
        for n in range(have, rows):
            batch.append(
                {
                    "title": f"关于第 {n} 号小区路灯不亮的问题",
                    "body": "小区路灯已经坏了三个月，晚上出行很不方便，希望有关部门尽快维修。" * 3,
                    "region": "浙江省杭州市西湖区",
                    "created_at": start + timedelta(minutes=7 * n),
                }
            )
            if len(batch) == 5000:
                db.session.execute(insert(Item), batch)
                batch = []
        if batch:
            db.session.execute(insert(Item), batch)
        db.session.commit()


if "REFERENCE_DB" in os.environ:
    app = create_app(os.environ["REFERENCE_DB"])

if __name__ == "__main__":
    fill(sys.argv[1], int(sys.argv[2]))
