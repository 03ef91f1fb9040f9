"""Importing published messages and their replies from files (`flask import messages`).

Layouts: CSV and JSON Lines with our field names (or the Chinese column names of the TipDM
files), the TipDM 2020 XLSX layout (留言编号, 留言用户, 留言主题, 留言时间, 留言详情, 答复意见,
答复时间) and the 领导留言板 board snapshot JSON (`recent`/`pending`/`low` lists). Imported rows
bypass moderation: they become published public messages with their replies, an event row per
step and a search outbox row, committed in batches. `(source, external_id)` is unique, so a second
import of the same file changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select

from ..auth.services import hash_password
from ..clock import from_local, utcnow
from ..extensions import db
from ..messages.services import CODE_ALPHABET, TITLE_MAX
from ..models import (
    KINDS_BY_TRACK,
    Board,
    Domain,
    Event,
    Kind,
    Message,
    Post,
    Region,
    RegionLevel,
    Reply,
    ReplyState,
    Role,
    State,
    Track,
    Unit,
    User,
    Visibility,
)
from ..search import outbox

BATCH_SIZE = 500
SOURCE_MAX = 16
IMPORT_EMAIL_DOMAIN = "import.minsheng.example"

# Canonical field → the column names it may carry in a file.
COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "id", "tid", "留言编号"),
    "title": ("title", "留言主题"),
    "body": ("body", "content", "留言详情"),
    "created_at": ("created_at", "date", "留言时间"),
    "author": ("author", "pen_name", "user", "nick", "留言用户"),
    "reply": ("reply", "replyContent", "答复意见"),
    "replied_at": ("replied_at", "replyTime", "答复时间"),
    "reply_unit": ("reply_unit", "replyOrg", "答复单位"),
    "board": ("board",),
    "forum": ("forum",),
    "level": ("level",),
    "region": ("region",),
    "district": ("district",),
    "track": ("track",),
    "kind": ("kind", "type"),
    "domain": ("domain", "一级分类"),
    "status": ("status",),
    "ip": ("ip",),
    # Up-votes of the archive ("I have this problem too"), kept as co-signs: hot issues weigh them.
    "votes": ("votes", "likes", "点赞数"),
}
DOMAIN_NAMES = {
    "城建": Domain.URBAN,
    "交通": Domain.TRANSPORT,
    "三农": Domain.RURAL,
    "环保": Domain.ENVIRONMENT,
    "教育": Domain.EDUCATION,
    "医疗": Domain.HEALTH,
    "治安": Domain.SECURITY,
    "旅游": Domain.TOURISM,
    "就业": Domain.EMPLOYMENT,
    "文娱": Domain.CULTURE,
    "金融": Domain.FINANCE,
    "企业": Domain.BUSINESS,
    "政务": Domain.GOVERNMENT,
    "其他": Domain.OTHER,
    "征集": Domain.GOVERNMENT,
    # TipDM 一级分类
    "城乡建设": Domain.URBAN,
    "环境保护": Domain.ENVIRONMENT,
    "交通运输": Domain.TRANSPORT,
    "教育文体": Domain.EDUCATION,
    "劳动和社会保障": Domain.EMPLOYMENT,
    "商贸旅游": Domain.BUSINESS,
    "卫生计生": Domain.HEALTH,
}
# Keyword guesses for rows that carry no domain, first match wins.
DOMAIN_KEYWORDS: tuple[tuple[Domain, tuple[str, ...]], ...] = (
    (Domain.EDUCATION, ("学校", "小学", "中学", "幼儿园", "学生", "老师", "教育", "学区", "招生")),
    (Domain.HEALTH, ("医院", "医保", "医疗", "疫苗", "卫生院", "看病", "药")),
    (Domain.EMPLOYMENT, ("工资", "欠薪", "社保", "劳动", "就业", "养老金", "农民工", "失业")),
    (Domain.TRANSPORT, ("公交", "地铁", "交通", "道路", "红绿灯", "停车", "高速", "出租车")),
    (Domain.ENVIRONMENT, ("噪音", "扰民", "污染", "油烟", "环保", "排放", "垃圾", "臭")),
    (Domain.SECURITY, ("派出所", "诈骗", "治安", "盗", "警察", "公安", "户口", "落户")),
    (Domain.FINANCE, ("银行", "贷款", "公积金", "理财", "借贷", "金融", "保险")),
    (Domain.RURAL, ("农村", "村民", "宅基地", "土地流转", "农业", "种植", "养殖")),
    (Domain.TOURISM, ("景区", "旅游", "旅行社", "游客")),
    (Domain.CULTURE, ("图书馆", "文化", "体育", "广场舞", "演出")),
    (Domain.BUSINESS, ("商家", "退款", "消费者", "企业", "公司", "营业执照", "商户")),
    (Domain.URBAN, ("物业", "小区", "业主", "拆迁", "房", "电梯", "路灯", "施工", "供水", "燃气")),
    (Domain.GOVERNMENT, ("办事", "政务", "审批", "窗口", "证明")),
)
KIND_NAMES = {
    "建言": Kind.SUGGESTION,
    "咨询": Kind.INQUIRY,
    "投诉": Kind.COMPLAINT,
    "求助": Kind.HELP,
    "感谢": Kind.THANKS,
    "建议意见": Kind.OPINION,
    "检举控告": Kind.REPORT,
    "申诉求决": Kind.CLAIM,
}
LEVELS = {
    "province": RegionLevel.PROVINCE,
    "city": RegionLevel.CITY,
    "district": RegionLevel.COUNTY,
    "county": RegionLevel.COUNTY,
}
TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
# The Zhejiang board snapshot: boards are matched within 浙江省.
SNAPSHOT_SCOPE = "330000"


# ---------------------------------------------------------------------------------------------
# Reading files


@dataclass
class RowSource:
    """The rows of one file, with its layout name and how many rows it holds (for progress)."""

    path: str
    layout: str
    total: int
    rows: Iterator[dict]
    scope: str | None = None  # boards are matched by title within this region


def _xlsx_rows(path: str) -> tuple[int, Iterator[dict], list[str]]:
    """Row count, non-empty rows as dicts and the header of a workbook's first sheet."""
    # Imported here: openpyxl costs ~0.3 s of CPU to import, and every process (each web
    # worker's master, every cron tick) imports this module with the CLI.
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    sheet = workbook.active
    rows = sheet.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, ())]

    def generate() -> Iterator[dict]:
        """Yield the non-empty rows, closing the workbook at the end."""
        try:
            for values in rows:
                if any(v not in (None, "") for v in values):
                    yield dict(zip(header, values, strict=False))
        finally:
            workbook.close()

    return max((sheet.max_row or 1) - 1, 0), generate(), header


def _snapshot_rows(data: dict) -> list[dict]:
    """The snapshot's lists merged by message id, later lists filling gaps of earlier ones."""
    merged: dict[str, dict] = {}
    for name in ("recent", "pending", "low"):
        for row in data.get(name) or []:
            key = str(row.get("tid") or row.get("id"))
            target = merged.setdefault(key, {})
            for k, v in row.items():
                if v not in (None, "") and target.get(k) in (None, ""):
                    target[k] = v
    return list(merged.values())


def open_rows(path: str, *, limit: int | None = None) -> RowSource:
    """Detect a file's layout and iterate its rows as dicts."""
    suffix = Path(path).suffix.lower()
    scope = None
    if suffix == ".xlsx":
        total, rows, header = _xlsx_rows(path)
        layout = "tipdm2020c" if "留言编号" in header and "留言主题" in header else "xlsx"
    elif suffix == ".json":
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict) and any(k in data for k in ("recent", "pending", "low")):
            layout, scope = "liuyan_zhejiang", SNAPSHOT_SCOPE
            items = _snapshot_rows(data)
        elif isinstance(data, list):
            layout, items = "json", [r for r in data if isinstance(r, dict)]
        else:
            raise ValueError("unknown JSON layout (expected a list or a board snapshot)")
        total, rows = len(items), iter(items)
    elif suffix in (".jsonl", ".ndjson"):
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f if line.strip()]
        layout, total = "jsonl", len(lines)
        rows = (json.loads(line) for line in lines)
    elif suffix in (".csv", ".tsv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
        layout = "csv"
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        items = list(reader)
        total, rows = len(items), iter(items)
    else:
        raise ValueError("unsupported file type (CSV, JSON Lines, JSON or XLSX)")
    if limit is not None:
        total = min(total, limit)
        rows = itertools.islice(rows, limit)
    return RowSource(path, layout, total, rows, scope)


# ---------------------------------------------------------------------------------------------
# Normalising a row


def canonical(raw: dict) -> dict:
    """A row's values under canonical keys (the first non-empty alias wins)."""
    row = {}
    for key, names in COLUMNS.items():
        for name in names:
            value = raw.get(name)
            if value not in (None, ""):
                row[key] = value
                break
    return row


def parse_time(value: object) -> datetime | None:
    """A time from a file as naive UTC; times without an offset are China local time."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return from_local(value)
    text = str(value).strip()
    for fmt in TIME_FORMATS:
        try:
            return from_local(datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:
        return from_local(datetime.fromisoformat(text))
    except ValueError:
        return None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: object) -> str:
    """Text without control characters (PostgreSQL refuses NUL) or surrounding whitespace."""
    return _CONTROL.sub("", str(value or "")).strip()


def guess_domain(text: str) -> Domain:
    """A domain from keywords in the title and body, `other` when nothing matches."""
    for domain, words in DOMAIN_KEYWORDS:
        if any(w in text for w in words):
            return domain
    return Domain.OTHER


def guess_kind(title: str) -> Kind:
    """A board-track kind from the wording of a title."""
    if "感谢" in title or "致谢" in title:
        return Kind.THANKS
    if "建议" in title or "建言" in title:
        return Kind.SUGGESTION
    if any(w in title for w in ("求助", "恳请", "帮帮", "救救")):
        return Kind.HELP
    if any(
        w in title
        for w in ("咨询", "请问", "如何", "怎么", "能否", "是否", "何时", "吗", "？", "?")
    ):
        return Kind.INQUIRY
    return Kind.COMPLAINT


def _domain(value: object, text: str) -> Domain:
    """A domain from a code or Chinese label, else guessed from the text."""
    value = clean_text(value)
    if value in Domain.__members__.values():
        return Domain(value)
    return DOMAIN_NAMES.get(value) or guess_domain(text)


def _kind(value: object, title: str, track: Track) -> Kind:
    """A kind of the track from a code or Chinese label, else guessed from the title."""
    value = clean_text(value)
    kind = Kind(value) if value in Kind.__members__.values() else KIND_NAMES.get(value)
    if kind is None and value == "投诉/求助":
        kind = Kind.HELP if guess_kind(title) == Kind.HELP else Kind.COMPLAINT
    if kind is None or kind not in KINDS_BY_TRACK[track]:
        kind = guess_kind(title) if track == Track.BOARD else Kind.OPINION
    return kind


def _votes(value: object) -> int:
    """A vote count of the file, or 0 when it is missing or not a number."""
    try:
        return max(int(float(str(value).strip())), 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _title(value: str) -> str:
    """A title on one line, cut to the 40 characters a message allows."""
    title = re.sub(r"\s+", " ", value).strip()
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def _title_key(title: str) -> str:
    """Board titles compared loosely: 杭州市市长 and 杭州市长 are one post."""
    return re.sub(r"\s+", "", title).replace("市市长", "市长")


# ---------------------------------------------------------------------------------------------
# Importing


ALREADY_IMPORTED = "already imported"


@dataclass
class ImportReport:
    """What one file's import did."""

    path: str
    source: str
    read: int = 0
    imported: int = 0
    replied: int = 0
    units_created: int = 0
    skipped: Counter = field(default_factory=Counter)

    @property
    def placed(self) -> int:
        """Rows that are on the board after this run: imported now or by an earlier run."""
        return self.imported + self.skipped[ALREADY_IMPORTED]

    def lines(self) -> list[str]:
        """A summary for the command line."""
        lines = [
            f"{self.source}: {Path(self.path).name} — read {self.read}, imported {self.imported}"
            f" ({self.replied} with replies), skipped {sum(self.skipped.values())}"
            f", units created {self.units_created}"
        ]
        lines += [f"  skipped {n}: {reason}" for reason, n in self.skipped.most_common()]
        return lines


class _Importer:
    """Resolves boards, regions, units and authors for the rows of one source."""

    def __init__(self, source: str, scope: str | None, board_code: str | None) -> None:
        self.source = source
        self.fallback = (
            db.session.scalar(select(Board).where(Board.code == board_code)) if board_code else None
        )
        query = select(Board).join(Region, Board.region_code == Region.code)
        if scope:
            query = query.where(or_(Region.code == scope, Region.path.like(f"{scope}/%")))
        self.boards = list(db.session.scalars(query))
        self.board_keys = [(_title_key(b.title), b) for b in self.boards]
        self.forums: dict[tuple[str, RegionLevel | None], Board | None] = {}
        self.by_code = {b.code: b for b in db.session.scalars(select(Board))}
        self.scope_regions: dict[str, list[Region]] = {}
        for region in db.session.scalars(
            select(Region).where(Region.code.in_({b.region_code for b in self.boards}))
        ):
            self.scope_regions.setdefault(region.name, []).append(region)
        self.existing = set(
            db.session.scalars(select(Message.external_id).where(Message.source == source))
        )
        self.seen: set[str] = set()
        self.codes: set[str] = set()
        self.units: dict[tuple[str, str], Unit] = {}
        self.units_created = 0
        self.author = self._author()

    def _author(self) -> User:
        """The one "imported" system citizen of this source (no usable password)."""
        slug = re.sub(r"[^a-z0-9.-]+", "-", self.source.lower()).strip("-.") or "source"
        email = f"{slug}@{IMPORT_EMAIL_DOMAIN}"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email,
                password_hash=hash_password(secrets.token_urlsafe(24)),
                pen_name=f"导入数据·{self.source}"[:40],
                role=Role.CITIZEN,
                created_at=utcnow(),
            )
            db.session.add(user)
            db.session.flush()
        return user

    def board_for(self, row: dict) -> Board | None:
        """The row's board: its code, else its forum's title within scope, else --board."""
        board = self.by_code.get(clean_text(row.get("board")))
        if board is None and row.get("forum"):
            key = (clean_text(row["forum"]), LEVELS.get(clean_text(row.get("level"))))
            if key not in self.forums:
                self.forums[key] = self._match_forum(*key)
            board = self.forums[key]
        return board or self.fallback

    def _match_forum(self, forum: str, level: RegionLevel | None) -> Board | None:
        key = _title_key(forum)
        matches = [(k, b) for k, b in self.board_keys if key.startswith(k)]
        if matches:
            longest = max(len(k) for k, _ in matches)
            matches = [b for k, b in matches if len(k) == longest]
            if len(matches) > 1 and level:
                matches = [b for b in matches if b.region.level == level]
            return matches[0] if len(matches) == 1 else None
        # A region's own forum (e.g. "杭州市"): its government, else its Party secretary.
        regions = self.scope_regions.get(forum, [])
        if len(regions) != 1:
            return None
        posts = {b.post: b for b in self.boards if b.region_code == regions[0].code}
        return posts.get(Post.GOVERNOR) or posts.get(Post.SECRETARY)

    def region_for(self, board: Board, row: dict) -> Region:
        """Where the problem occurred: the row's region or district within the board's area."""
        region = None
        if row.get("region"):
            region = db.session.get(Region, clean_text(row["region"]))
        elif row.get("district"):
            path = board.region.path
            region = db.session.scalar(
                select(Region).where(
                    Region.name == clean_text(row["district"]),
                    or_(Region.path == path, Region.path.like(f"{path}/%")),
                )
            )
        return region if region is not None and board.region.contains(region) else board.region

    def unit_for(self, board: Board, name: str) -> Unit:
        """The unit that replied, created under the board's region on first sight."""
        if not name:
            return board.office_unit
        key = (board.region_code, name)
        if key not in self.units:
            path = board.region.path
            unit = db.session.scalar(
                select(Unit)
                .join(Region, Unit.region_code == Region.code)
                .where(Unit.name == name, or_(Region.path == path, Region.path.like(f"{path}/%")))
            )
            if unit is None:
                digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:8]
                unit = Unit(
                    code=f"{board.region_code}-i{digest}",
                    name=name[:120],
                    region_code=board.region_code,
                )
                db.session.add(unit)
                db.session.flush()
                self.units_created += 1
            self.units[key] = unit
        return self.units[key]

    def new_code(self, moment: datetime) -> str:
        """A tracking code unused in the database and in this run."""
        while True:
            tail = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
            code = f"MS-{moment.year}-{tail}"
            if code in self.codes:
                continue
            with db.session.no_autoflush:
                taken = db.session.scalar(select(Message.id).where(Message.code == code))
            if taken is None:
                self.codes.add(code)
                return code

    def build(self, raw: dict) -> Message | str:
        """A message ready to add, or the reason the row is skipped."""
        row = canonical(raw)
        title, body = _title(clean_text(row.get("title"))), clean_text(row.get("body"))
        created_at = parse_time(row.get("created_at"))
        external_id = clean_text(row.get("external_id"))
        if not external_id:
            basis = f"{title}|{row.get('created_at')}|{row.get('author')}|{body[:200]}"
            external_id = (
                "sha1:" + hashlib.sha1(basis.encode(), usedforsecurity=False).hexdigest()[:20]
            )
        external_id = external_id[:64]
        if external_id in self.existing:
            return ALREADY_IMPORTED
        if external_id in self.seen:
            return "duplicate row in the file"
        if not title:
            return "no title"
        if not body:
            return "no body"
        if created_at is None:
            return "no valid time"
        board = self.board_for(row)
        if board is None:
            return "no board matched (use --board CODE)"
        region = self.region_for(board, row)
        track = Track.PETITION if clean_text(row.get("track")) == Track.PETITION else Track.BOARD
        reply_text = clean_text(row.get("reply"))
        status = clean_text(row.get("status"))
        message = Message(
            code=self.new_code(created_at),
            track=track,
            kind=_kind(row.get("kind"), title, track),
            domain=_domain(row.get("domain"), f"{title} {body[:300]}"),
            board_id=board.id,
            region_code=region.code,
            region_path=region.path,
            title=title,
            body=body,
            private_note="",
            wants_public=True,
            visibility=Visibility.PUBLIC,
            is_hidden=False,
            state=State.RECEIVED,
            author_id=self.author.id,
            pen_name=clean_text(row.get("author"))[:40] or "网友",
            source=self.source,
            external_id=external_id,
            author_ip=clean_text(row.get("ip"))[:64] or None,
            cosign_count=_votes(row.get("votes")),
            created_at=created_at,
            published_at=created_at,
            updated_at=created_at,
        )
        note = f"导入自 {self.source}" + (f"（原状态：{status}）" if status else "")
        message.events.append(
            Event(
                action="import",
                from_state=None,
                to_state=State.RECEIVED,
                note=note,
                is_public=True,
                created_at=created_at,
            )
        )
        if reply_text:
            unit = self.unit_for(board, clean_text(row.get("reply_unit")))
            replied_at = max(parse_time(row.get("replied_at")) or created_at, created_at)
            message.state = State.REPLIED
            message.unit_id = unit.id
            message.replied_at = replied_at
            message.updated_at = replied_at
            message.events.append(
                Event(
                    action="reply",
                    from_state=State.RECEIVED,
                    to_state=State.REPLIED,
                    note=unit.name,
                    is_public=True,
                    created_at=replied_at,
                )
            )
            message.replies.append(
                Reply(
                    unit_id=unit.id,
                    body=reply_text,
                    state=ReplyState.PUBLISHED,
                    created_at=replied_at,
                    published_at=replied_at,
                )
            )
        self.seen.add(external_id)
        return message


def import_rows(
    rows: RowSource,
    *,
    board_code: str | None = None,
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import one file's rows, committing every BATCH_SIZE messages with their outbox rows."""
    source = (source or rows.layout).strip()
    if not source or len(source) > SOURCE_MAX:
        raise ValueError(f"source name must be 1 to {SOURCE_MAX} characters")
    report = ImportReport(rows.path, source)
    importer = _Importer(source, rows.scope, board_code)
    pending: list[Message] = []

    def flush() -> None:
        """Write the pending batch with its outbox rows in one transaction."""
        db.session.flush()
        for message in pending:
            outbox.enqueue(message)
        db.session.commit()
        pending.clear()

    for raw in rows.rows:
        report.read += 1
        result = importer.build(raw)
        if isinstance(result, str):
            report.skipped[result] += 1
        else:
            db.session.add(result)
            pending.append(result)
            report.imported += 1
            report.replied += bool(result.replies)
            if len(pending) >= BATCH_SIZE:
                flush()
        if progress:
            progress(1)
    flush()
    report.units_created = importer.units_created
    # Indexing thousands of rows inline would stall the import: `flask search sync` or the
    # worker applies the outbox rows written above.
    return report


def import_files(
    paths: Iterable[str],
    *,
    board_code: str | None = None,
    source: str | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ImportReport]:
    """Import several files; returns one report per file."""
    return [
        import_rows(
            open_rows(p, limit=limit), board_code=board_code, source=source, progress=progress
        )
        for p in paths
    ]
