"""Safer defaults (issue 14, item 5), through the real forms with CSRF on, the API and services.

Petitions stay private unless their author publishes them; the three rating scores start
unselected and are required; withdrawing asks for a confirmation that works without JavaScript;
declining a return, an extension or a sign-off needs a reason; a petition phone must be a Chinese
phone number; every time a person reads is Beijing time.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import PASSWORD, T0, board
from webform import fresh, get, read_form, submit

from board.auth.services import issue_token
from board.errors import ValidationFailed
from board.extensions import db
from board.messages import services as msg
from board.models import (
    Domain,
    Kind,
    Message,
    Rating,
    Region,
    ReplyState,
    RequestState,
    Role,
    State,
    Track,
)
from board.phones import normalize_cn_phone

NOW = T0 + timedelta(days=5)  # after make_message's reply (T0 + 3 days), inside the rating window
BOARD = "/write?board=330100-secretary"
BODY = "我们小区门口的路灯已经坏了三个月，晚上出行很不安全，希望有关部门尽快修复。"
TYPED = {
    "domain": "urban",
    "region": "330106",
    "title": "小区门口路灯坏了三个月",
    "body": BODY,
    "submit": "提交",
}
PETITION = {**TYPED, "track": "petition", "kind": "claim", "address": "杭州市西湖区文三路 1 号"}
TEMPLATES = Path(__file__).resolve().parent.parent / "board" / "templates"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The web pages' clock: five days after T0 (services in tests take `now=` explicitly)."""
    for target in (
        "board.messages.views.utcnow",
        "board.desk.views.utcnow",
        "board.moderation.views.utcnow",
        "board.api.views.utcnow",
    ):
        monkeypatch.setattr(target, lambda: NOW)


@pytest.fixture
def browser(app):
    """Factory: a client signed in through the login form, with CSRF checked on every POST."""
    app.config["WTF_CSRF_ENABLED"] = True

    def open_as(user, lang: str | None = None):
        client = app.test_client()
        if lang:
            client.set_cookie("lang", lang)
        response = submit(client, "/login", "/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client

    return open_as


def _html(response) -> str:
    return response.get_data(as_text=True)


def _reload(message: Message) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message.id)


def _newest() -> Message:
    return db.session.scalars(db.select(Message).order_by(Message.id.desc())).first()


def _api(client, user, path: str, body: dict):
    token = issue_token(user, name="t", now=T0)
    db.session.commit()
    return fresh(client).post(
        f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"}
    )


# ---------------------------------------------------------------------------------------------
# Petitions are not public unless their author says so


def test_compose_form_ticks_publication_for_board_messages_only(browser, citizen):
    """Untouched, the form publishes a board message and keeps a petition private."""
    page = _html(get(browser(citizen), BOARD))
    sent = read_form(page, BOARD)

    assert sent.get("wants_public") == "y"
    assert "petition_public" not in sent
    assert "默认不公开" in page


@pytest.mark.parametrize(
    ("fields", "public"),
    [
        ({**TYPED, "track": "board", "kind": "help"}, True),
        ({**TYPED, "track": "board", "kind": "help", "wants_public": None}, False),
        (PETITION, False),
        ({**PETITION, "petition_public": "y"}, True),
    ],
    ids=["board-default", "board-unticked", "petition-default", "petition-published"],
)
def test_submitted_form_files_the_authors_choice(browser, citizen, fields, public):
    """Board messages are public unless unticked; petitions private unless ticked."""
    response = submit(browser(citizen), BOARD, BOARD, fields)

    assert response.status_code == 302, _html(response)[:500]
    message = _newest()
    assert (message.track, message.wants_public) == (fields["track"], public)


def test_petition_preview_says_it_stays_private(browser, citizen):
    """The preview of an untouched petition tells the author nobody else will read it."""
    response = submit(
        browser(citizen), BOARD, BOARD, {**PETITION, "submit": None, "preview": "预览"}
    )

    assert response.status_code == 200
    assert "这条留言不会公开" in _html(response)


def test_service_defaults_petitions_to_private(directory, citizen):
    """Without a choice the service publishes a board message and keeps a petition private."""

    def file(track: str, kind: str, **choice) -> Message:
        return msg.submit_message(
            citizen,
            board=board("330100-secretary"),
            region=db.session.get(Region, "330106"),
            track=track,
            kind=kind,
            domain=Domain.URBAN,
            title="路灯不亮",
            body=BODY,
            address="杭州市西湖区文三路 1 号",
            now=T0,
            **choice,
        )

    assert file(Track.BOARD, Kind.HELP).wants_public is True
    assert file(Track.PETITION, Kind.CLAIM).wants_public is False
    assert file(Track.PETITION, Kind.CLAIM, wants_public=True).wants_public is True
    assert file(Track.PETITION, Kind.REPORT, wants_public=True).wants_public is False


@pytest.mark.parametrize(
    ("track", "kind", "choice", "public"),
    [
        ("board", "help", {}, True),
        ("petition", "claim", {}, False),
        ("petition", "claim", {"wants_public": True}, True),
    ],
)
def test_api_defaults_petitions_to_private(client, citizen, directory, track, kind, choice, public):
    """The API's `wants_public` left out means: board public, petition private."""
    body = {
        "board": "330100-secretary",
        "region": "330106",
        "track": track,
        "kind": kind,
        "domain": "urban",
        "title": "路灯不亮",
        "body": BODY,
        "address": "杭州市西湖区文三路 1 号",
        **choice,
    }
    response = _api(client, citizen, "/messages", body)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["wants_public"] is public
    assert _newest().wants_public is public


# ---------------------------------------------------------------------------------------------
# Rating: no score chosen for the author


def test_rating_scores_start_unselected_and_are_required(browser, citizen, make_message):
    """Sent untouched, the rate form names each missing score and closes nothing."""
    m = make_message("replied")
    author = browser(citizen)
    action = f"/m/{m.code}/rate"
    untouched = read_form(_html(get(author, f"/m/{m.code}")), action)
    assert (untouched["resolution"], untouched["attitude"], untouched["speed"]) == ("", "", "")

    response = submit(author, f"/m/{m.code}", action, {"comment": "还行"})

    page = _html(response)
    assert response.status_code == 422
    for label in ("解决程度", "办理态度", "办理速度"):
        assert f"请为“{label}”选择 1 到 5 星。" in page
    m = _reload(m)
    assert m.state == State.REPLIED and not m.ratings

    response = submit(author, f"/m/{m.code}", action, {"resolution": "4", "speed": "2"})
    assert response.status_code == 422 and "请为“办理态度”选择 1 到 5 星。" in _html(response)
    assert "请为“解决程度”" not in _html(response)

    scores = {"resolution": "4", "attitude": "5", "speed": "2"}
    assert submit(author, f"/m/{m.code}", action, scores).status_code == 302
    m = _reload(m)
    assert m.state == State.CLOSED
    assert (m.ratings[0].resolution, m.ratings[0].attitude, m.ratings[0].speed) == (4, 5, 2)


def test_missing_score_is_named_in_english(browser, citizen, make_message):
    """In English the error names the score too."""
    m = make_message("replied")
    response = submit(browser(citizen, lang="en"), f"/m/{m.code}", f"/m/{m.code}/rate", {})

    assert response.status_code == 422
    assert "Choose 1 to 5 stars for “Resolution”." in _html(response)


def test_api_and_service_refuse_missing_scores_by_name(client, citizen, make_message):
    """The API answers 422 naming each missing score; the service refuses None and 0."""
    m = make_message("replied")
    response = _api(client, citizen, f"/messages/{m.code}/actions/rate", {"resolution": 5})

    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields == {
        "attitude": ["请为“办理态度”选择 1 到 5 星。"],
        "speed": ["请为“办理速度”选择 1 到 5 星。"],
    }
    with pytest.raises(ValidationFailed) as refused:
        msg.rate_message(m, citizen, resolution=None, attitude=0, speed=True, now=NOW)
    assert set(refused.value.fields) == {"resolution", "attitude", "speed"}
    assert db.session.scalar(db.select(db.func.count(Rating.id))) == 0


# ---------------------------------------------------------------------------------------------
# Withdrawal: a confirmation page, no JavaScript needed


def test_withdraw_button_leads_to_a_confirmation_that_must_be_ticked(
    browser, citizen, make_message
):
    """The button opens a page; sent unticked it withdraws nothing; ticked, it withdraws."""
    m = make_message("submitted")
    author = browser(citizen)
    action = f"/m/{m.code}/withdraw"
    assert f'href="{action}"' in _html(get(author, f"/m/{m.code}"))

    response = submit(author, action, action)

    assert response.status_code == 422
    assert "请勾选确认后再撤回。" in _html(response)
    assert _reload(m).state == State.SUBMITTED

    response = submit(author, action, action, {"confirm": "y"})
    assert response.status_code == 302
    assert _reload(m).state == State.WITHDRAWN


def test_plain_post_with_a_valid_token_does_not_withdraw(browser, citizen, make_message):
    """A POST carrying only the CSRF token (an old page's button, a script) withdraws nothing."""
    m = make_message("received")
    author = browser(citizen)
    token = read_form(_html(get(author, f"/m/{m.code}/withdraw")), f"/m/{m.code}/withdraw")

    response = fresh(author).post(f"/m/{m.code}/withdraw", data={"csrf_token": token["csrf_token"]})

    assert response.status_code == 422
    assert _reload(m).state == State.RECEIVED


def test_confirmation_page_marks_the_title_as_chinese_in_english(browser, citizen, make_message):
    """In English the title being withdrawn is the author's own Chinese text, marked as such
    (lang="zh-CN"), as everywhere else; found by the full English pass (make passes)."""
    m = make_message("submitted")
    author = browser(citizen)
    author.set_cookie("lang", "en")

    page = _html(get(author, f"/m/{m.code}/withdraw"))

    assert '<html lang="en">' in page
    assert re.search(r'<strong><span lang="zh-CN">[^<]*[\u4e00-\u9fff][^<]*</span></strong>', page)


def test_confirmation_page_refuses_an_assigned_message(browser, citizen, make_message):
    """Once assigned, the confirmation page is not offered; the message page says why."""
    m = make_message("assigned")
    response = get(browser(citizen), f"/m/{m.code}/withdraw", follow_redirects=True)

    assert "不能执行此操作" in _html(response)
    assert "我确认撤回" not in _html(response)
    assert _reload(m).state == State.ASSIGNED


# ---------------------------------------------------------------------------------------------
# Declining a return, an extension or a sign-off says why


def _pending(kind: str, make_message, handler) -> Message:
    """A message whose unit asked for a return or an extension."""
    if kind == "return":
        m = make_message("assigned")
        msg.request_return(m, handler, reason="return:not_our_duty", now=T0 + timedelta(days=1))
    else:
        m = make_message("in_progress")
        msg.request_extension(m, handler, reason="需要多个部门协调核查", now=T0 + timedelta(days=4))
    return m


@pytest.mark.parametrize("kind", ["return", "extension"])
def test_declining_a_request_through_the_form_needs_a_reason(
    browser, make_message, handler, coordinator, kind
):
    """The coordinator's decline form sent without a reason keeps the request pending."""
    m = _pending(kind, make_message, handler)
    office = browser(coordinator)
    page, action = f"/desk/m/{m.code}", f"/desk/m/{m.code}/decline-request"

    response = submit(office, page, action, {"note": "   "})

    assert response.status_code == 422
    assert "不同意申请须说明理由" in _html(response)
    assert msg.pending_request(_reload(m)).state == RequestState.PENDING

    assert submit(office, page, action, {"note": "属于本单位职责，请按期办理。"}).status_code == 302
    request = _reload(m).handling_requests[-1]
    assert (request.state, request.decision_note) == (
        RequestState.DECLINED,
        "属于本单位职责，请按期办理。",
    )


@pytest.mark.parametrize("kind", ["return", "extension"])
def test_service_and_api_refuse_a_decline_without_reason(
    client, make_message, handler, coordinator, kind
):
    """The rule holds below the form: the service and the API refuse a blank reason."""
    m = _pending(kind, make_message, handler)
    request = msg.pending_request(m)
    with pytest.raises(ValidationFailed) as refused:
        msg.decline_request(request, coordinator, note=" \n ", now=T0 + timedelta(days=5))
    assert "note" in refused.value.fields

    path = f"/messages/{m.code}/actions/decline_request"
    for body in ({"request": request.id}, {"request": request.id, "note": "  "}):
        response = _api(client, coordinator, path, body)
        assert response.status_code == 422 and "note" in response.get_json()["error"]["fields"]
    assert msg.pending_request(_reload(m)).state == RequestState.PENDING
    assert (
        _api(client, coordinator, path, {"request": request.id, "note": "不同意"}).status_code
        == 200
    )


def test_sending_a_reply_back_needs_a_reason(browser, client, make_message, handler, coordinator):
    """退回修改 without a note is refused by the form, the service and the API."""
    m = make_message("in_progress")
    msg.reply_message(
        m, handler, body="经核查，已责令物业公司退还多收费用。", now=T0 + timedelta(days=4)
    )
    office = browser(coordinator)
    page, action = f"/desk/m/{m.code}", f"/desk/m/{m.code}/decline-sign-off"

    assert submit(office, page, action, {"note": ""}).status_code == 422
    with pytest.raises(ValidationFailed) as refused:
        msg.decline_sign_off(m, coordinator, note="  ", now=NOW)
    assert refused.value.fields == {"note": ["退回答复须写明需要修改的地方。"]}
    path = f"/messages/{m.code}/actions/decline_sign_off"
    assert _api(client, coordinator, path, {"note": " "}).status_code == 422
    assert _reload(m).replies[-1].state == ReplyState.AWAITING_SIGNOFF

    assert submit(office, page, action, {"note": "请写明退费期限。"}).status_code == 302
    assert _reload(m).replies[-1].state == ReplyState.DRAFT


# ---------------------------------------------------------------------------------------------
# Petition phones


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("13912345678", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("139-1234-5678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("0086 13912345678", "13912345678"),
        ("１３９１２３４５６７８", "13912345678"),
        ("0571-87654321", "0571-87654321"),
        ("(0571)87654321", "0571-87654321"),
        ("（0571）8765 4321", "0571-87654321"),
        ("０５７１－８７６５４３２１", "0571-87654321"),
        ("010-62345678", "010-62345678"),
        ("0571-87654321转123", "0571-87654321转123"),
        ("0571 87654321 ext. 8", "0571-87654321转8"),
        ("一三九一二三四五六七八", "13912345678"),  # Chinese numerals
        ("幺三九 壹贰叁肆 伍陸柒捌", "13912345678"),
        ("零五七一-八七六五四三二一转一二三", "0571-87654321转123"),
        ("139\u200b1234\u200b5678", "13912345678"),  # pasted with zero-width spaces
    ],
)
def test_chinese_phone_numbers_are_accepted_in_one_spelling(written, stored):
    """Mobiles and landlines with area codes, however written, are stored one way."""
    assert normalize_cn_phone(written) == stored


@pytest.mark.parametrize(
    "written",
    [
        "abc123",
        "",
        "12345",  # a hotline, not a person's number
        "87654321",  # a landline without its area code
        "1391234567",  # a digit short
        "139123456789",  # a digit too many
        "12345678901",  # no such mobile prefix
        "0755-2345678",  # Shenzhen numbers have eight digits
        "4008123123",  # a company's service number
        "+852 9123 4567",  # not a mainland number
        "139abcd5678",  # letters (libphonenumber would read them as a keypad)
        "13912345678; DROP TABLE",
        "一二三四五",  # a hotline in Chinese numerals
        "一三九一二三四五六七",  # a digit short
    ],
)
def test_what_is_not_a_chinese_phone_number_is_refused(written):
    """Letters, hotlines, missing area codes and foreign numbers are not callable numbers."""
    assert normalize_cn_phone(written) is None


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("zh", "联系电话须为有效的手机号码或带区号的固定电话"),
        ("en", "The phone number must be a valid mainland mobile number"),
    ],
)
def test_petition_form_refuses_abc123(browser, citizen, lang, text):
    """`abc123` as a petition phone is refused next to the field, in the reader's language."""
    before = db.session.scalar(db.select(db.func.count(Message.id)))
    response = submit(browser(citizen, lang=lang), BOARD, BOARD, {**PETITION, "phone": "abc123"})

    assert response.status_code == 422
    assert text in _html(response)
    assert db.session.scalar(db.select(db.func.count(Message.id))) == before


def test_petition_form_stores_the_phone_in_one_spelling(browser, citizen):
    """A landline written with brackets is filed as 0571-87654321."""
    response = submit(browser(citizen), BOARD, BOARD, {**PETITION, "phone": "(0571)87654321"})

    assert response.status_code == 302
    assert _newest().phone == "0571-87654321"


def test_api_and_service_refuse_an_invalid_petition_phone(client, make_user, directory):
    """The API names the field; a bad profile phone used as the default is refused as well."""
    petitioner = make_user(Role.CITIZEN, real_name="王芳", phone="abc123", address="杭州市西湖区")
    body = {
        "board": "330100-secretary",
        "region": "330106",
        "track": "petition",
        "kind": "claim",
        "domain": "urban",
        "title": "路灯不亮",
        "body": BODY,
    }
    response = _api(client, petitioner, "/messages", body)  # the profile's phone: abc123
    assert response.status_code == 422
    assert "phone" in response.get_json()["error"]["fields"]
    response = _api(client, petitioner, "/messages", {**body, "phone": "12345"})
    assert response.status_code == 422
    response = _api(client, petitioner, "/messages", {**body, "phone": "+86 139 1234 5678"})
    assert response.status_code == 201 and response.get_json()["phone"] == "13912345678"
    # a board message asks for no phone at all
    board_body = {**body, "track": "board", "kind": "help"}
    assert _api(client, petitioner, "/messages", board_body).status_code == 201


# ---------------------------------------------------------------------------------------------
# Beijing time everywhere a person reads a time


def test_moderation_lock_is_shown_in_beijing_time(app, browser, moderator, make_user, make_message):
    """Opened at 09:00 Beijing (01:00 UTC), the lock runs to 09:15 for both moderators and the
    API."""
    m = make_message()
    other = make_user(Role.MODERATOR, pen_name="审核员乙")
    lock_at = NOW + timedelta(minutes=15)  # NOW is 09:00 Beijing on 2026-03-07
    beijing, utc = lock_at + timedelta(hours=8), lock_at

    mine = _html(get(browser(moderator), f"/moderation/{m.code}"))
    theirs = _html(get(browser(other), f"/moderation/{m.code}"))
    api = _api(app.test_client(), other, f"/messages/{m.code}/actions/approve", {})

    assert f"至 {beijing:%H:%M}（北京时间）" in mine
    assert f"锁定至北京时间 {beijing:%H:%M}" in theirs
    assert f"北京时间 {beijing:%H:%M}" in api.get_json()["error"]["message"]
    for text in (mine, theirs, api.get_json()["error"]["message"]):
        assert f"{utc:%H:%M}" not in text and "UTC" not in text


def test_pages_show_beijing_time(browser, citizen, coordinator, make_message):
    """The author's page, the confirmation page and the desk show 09:00, never 01:00."""
    m = make_message("received")  # filed at T0: 01:00 UTC, 09:00 Beijing
    author, office = browser(citizen), browser(coordinator)
    pages = [
        _html(get(author, f"/m/{m.code}")),
        _html(get(author, f"/m/{m.code}/withdraw")),
        _html(get(office, f"/desk/m/{m.code}")),
    ]
    for page in pages:
        assert "2026-03-02 09:00" in page
        assert "2026-03-02 01:00" not in page


def test_templates_render_datetimes_only_through_the_beijing_filter():
    """Every `{{ … }}` of a template that prints a `*_at` value pipes it through local_time /
    local_date; no template formats a datetime itself."""
    offenders = []
    for path in TEMPLATES.rglob("*.*"):
        text = path.read_text(encoding="utf-8")
        for expression in re.findall(r"\{\{(.*?)\}\}", text, flags=re.S):
            expression = re.sub(r"'[^']*'|\"[^\"]*\"", "''", expression)  # not in strings
            if "strftime" in expression or (
                re.search(r"\w+_at\b|\[time_attr\]", expression)
                and not re.search(r"\|\s*local_(time|date)", expression)
            ):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {expression.strip()}")
    assert offenders == []
