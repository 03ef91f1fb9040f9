"""The public pages: home, leader directory, region and board pages, message visibility."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from conftest import T0, login

from board.directory import views as directory_views
from board.extensions import db
from board.messages import services as msg
from board.models import Role


@pytest.fixture
def clock(monkeypatch):
    """Fix the directory pages' clock at 10:00 Beijing time on 2026-03-05 (T0 + 3 days + 1 h)."""
    monkeypatch.setattr(directory_views, "utcnow", lambda: T0 + timedelta(days=3, hours=1))


def test_home_shows_counters_and_a_published_message(client, make_message, clock):
    """The home page counts today's, this year's and all messages and replies, and lists public ones."""
    make_message("replied", title="小区停车费已答复")  # sent on 03-02, answered 03-05 09:00
    make_message("submitted", title="还在审核的留言", now=T0 + timedelta(days=3))
    make_message("replied", title="去年的留言", now=T0 - timedelta(days=400))

    page = client.get("/").get_data(as_text=True)

    assert "<dt>今日留言</dt><dd>1</dd>" in page
    assert "<dt>今年留言</dt><dd>2</dd>" in page
    assert "<dt>累计留言</dt><dd>3</dd>" in page
    assert "<dt>今日回复</dt><dd>1</dd>" in page
    assert "<dt>今年回复</dt><dd>1</dd>" in page
    assert "<dt>累计回复</dt><dd>2</dd>" in page
    assert "小区停车费已答复" in page
    assert "经核查，该小区停车收费未经备案" in page  # the reply excerpt
    assert "去年的留言" in page
    assert "还在审核的留言" not in page
    assert 'action="/search"' in page or 'name="q"' in page
    assert "/leaders?region=330000" in page


def test_directory_browse_province_city_county_shows_boards(client, directory):
    """From the province list down to a county, each level lists its boards and children."""
    top = client.get("/leaders").get_data(as_text=True)
    assert "浙江省委书记" in top and "浙江省长" in top
    assert 'href="/leaders?region=330000"' in top

    province = client.get("/leaders?region=330000").get_data(as_text=True)
    assert "杭州市委书记" in province and "杭州市长" in province
    assert 'href="/leaders?region=330100"' in province
    assert "西湖区委书记" not in province

    city = client.get("/leaders?region=330100").get_data(as_text=True)
    assert "西湖区委书记" in city and "淳安县委书记" in city
    assert 'href="/leaders?region=330106"' in city

    county = client.get("/leaders?region=330106").get_data(as_text=True)
    assert "西湖区委书记" in county
    assert "/write?board=330106-secretary" in county


def test_directory_unknown_region_is_404(client, directory):
    """A region code that does not exist is not found."""
    assert client.get("/leaders?region=999999").status_code == 404
    assert client.get("/regions/999999").status_code == 404
    assert client.get("/boards/nope").status_code == 404


def test_region_page_lists_boards_children_and_messages_below_it(client, make_message):
    """A city's page shows its boards, its counties and public messages from its counties."""
    make_message("received", title="西湖区的问题", region_code="330106")
    make_message(
        "received", title="宁波的问题", board_code="330200-secretary", region_code="330203"
    )

    page = client.get("/regions/330100").get_data(as_text=True)

    assert "杭州市委书记" in page and "杭州市长" in page
    assert "西湖区" in page and "淳安县" in page
    assert "西湖区的问题" in page
    assert "宁波的问题" not in page


def test_board_page_lists_only_public_messages(client, make_message, moderator):
    """Private, unscreened, rejected and hidden messages never appear on the board page."""
    make_message("received", title="公开的留言")
    make_message("received", title="不愿公开的留言", wants_public=False)
    make_message("submitted", title="待审核的留言")
    make_message("rejected", title="被驳回的留言")
    hidden = make_message("received", title="被隐藏的留言")
    msg.hide_message(hidden, moderator, reason="hide:unlawful", now=T0 + timedelta(days=1))
    make_message("received", title="别的留言板", board_code="330100-governor")

    response = client.get("/boards/330100-secretary")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "杭州市委书记" in page and "浙江省杭州市" in page
    assert "公开的留言" in page
    for title in ("不愿公开的留言", "待审核的留言", "被驳回的留言", "被隐藏的留言", "别的留言板"):
        assert title not in page
    assert "/write?board=330100-secretary" in page


def test_board_page_filters_by_kind_domain_and_state(client, make_message):
    """GET filters narrow the board's list; a state filter matches every state with that label."""
    make_message("received", title="投诉城建", kind="complaint", domain="urban")
    make_message("assigned", title="咨询交通", kind="inquiry", domain="transport")
    make_message("replied", title="投诉已答复", kind="complaint", domain="urban")

    by_kind = client.get("/boards/330100-secretary?kind=inquiry").get_data(as_text=True)
    assert "咨询交通" in by_kind and "投诉城建" not in by_kind

    by_domain = client.get("/boards/330100-secretary?domain=urban").get_data(as_text=True)
    assert "投诉城建" in by_domain and "投诉已答复" in by_domain and "咨询交通" not in by_domain

    waiting = client.get("/boards/330100-secretary?state=received").get_data(as_text=True)
    assert "投诉城建" in waiting and "咨询交通" in waiting and "投诉已答复" not in waiting

    bogus = client.get("/boards/330100-secretary?state=bogus&kind=x").get_data(as_text=True)
    assert "投诉城建" in bogus and "投诉已答复" in bogus


def test_board_page_paginates(app, client, make_message):
    """Long lists are split into pages with next/previous links."""
    app.config["PAGE_SIZE"] = 2
    for n in range(3):
        make_message("received", title=f"第{n}条", now=T0 + timedelta(hours=n))

    first = client.get("/boards/330100-secretary").get_data(as_text=True)
    second = client.get("/boards/330100-secretary?page=2").get_data(as_text=True)

    assert "第2条" in first and "第1条" in first and "第0条" not in first
    assert "page=2" in first
    assert "第0条" in second and "第2条" not in second


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_set_language_sets_cookie_and_goes_back(client, directory, lang):
    """The language link stores a year-long Lax cookie and returns to the page it came from."""
    response = client.get(f"/lang/{lang}?next=/leaders?region=330000")

    assert response.status_code == 302
    assert response.headers["Location"] == "/leaders?region=330000"
    cookie = response.headers["Set-Cookie"]
    assert f"lang={lang}" in cookie
    assert "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_set_language_refuses_offsite_next(client, directory, target):
    """A `next` that leaves the site is replaced by the home page."""
    response = client.get("/lang/en", query_string={"next": target})

    location = urlsplit(response.headers["Location"])
    assert response.status_code == 302
    assert location.netloc in ("", "localhost")
    assert location.path == "/"


def test_set_language_unknown_language_is_404(client, directory):
    """Only configured languages can be chosen."""
    assert client.get("/lang/xx?next=/").status_code == 404


# ---------------------------------------------------------------------------------------------
# The message page: who may see what


PHONE_BODY = "我家楼下工地每晚施工到凌晨两点，噪音扰民严重，联系电话13812345678。"


def test_public_message_is_readable_by_anyone_with_personal_data_masked(client, make_message):
    """Visitors read a public message with phone numbers and pen name masked."""
    m = make_message("replied", body=PHONE_BODY)

    response = client.get(f"/m/{m.code}")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "138****5678" in page and "13812345678" not in page
    assert "陈**" in page and "陈明亮" not in page
    assert "浙江省杭州市西湖区" in page
    assert "经核查，该小区停车收费未经备案" in page
    assert "已回复" in page
    assert "附议 0" in page


def test_author_sees_originals_and_private_note(client, make_message, citizen):
    """The author reads their own text unmasked, with the private note."""
    m = make_message("received", body=PHONE_BODY, private_note="门牌号：文三路99号")
    login(client, citizen)

    page = client.get(f"/m/{m.code}").get_data(as_text=True)

    assert "13812345678" in page
    assert "门牌号：文三路99号" in page


def test_public_page_hides_private_note_values_in_text(client, make_message):
    """A value the author put in the private note is masked where it appears in public text."""
    m = make_message(
        "received", body="物业经理张大伟多次拒绝沟通，停车费每月多收两百元。", private_note="张大伟"
    )

    page = client.get(f"/m/{m.code}").get_data(as_text=True)

    assert "张大伟" not in page
    assert "张**" in page


@pytest.mark.parametrize("state", ["submitted", "rejected", "private"])
def test_non_public_message_is_404_for_visitors_and_other_citizens(
    client, make_message, troll, state
):
    """A message the viewer may not read looks exactly like one that does not exist."""
    if state == "private":
        m = make_message("received", title="不公开的留言", wants_public=False)
    else:
        m = make_message(state, title="不公开的留言")
    unknown = client.get("/m/MS-2026-ZZZZZZ")

    anonymous = client.get(f"/m/{m.code}")
    login(client, troll)
    other = client.get(f"/m/{m.code}")

    for response in (anonymous, other):
        assert response.status_code == 404
        assert "不公开的留言" not in response.get_data(as_text=True)
    assert unknown.status_code == 404


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_platform_staff_can_read_private_message_and_get_tool_links(
    client, make_message, make_user, role
):
    """Moderators and admins read private messages and see a link to the review page."""
    m = make_message("submitted", title="待审核的私密留言", private_note="身份证在备注里")
    login(client, make_user(role))

    page = client.get(f"/m/{m.code}").get_data(as_text=True)

    assert "待审核的私密留言" in page
    assert "身份证在备注里" in page
    assert f"/moderation/{m.code}" in page


def test_handler_and_coordinator_get_desk_link(client, make_message, handler, coordinator):
    """The handling side sees a link to the desk page of the message."""
    m = make_message("assigned")
    for user in (handler, coordinator):
        login(client, user)
        page = client.get(f"/m/{m.code}").get_data(as_text=True)
        assert f"/desk/m/{m.code}" in page
        assert f"/moderation/{m.code}" not in page
        client.post("/logout")


def test_citizen_sees_no_staff_links(client, make_message, troll):
    """Citizens get no links to staff tools."""
    m = make_message("received")
    login(client, troll)

    page = client.get(f"/m/{m.code}").get_data(as_text=True)

    assert "/moderation/" not in page and "/desk/m/" not in page


def test_hidden_message_says_removed_with_reason(client, make_message, moderator, citizen):
    """The public gets 410 and the reason; the author still reads the content with a notice."""
    m = make_message("received", title="违规内容的留言")
    msg.hide_message(m, moderator, reason="hide:privacy_leak", now=T0 + timedelta(days=1))

    response = client.get(f"/m/{m.code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "已被审核员移除" in page
    assert "公开内容涉及个人隐私" in page
    assert "违规内容的留言" not in page

    login(client, citizen)
    author_page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "违规内容的留言" in author_page
    assert "已被审核员隐藏" in author_page


def test_timeline_shows_internal_events_to_staff_only(
    app, client, make_message, moderator, citizen
):
    """An internal event (an urge, a draft sent back) is for staff: never on the public
    timeline, nor on the author's (DESIGN §3.2: public events to the public, all to staff)."""
    m = make_message("received")
    msg.record(
        m, "urge", moderator, now=T0 + timedelta(days=1), note="内部督办意见", is_public=False
    )
    db.session.commit()

    public_page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "审核通过" in public_page and "提交留言" in public_page
    assert "内部督办意见" not in public_page

    login(client, citizen)
    author_page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "审核通过" in author_page and "内部督办意见" not in author_page

    staff = app.test_client()
    login(staff, moderator)
    assert "内部督办意见" in staff.get(f"/m/{m.code}").get_data(as_text=True)


def test_rejected_message_shows_reason_to_author(client, make_message, citizen):
    """The author reads why moderation rejected the message."""
    m = make_message("rejected")
    login(client, citizen)

    page = client.get(f"/m/{m.code}").get_data(as_text=True)

    assert "未通过审核" in page
    assert "内容不清楚、无法办理" in page


def test_every_page_has_a_favicon_and_a_meta_description(client, directory):
    """The icon link resolves (and /favicon.ico leads to it); a description names the site."""
    page = client.get("/").get_data(as_text=True)
    assert '<meta name="description" content="' in page
    icon = client.get("/favicon.ico")
    # The static URL carries its version (`?v=…`, cached a year), the path is the icon's.
    assert icon.status_code == 301
    assert urlsplit(icon.headers["Location"]).path.endswith("/static/favicon.svg")
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_the_error_summary_names_each_wrong_field_and_links_to_it(client, directory):
    """A failed registration lists the fields at fault, each a link to its input."""
    page = client.post("/register", data={"email": "not-an-address"}).get_data(as_text=True)
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert '<a href="#password">' in summary and '<a href="#pen_name">' in summary


def test_reports_without_a_region_select_no_region(client, directory):
    """/reports asks for a region and no province looks chosen before one is."""
    page = client.get("/reports").get_data(as_text=True)
    select = page.split('id="rp-region"')[1].split("</select>")[0]
    assert '<option value="" selected>' in select and select.count(" selected") == 1


def test_citizens_see_no_api_token_link_but_staff_do(client, citizen, handler):
    """The header's API token link is for staff who script against the API."""
    login(client, citizen)
    assert "/account/tokens" not in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, handler)
    assert "/account/tokens" in client.get("/").get_data(as_text=True)
