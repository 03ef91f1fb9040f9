"""CSV downloads cannot run formulas in a spreadsheet (OWASP CSV injection), on both databases.

The only CSV export is the open-data download (`/export/messages.csv`, any listing or search);
every text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
Genuinely numeric columns stay numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from conftest import T0, unit

from board.extensions import db
from board.messages import services as msg
from board.stats.exports import COLUMNS, FORMULA_STARTS, spreadsheet_safe

HOSTILE_TITLES = [
    '=HYPERLINK("http://evil.example","点我")',
    "+SUM(1,2) 物业乱收费",
    "-2+3 小区停车费",
    "@SUM(A1:A9) 路灯不亮",
]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+86 138", "'+86 138"),
        ("-1.5", "'-1.5"),  # text that looks like a number is still text
        ("@cmd", "'@cmd"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("小区=停车", "小区=停车"),
        ("", ""),
        (None, ""),
        (-1.5, -1.5),  # a numeric column: a spreadsheet reads it as a number, not a formula
        (0, 0),
        (True, "True"),
    ],
)
def test_cells_starting_like_a_formula_are_prefixed(value, cell):
    assert spreadsheet_safe(value) == cell


def test_every_csv_cell_of_the_export_is_safe(client, make_message, handler, coordinator):
    """Hostile titles, bodies, replies and unit names come out prefixed; numbers stay numbers."""
    unit("330100-zj").name = "=cmd|' /C calc'!A0 住建局"
    db.session.commit()
    for n, title in enumerate(HOSTILE_TITLES):
        now = T0 + timedelta(hours=n)
        m = make_message("in_progress", title=title, body="@" + title + " 已反映多次。", now=now)
        msg.reply_message(
            m, handler, body="-已处理完毕，物业退还了多收的费用。", now=now + timedelta(days=1)
        )
        msg.sign_off_reply(m, coordinator, now=now + timedelta(days=1, hours=1))
    text = client.get("/export/messages.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == len(HOSTILE_TITLES)
    assert {r["title"] for r in rows} == {"'" + t for t in HOSTILE_TITLES}
    for row in rows:
        assert set(row) == set(COLUMNS)
        for name, cell in row.items():
            assert not cell.startswith(FORMULA_STARTS), (name, cell)
        assert row["body"].startswith("'@")
        assert row["reply"].startswith("'-")
        assert row["unit_name"] == "'=cmd|' /C calc'!A0 住建局"
        assert float(row["days_to_reply"]) >= 0 and int(row["cosign_count"]) == 0
