"""`flask import messages`: CSV, JSON Lines, the TipDM XLSX layout and the board snapshot JSON."""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from board.clock import from_local
from board.extensions import db
from board.models import (
    Board,
    Domain,
    Event,
    Kind,
    Message,
    Region,
    Role,
    SearchOutbox,
    State,
    Unit,
    User,
    Visibility,
)
from board.seed.directory import ensure_boards, load_regions
from board.seed.regions import region_rows, subset

DATA = Path(
    os.environ.get("BOARD_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
TIPDM_HEADER = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"]


def count(model) -> int:
    """Rows in a table."""
    return db.session.scalar(select(func.count()).select_from(model))


def by_external_id(source: str, external_id: str) -> Message:
    """The imported message with this source row id."""
    return db.session.scalar(
        select(Message).where(Message.source == source, Message.external_id == external_id)
    )


def import_(runner, *args: str):
    """Run `flask import messages …` and insist it succeeded."""
    result = runner.invoke(args=["import", "messages", *args])
    assert result.exit_code == 0, result.output
    return result


def write_csv(path: Path, rows: list[dict]) -> Path:
    """A UTF-8 CSV file with a header row."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_tipdm_xlsx(path: Path, rows: list[list]) -> Path:
    """An XLSX file in the layout of ../shared/data/tipdm2020c (sheet Sheet1)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(TIPDM_HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


CSV_ROWS = [
    {
        "id": "c-1",
        "title": "小区门口路灯不亮",
        "body": "  文三路小区门口的路灯已经坏了一个月，晚上出行很不安全。  ",
        "created_at": "2025-05-06 20:15:00",
        "author": "文三路居民",
        "board": "330100-secretary",
        "domain": "urban",
        "kind": "complaint",
        "reply": "经核实，路灯已于 5 月 10 日修复，感谢您的监督。",
        "reply_unit": "杭州市城市管理局",
        "replied_at": "2025-05-12 09:30:00",
    },
    {
        "id": "c-2",
        "title": "公交末班车太早",
        "body": "建议 155 路公交延长末班车时间到晚上十点半。",
        "created_at": "2025-06-01T08:00:00+08:00",
        "author": "",
        "board": "330100-governor",
        "domain": "交通",
        "kind": "建言",
        "reply": "",
        "reply_unit": "",
        "replied_at": "",
    },
    {
        "id": "c-3",
        "title": "",
        "body": "没有标题的一行不能导入。",
        "created_at": "2025-06-02 08:00:00",
        "author": "x",
        "board": "330100-governor",
        "domain": "",
        "kind": "",
        "reply": "",
        "reply_unit": "",
        "replied_at": "",
    },
    {
        "id": "c-4",
        "title": "找不到留言板的一行",
        "body": "这一行的留言板代码不存在，也没有给出 --board。",
        "created_at": "2025-06-03 08:00:00",
        "author": "y",
        "board": "999999-secretary",
        "domain": "",
        "kind": "",
        "reply": "",
        "reply_unit": "",
        "replied_at": "",
    },
]


def test_csv_import_publishes_messages_with_replies_and_a_second_import_changes_nothing(
    runner, directory, tmp_path
):
    """Rows become public messages with events, replies and outbox rows; re-import is a no-op."""
    path = write_csv(tmp_path / "messages.csv", CSV_ROWS)
    first = import_(runner, str(path))
    assert "read 4, imported 2 (1 with replies), skipped 2" in first.output
    assert "no title" in first.output and "no board matched" in first.output

    m = by_external_id("csv", "c-1")
    assert m.state == State.REPLIED and m.is_public and m.visibility == Visibility.PUBLIC
    assert m.body == "文三路小区门口的路灯已经坏了一个月，晚上出行很不安全。"
    assert m.created_at == m.published_at == from_local(datetime(2025, 5, 6, 20, 15))
    assert m.replied_at == from_local(datetime(2025, 5, 12, 9, 30))
    assert m.pen_name == "文三路居民" and m.region_code == "330100"
    assert (m.domain, m.kind) == (Domain.URBAN, Kind.COMPLAINT)
    assert [(e.action, e.to_state) for e in m.events] == [
        ("import", State.RECEIVED),
        ("reply", State.REPLIED),
    ]
    assert m.events[1].created_at == m.replied_at
    reply = m.published_replies[0]
    assert reply.unit.name == "杭州市城市管理局" and reply.unit.region_code == "330100"
    assert m.unit_id == reply.unit_id
    assert m.author.role == Role.CITIZEN and m.author.email.startswith("csv@")

    other = by_external_id("csv", "c-2")
    assert other.state == State.RECEIVED and other.replies == [] and other.pen_name == "网友"
    assert (other.domain, other.kind) == (Domain.TRANSPORT, Kind.SUGGESTION)
    assert other.created_at == datetime(2025, 6, 1, 0, 0)
    assert count(SearchOutbox) == 2

    counts = (count(Message), count(Event), count(Unit), count(User), count(SearchOutbox))
    second = import_(runner, str(path))
    assert "imported 0" in second.output and "skipped 2: already imported" in second.output
    assert (count(Message), count(Event), count(Unit), count(User), count(SearchOutbox)) == counts


def test_jsonl_import_uses_the_fallback_board_and_guesses_missing_codes(
    runner, directory, tmp_path
):
    """Rows without a board go to --board; domain and kind are guessed from the wording."""
    path = tmp_path / "rows.jsonl"
    rows = [
        {
            "id": 1,
            "title": "请问公积金提取租房的条件？",
            "body": "想咨询租房提取住房公积金的条件。",
            "created_at": "2024-03-01 10:00:00",
        },
        {
            "id": 2,
            "title": "感谢西湖区住建局",
            "body": "小区停水问题一天就解决了，特此感谢。",
            "created_at": "2024-03-02 10:00:00",
            "region": "330106",
        },
        {
            "id": 2,
            "title": "重复的行",
            "body": "同一个编号在文件里出现了两次。",
            "created_at": "2024-03-02 10:00:00",
        },
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    result = import_(runner, str(path), "--board", "330100-governor", "--source", "hz-2024")
    assert "imported 2" in result.output and "duplicate row in the file" in result.output

    first, second = by_external_id("hz-2024", "1"), by_external_id("hz-2024", "2")
    assert first.board.code == second.board.code == "330100-governor"
    assert (first.domain, first.kind) == (Domain.FINANCE, Kind.INQUIRY)
    assert second.kind == Kind.THANKS and second.region_code == "330106"


def test_tipdm_xlsx_layout_strips_bodies_and_reads_local_times(runner, directory, tmp_path):
    """The TipDM layout: stray whitespace stripped, China times stored as UTC, --limit honoured."""
    long_title = "关于" + "某小区" * 20 + "的问题"
    path = write_tipdm_xlsx(
        tmp_path / "tipdm.xlsx",
        [
            [
                2549,
                "A00045581",
                "A2区景蓉华苑物业管理有问题",
                "2019/4/25 9:32:09",
                "\n\t\t\t\t\t\n\t\t\t\t\t2019年4月以来，小区物业管理混乱。\n\t\t\t\t",
                "网友您好！经核查，已责令物业公司整改。",
                "2019/5/10 14:56:53",
            ],
            [None, None, None, None, None, None, None],
            [
                2554,
                "A00023583",
                long_title,
                datetime(2019, 4, 24, 16, 3, 40),
                "\n\t\t潇楚南路从2018年开始修，到现在还没修好。",
                None,
                None,
            ],
            [
                2555,
                "A00031618",
                "第三行不会读到",
                "2019/4/24 16:03:40",
                "正文内容足够长。",
                None,
                None,
            ],
        ],
    )
    result = import_(runner, str(path), "--board", "330100-secretary", "--limit", "2")
    assert "tipdm2020c: tipdm.xlsx — read 2, imported 2 (1 with replies)" in result.output

    m = by_external_id("tipdm2020c", "2549")
    assert m.body == "2019年4月以来，小区物业管理混乱。"
    assert m.created_at == datetime(2019, 4, 25, 1, 32, 9)
    assert m.replied_at == datetime(2019, 5, 10, 6, 56, 53)
    assert m.pen_name == "A00045581" and m.state == State.REPLIED
    assert m.published_replies[0].unit.code == "330100-secretary-office"
    assert m.domain == Domain.URBAN

    long_titled = by_external_id("tipdm2020c", "2554")
    assert len(long_titled.title) == 40 and long_titled.title.endswith("…")
    assert long_titled.created_at == datetime(2019, 4, 24, 8, 3, 40)
    assert long_titled.state == State.RECEIVED
    assert by_external_id("tipdm2020c", "2555") is None


def snapshot_row(tid: int, forum: str, **fields) -> dict:
    """A message of the 领导留言板 snapshot."""
    row = {
        "tid": tid,
        "id": str(tid),
        "date": "2025-03-19",
        "forum": forum,
        "level": "city",
        "district": None,
        "title": f"留言{tid}",
        "content": "小区门口道路破损严重，请尽快修复。",
        "domain": "城建",
        "type": "投诉/求助",
        "status": "待回复",
        "hasReply": False,
        "replyOrg": "",
        "replyContent": "",
        "ip": "124.90.86.*",
    }
    row.update(fields)
    return row


def test_board_snapshot_maps_forums_to_zhejiang_boards(runner, directory, tmp_path):
    """Forum names find their boards; the district sets the region; duplicates merge."""
    snapshot = {
        "updated": "2026-06-07T20:56:55+08:00",
        "recent": [
            snapshot_row(1, "杭州市委书记刘捷", type="咨询", domain="交通"),
            snapshot_row(
                2,
                "杭州市市长姚高员",
                status="已办理",
                replyOrg="杭州市城乡建设委员会",
                replyContent="经现场核实，道路已修复。",
            ),
            snapshot_row(3, "杭州市"),
        ],
        "pending": [
            snapshot_row(4, "西湖区委书记", level="district", district="西湖区"),
            snapshot_row(5, "萧山区委书记", level="district", district="萧山区"),
        ],
        "low": [
            {
                "tid": 2,
                "title": "留言2",
                "content": "重复",
                "date": "2025-03-19",
                "forum": "杭州市市长姚高员",
                "gm": 1,
                "gs": 1,
                "status": "已办理",
            }
        ],
    }
    path = tmp_path / "board_snapshot.json"
    path.write_text(json.dumps(snapshot, ensure_ascii=False))
    result = import_(runner, str(path))
    assert "read 5, imported 4" in result.output and "no board matched" in result.output

    boards = {
        m.external_id: m.board.code
        for m in db.session.scalars(select(Message).where(Message.source == "liuyan_zhejiang"))
    }
    assert boards == {
        "1": "330100-secretary",
        "2": "330100-governor",
        "3": "330100-governor",
        "4": "330106-secretary",
    }
    consult = by_external_id("liuyan_zhejiang", "1")
    assert (consult.kind, consult.domain, consult.state) == (
        Kind.INQUIRY,
        Domain.TRANSPORT,
        State.RECEIVED,
    )
    assert consult.author_ip == "124.90.86.*" and "待回复" in consult.events[0].note
    replied = by_external_id("liuyan_zhejiang", "2")
    assert replied.state == State.REPLIED and replied.body == "小区门口道路破损严重，请尽快修复。"
    assert replied.unit.name == "杭州市城乡建设委员会" and replied.unit.region_code == "330100"
    assert by_external_id("liuyan_zhejiang", "4").region_code == "330106"

    fallback = import_(runner, str(path), "--board", "330100-secretary")
    assert "imported 1" in fallback.output and "already imported" in fallback.output
    assert by_external_id("liuyan_zhejiang", "5").board.code == "330100-secretary"


def test_import_refuses_unknown_files_and_boards(runner, directory, tmp_path):
    """An unknown file type or --board code stops with a message and a non-zero exit."""
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = runner.invoke(args=["import", "messages", str(text)])
    assert result.exit_code != 0 and "unsupported file type" in result.output
    path = write_csv(tmp_path / "m.csv", CSV_ROWS[:1])
    result = runner.invoke(args=["import", "messages", str(path), "--board", "nope"])
    assert result.exit_code != 0 and "no board with code nope" in result.output
    assert count(Message) == 0


# ---------------------------------------------------------------------------------------------
# The real files of ../shared/data


needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not available")


@pytest.fixture
def zhejiang(app):
    """The real regions and boards of Zhejiang."""
    load_regions(subset(region_rows(), {"330000"}))
    ensure_boards()


@needs_data
def test_real_tipdm_replies_import_with_their_dates(runner, zhejiang):
    """The first 200 rows of messages_with_replies.xlsx import replied, with ordered dates."""
    path = DATA / "tipdm2020c" / "messages_with_replies.xlsx"
    result = import_(runner, str(path), "--board", "330100-secretary", "--limit", "200")
    assert "read 200, imported 200 (200 with replies), skipped 0" in result.output
    messages = list(db.session.scalars(select(Message)))
    assert all(m.state == State.REPLIED and m.replied_at >= m.created_at for m in messages)
    assert all(m.body == m.body.strip() and m.published_replies for m in messages)
    first = by_external_id("tipdm2020c", "2549")
    assert first.created_at == from_local(datetime(2019, 4, 25, 9, 32, 9))
    assert first.replied_at == from_local(datetime(2019, 5, 10, 14, 56, 53))
    assert first.body.startswith("2019年4月以来")

    again = import_(runner, str(path), "--board", "330100-secretary", "--limit", "200")
    assert "imported 0" in again.output and count(Message) == 200


@needs_data
def test_real_board_snapshot_imports_every_message_once(runner, zhejiang):
    """Every unique message of the snapshot lands on a Hangzhou board."""
    path = DATA / "liuyan_zhejiang" / "board_snapshot.json"
    snapshot = json.loads(path.read_text())
    unique = {r["tid"] for name in ("recent", "pending", "low") for r in snapshot[name]}
    result = import_(runner, str(path))
    assert f"imported {len(unique)}" in result.output
    messages = list(db.session.scalars(select(Message)))
    assert len(messages) == len(unique)
    titles = {m.board.title for m in messages}
    assert {"杭州市委书记", "杭州市长", "余杭区委书记", "西湖区委书记"} <= titles
    assert all(m.board.region.path.startswith("330000/330100") for m in messages)
    assert all(m.is_public for m in messages)
    hangzhou = db.session.get(Region, "330100")
    assert all(hangzhou.contains(m.region) for m in messages)
    assert db.session.scalar(select(func.count()).select_from(Board)) > 0


def test_import_reports_each_file_and_fails_when_nothing_could_be_placed(
    runner, directory, tmp_path
):
    """Rows naming no known board, without --board: each file says why, the exit is non-zero;
    an unreadable file among good ones is reported and the others still import."""
    path = write_csv(tmp_path / "m.csv", CSV_ROWS[:2])
    rows = [dict(row, id=f"lost-{n}", board="不存在的留言板") for n, row in enumerate(CSV_ROWS[:2])]
    lost = write_csv(tmp_path / "lost.csv", rows)
    result = runner.invoke(args=["import", "messages", str(lost)])
    assert result.exit_code != 0, result.output
    assert "lost.csv" in result.output and "no board matched" in result.output
    assert "nothing imported from 1 file(s)" in result.output and "--board" in result.output
    assert count(Message) == 0

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = runner.invoke(args=["import", "messages", str(text), str(path)])
    assert result.exit_code == 0, result.output
    assert "notes.txt — not imported: unsupported file type" in result.output
    assert "imported 2 message(s) from 2 file(s)" in result.output
    again = runner.invoke(args=["import", "messages", str(path)])  # all there already: no error
    assert again.exit_code == 0 and "already imported" in again.output
