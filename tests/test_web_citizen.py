"""The citizen's pages: choosing a board, composing with preview, my messages, actions."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from conftest import T0, login
from sqlalchemy import func, select

from board.extensions import db
from board.messages import services as msg
from board.messages import views as message_views
from board.models import Cosign, Message, State

NOW = T0 + timedelta(days=5)  # after make_message's reply (T0 + 3 days), inside the rating window

BODY = "我们小区门口的路灯已经坏了三个月，晚上出行很不安全，希望有关部门尽快修复。"
FORM = {
    "track": "board",
    "kind": "help",
    "domain": "urban",
    "region": "330106",
    "title": "小区门口路灯坏了三个月",
    "body": BODY,
    "private_note": "",
    "wants_public": "y",
    "real_name": "",
    "phone": "",
    "address": "",
}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Fix the message views' clock: five days after T0."""
    monkeypatch.setattr(message_views, "utcnow", lambda: NOW)


def _count() -> int:
    return db.session.scalar(select(func.count(Message.id)))


def _path(response) -> str:
    location = urlsplit(response.headers["Location"])
    return location.path + (f"?{location.query}" if location.query else "")


# ---------------------------------------------------------------------------------------------
# Choosing a board


def test_write_requires_login(client, directory):
    """A visitor is sent to sign in and brought back to the compose page."""
    response = client.get("/write?board=330100-secretary")

    assert response.status_code == 302
    assert _path(response).startswith("/login?next=")
    assert "330100-secretary" in response.headers["Location"]


def test_board_chooser_drills_down_by_region_without_js(client, citizen):
    """Without a board, /write offers provinces, then a region's boards and its children."""
    login(client, citizen)

    top = client.get("/write").get_data(as_text=True)
    assert '<option value="330000"' in top and "浙江省" in top

    city = client.get("/write?region=330100").get_data(as_text=True)
    assert "/write?board=330100-secretary" in city and "/write?board=330100-governor" in city
    assert '<option value="330106">西湖区</option>' in city


def test_board_chooser_search_by_name(client, citizen):
    """Typing a region or post name lists the matching boards."""
    login(client, citizen)

    page = client.get("/write?q=西湖").get_data(as_text=True)

    assert "/write?board=330106-secretary" in page
    assert "330100-governor" not in page


def test_compose_form_groups_kinds_by_track_and_limits_regions(client, citizen):
    """The kind select has one optgroup per track; regions are the board's and below."""
    login(client, citizen)

    page = client.get("/write?board=330100-secretary").get_data(as_text=True)

    assert '<optgroup label="留言">' in page and '<optgroup label="信访">' in page
    assert page.index('value="complaint"') < page.index('<optgroup label="信访">')
    assert page.index('<optgroup label="信访">') < page.index('value="claim"')
    assert "浙江省杭州市西湖区" in page
    assert "广州" not in page and "宁波" not in page
    assert 'value="陈明亮"' in page  # the petitioner's name is prefilled from the profile


def test_compose_unknown_board_is_404(client, citizen):
    """A board code that does not exist is not found."""
    login(client, citizen)

    assert client.get("/write?board=nope").status_code == 404


# ---------------------------------------------------------------------------------------------
# Preview and submit


def test_preview_masks_id_number_phone_and_note_values(client, citizen):
    """Preview shows the public version masked, keeps the originals in the form, saves nothing."""
    login(client, citizen)
    body = "我叫张三丰，身份证11010519491231002X，电话13812345678，物业一直不处理漏水问题。"

    response = client.post(
        "/write?board=330100-secretary",
        data={**FORM, "body": body, "private_note": "张三丰", "preview": "预览"},
    )
    page = response.get_data(as_text=True)
    preview = page[page.index('class="card preview"') : page.index("<form", page.index("preview"))]

    assert response.status_code == 200
    assert "110105********002X" in preview
    assert "138****5678" in preview
    assert "张**" in preview and "张三丰" not in preview
    assert "11010519491231002X" not in preview
    assert body in page  # the textarea still holds what was typed
    assert 'name="submit"' in page
    assert _count() == 0


def test_submit_creates_message_and_lists_it_under_my_messages(client, citizen):
    """Submitting files the message as submitted, flashes its code and lists it as 待审核."""
    login(client, citizen)

    response = client.post("/write?board=330100-secretary", data={**FORM, "submit": "提交"})

    message = db.session.scalar(select(Message))
    assert message.state == State.SUBMITTED
    assert message.board.code == "330100-secretary" and message.region_code == "330106"
    assert message.author_id == citizen.id and message.wants_public
    assert _path(response) == f"/m/{message.code}"
    shown = client.get(f"/m/{message.code}").get_data(as_text=True)
    assert message.code in shown and "留言已提交" in shown

    mine = client.get("/my").get_data(as_text=True)
    assert message.code in mine and "待审核" in mine and "小区门口路灯坏了三个月" in mine


def test_submit_petition_keeps_identity_private(client, citizen, moderator):
    """A petition with identity is filed; the identity shows to the author only."""
    login(client, citizen)
    data = {
        **FORM,
        "track": "petition",
        "kind": "claim",
        "real_name": "陈明亮",
        "phone": "13912345678",
        "address": "杭州市西湖区文三路1号",
        "submit": "提交",
    }

    client.post("/write?board=330100-secretary", data=data)

    message = db.session.scalar(select(Message))
    assert (message.track, message.real_name, message.address) == (
        "petition",
        "陈明亮",
        "杭州市西湖区文三路1号",
    )
    assert "杭州市西湖区文三路1号" in client.get(f"/m/{message.code}").get_data(as_text=True)
    msg.approve_message(message, moderator, now=T0 + timedelta(days=6))
    client.post("/logout")
    public = client.get(f"/m/{message.code}").get_data(as_text=True)
    assert "文三路1号" not in public and "13912345678" not in public


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"title": ""}, "请填写标题"),
        ({"title": "路" * 41}, "标题不能超过 40 个字"),
        ({"region": "440106"}, "问题发生地必须在“杭州市委书记”的辖区内"),
        ({"track": "petition", "kind": "claim", "real_name": ""}, "信访事项须填写真实姓名"),
        ({"track": "board", "kind": "claim"}, "所选类别不属于该渠道"),
        ({"body": "太短了"}, "正文至少 10 个字"),
    ],
)
def test_compose_errors_are_shown_and_typed_text_kept(client, citizen, changes, error):
    """Every validation failure is explained and nothing typed is lost; nothing is saved."""
    login(client, citizen)
    data = {**FORM, "private_note": "备注里的门牌号", **changes, "submit": "提交"}

    response = client.post("/write?board=330100-secretary", data=data)
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert error in page
    if "body" not in changes:
        assert BODY in page
    assert "备注里的门牌号" in page
    if changes.get("title"):
        assert f'value="{changes["title"]}"' in page
    assert _count() == 0


def test_preview_with_errors_shows_errors_not_preview(client, citizen):
    """Preview of an invalid form shows the errors and no preview block."""
    login(client, citizen)

    response = client.post(
        "/write?board=330100-secretary", data={**FORM, "title": "", "preview": "预览"}
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "请填写标题" in page
    assert 'class="card preview"' not in page


def test_my_messages_show_rejection_reason(client, make_message, citizen, troll):
    """A rejected message is listed with the reason's label; others' messages are not listed."""
    make_message("rejected", title="被驳回的留言")
    make_message("received", title="别人的留言", author=troll)
    login(client, citizen)

    page = client.get("/my").get_data(as_text=True)

    assert "被驳回的留言" in page and "未通过审核" in page
    assert "内容不清楚、无法办理" in page
    assert "别人的留言" not in page


# ---------------------------------------------------------------------------------------------
# Withdraw


def test_author_withdraws_submitted_message(client, make_message, citizen):
    """The author's withdraw button leads to the confirmation; confirmed, the message is
    withdrawn."""
    m = make_message("submitted")
    login(client, citizen)
    assert f'href="/m/{m.code}/withdraw"' in client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "我确认撤回" in client.get(f"/m/{m.code}/withdraw").get_data(as_text=True)

    response = client.post(f"/m/{m.code}/withdraw", data={"confirm": "y"})

    assert _path(response) == f"/m/{m.code}"
    db.session.refresh(m)
    assert m.state == State.WITHDRAWN
    assert m.events[-1].action == "withdraw" and m.events[-1].created_at == NOW


def test_withdraw_after_assignment_is_refused(client, make_message, citizen):
    """Once assigned, the message cannot be withdrawn; the page says why."""
    m = make_message("assigned")
    login(client, citizen)
    assert "撤回留言" not in client.get(f"/m/{m.code}").get_data(as_text=True)

    response = client.post(f"/m/{m.code}/withdraw", data={"confirm": "y"}, follow_redirects=True)

    db.session.refresh(m)
    assert m.state == State.ASSIGNED
    assert "不能执行此操作" in response.get_data(as_text=True)


def test_other_citizen_cannot_withdraw(client, make_message, troll):
    """Someone else's private message is 404; a public one is 403 and stays as it was."""
    private = make_message("submitted")
    public = make_message("received", title="公开的留言")
    login(client, troll)

    assert client.post(f"/m/{private.code}/withdraw").status_code == 404
    assert client.post(f"/m/{public.code}/withdraw").status_code == 403
    db.session.refresh(private)
    db.session.refresh(public)
    assert (private.state, public.state) == (State.SUBMITTED, State.RECEIVED)


def test_withdraw_needs_login(client, make_message):
    """Visitors are sent to sign in, for the confirmation page and for the POST."""
    m = make_message("submitted")

    for response in (
        client.get(f"/m/{m.code}/withdraw"),
        client.post(f"/m/{m.code}/withdraw", data={"confirm": "y"}),
    ):
        assert response.status_code == 302 and _path(response).startswith("/login")
    db.session.refresh(m)
    assert m.state == State.SUBMITTED


# ---------------------------------------------------------------------------------------------
# Rate


def test_author_rates_replied_message(client, make_message, citizen):
    """The author's three scores and comment close the message and show on its page."""
    m = make_message("replied")
    login(client, citizen)
    assert "评价办理结果" in client.get(f"/m/{m.code}").get_data(as_text=True)

    response = client.post(
        f"/m/{m.code}/rate",
        data={"resolution": "2", "attitude": "3", "speed": "2", "comment": "问题只解决了一半"},
    )

    assert _path(response) == f"/m/{m.code}"
    db.session.refresh(m)
    assert m.state == State.CLOSED
    assert (m.rating.resolution, m.rating.attitude, m.rating.speed) == (2, 3, 2)
    page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "不满意" in page and "问题只解决了一半" in page
    assert "评价办理结果" not in page


def test_troll_cannot_rate_someone_elses_message(client, make_message, troll):
    """Only the author may rate: another citizen gets 403 and no rating is stored."""
    m = make_message("replied")
    login(client, troll)
    assert "评价办理结果" not in client.get(f"/m/{m.code}").get_data(as_text=True)

    response = client.post(
        f"/m/{m.code}/rate", data={"resolution": "1", "attitude": "1", "speed": "1"}
    )

    assert response.status_code == 403
    db.session.refresh(m)
    assert m.state == State.REPLIED and m.rating is None


def test_rate_with_bad_scores_shows_errors_and_keeps_comment(client, make_message, citizen):
    """Out-of-range scores are refused next to the field; the comment typed is kept."""
    m = make_message("replied")
    login(client, citizen)

    response = client.post(
        f"/m/{m.code}/rate",
        data={"resolution": "9", "attitude": "3", "speed": "3", "comment": "态度很好"},
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert 'class="error"' in page
    assert "态度很好" in page
    db.session.refresh(m)
    assert m.state == State.REPLIED


def test_rate_before_reply_is_refused(client, make_message, citizen):
    """An unanswered message cannot be rated."""
    m = make_message("assigned")
    login(client, citizen)

    response = client.post(
        f"/m/{m.code}/rate",
        data={"resolution": "5", "attitude": "5", "speed": "5"},
        follow_redirects=True,
    )

    db.session.refresh(m)
    assert m.rating is None and m.state == State.ASSIGNED
    assert "不能执行此操作" in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Co-sign


def _cosigns(message) -> int:
    return db.session.scalar(select(func.count(Cosign.id)).where(Cosign.message_id == message.id))


def test_other_citizen_cosigns_once(client, make_message, troll):
    """A co-sign counts once; a second one is refused with an explanation."""
    m = make_message("received")
    login(client, troll)

    first = client.post(f"/m/{m.code}/cosign", follow_redirects=True)
    second = client.post(f"/m/{m.code}/cosign", follow_redirects=True)

    assert "已附议" in first.get_data(as_text=True)
    assert "您已经附议过这条留言" in second.get_data(as_text=True)
    assert _cosigns(m) == 1
    db.session.refresh(m)
    assert m.cosign_count == 1
    assert "附议 1" in second.get_data(as_text=True)


def test_author_cannot_cosign_own_message(client, make_message, citizen):
    """The author has no co-sign button, and posting one is refused."""
    m = make_message("received")
    login(client, citizen)
    assert "附议（我也遇到了这个问题）" not in client.get(f"/m/{m.code}").get_data(as_text=True)

    response = client.post(f"/m/{m.code}/cosign", follow_redirects=True)

    assert "不能附议自己的留言" in response.get_data(as_text=True)
    assert _cosigns(m) == 0


def test_cosign_private_message_is_404(client, make_message, troll):
    """A message the citizen cannot read cannot be co-signed (nor its existence learned)."""
    m = make_message("received", wants_public=False)
    login(client, troll)

    assert client.post(f"/m/{m.code}/cosign").status_code == 404
    assert _cosigns(m) == 0


def test_visitor_is_asked_to_sign_in_to_cosign(client, make_message):
    """Visitors see a sign-in link instead of the button, and POST sends them to sign in."""
    m = make_message("received")

    page = client.get(f"/m/{m.code}").get_data(as_text=True)
    response = client.post(f"/m/{m.code}/cosign")

    assert "登录后附议" in page
    assert response.status_code == 302 and _path(response).startswith("/login")
    assert _cosigns(m) == 0


# ---------------------------------------------------------------------------------------------
# CSRF


def _token(page: str) -> str:
    """The first CSRF token rendered in a page."""
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_forms_carry_csrf_tokens_that_the_server_checks(app, client, make_message, troll):
    """With CSRF on, the page's own token lets the form through and a forged POST is refused."""
    m = make_message("received")
    login(client, troll)
    app.config["WTF_CSRF_ENABLED"] = True

    forged = client.post(f"/m/{m.code}/cosign")
    token = _token(client.get(f"/m/{m.code}").get_data(as_text=True))
    genuine = client.post(f"/m/{m.code}/cosign", data={"csrf_token": token})

    assert forged.status_code == 400
    assert genuine.status_code == 302
    assert _cosigns(m) == 1

    compose = client.get("/write?board=330100-secretary").get_data(as_text=True)
    data = {**FORM, "csrf_token": _token(compose), "submit": "提交"}
    assert client.post("/write?board=330100-secretary", data=data).status_code == 302
    assert _count() == 2
