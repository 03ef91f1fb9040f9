"""Issue 3's acceptance check: personal data in a message never reaches any public surface.

A citizen whose profile carries a real name and phone writes a message that repeats them and
adds a resident ID number; the reply quotes the phone again. Every public page, feed, export,
API answer and search result is fetched and none may contain an original, while the handler's
desk shows them.
"""

from __future__ import annotations

from datetime import timedelta

from conftest import T0, board, login, unit

from board.extensions import db
from board.messages import services as msg
from board.models import Region

REAL_NAME = "欧阳春晓"
PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"
ORIGINALS = (REAL_NAME, PHONE, ID_NUMBER, "1949123")
BODY = f"我是{REAL_NAME}，身份证{ID_NUMBER}，电话{PHONE}。小区物业乱收停车费已经半年，无人处理。"


def _public_surfaces(code: str) -> list[str]:
    return [
        "/",
        f"/m/{code}",
        "/boards/330100-secretary",
        "/regions/330100",
        "/units/330100-zj",
        "/search?q=物业",
        "/search?q=停车费&sort=newest",
        f"/search?q={code}",
        "/api/v1/messages",
        f"/api/v1/messages/{code}",
        "/api/v1/search?q=物业",
        "/feeds/messages.atom",
        "/feeds/replies.atom",
        "/feeds/messages.atom?q=物业",
        "/export/messages.csv",
        "/export/messages.jsonl",
        "/export/messages.csv?q=物业",
        "/rankings",
        "/reports",
    ]


def test_id_phone_and_real_name_appear_on_no_public_surface(
    app, client, make_user, moderator, coordinator, handler
):
    author = make_user(real_name=REAL_NAME, phone=PHONE, pen_name="春晓")
    m = msg.submit_message(
        author,
        board=board("330100-secretary"),
        region=db.session.get(Region, "330106"),
        track="board",
        kind="complaint",
        domain="urban",
        title="小区物业乱收停车费",
        body=BODY,
        private_note=f"{REAL_NAME} {PHONE}",
        now=T0,
    )
    msg.approve_message(m, moderator, now=T0 + timedelta(hours=1))
    msg.assign_message(m, unit("330100-zj"), coordinator, now=T0 + timedelta(hours=2))
    msg.accept_message(m, handler, now=T0 + timedelta(hours=3))
    msg.reply_message(
        m,
        handler,
        body=f"已联系{REAL_NAME}（{PHONE}），物业公司已退还多收的停车费。",
        now=T0 + timedelta(days=2),
    )
    msg.sign_off_reply(m, coordinator, now=T0 + timedelta(days=2, hours=1))
    code = m.code
    assert m.is_public

    for url in _public_surfaces(code):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        for original in ORIGINALS:
            assert original not in text, (url, original)
    # The message really is on the public surfaces, masked.
    page = client.get(f"/m/{code}").get_data(as_text=True)
    assert "110105********002X" in page  # display form of the ID number
    assert "欧***" in page and "1**********" in page  # the author's own values, fully masked
    assert code in client.get("/search?q=物业").get_data(as_text=True)
    assert code in client.get("/export/messages.csv").get_data(as_text=True)

    # The handling side sees the originals.
    login(client, handler)
    desk = client.get(f"/desk/m/{code}").get_data(as_text=True)
    assert ID_NUMBER in desk and PHONE in desk and REAL_NAME in desk
