"""检举控告: routed with the reporter's identity withheld from everyone but the author and the platform."""

from __future__ import annotations

import pytest
from conftest import T0, login

from board.auth.services import issue_token
from board.messages.services import can_see_private_fields
from board.models import Role

SECRETS = ["王检举", "13700001111", "杭州市西湖区某路 8 号", "举报人担心被报复"]
BODY = "某局工作人员王检举的邻居收受好处费，请联系 13700001111 核实，本人愿意作证。"


@pytest.fixture
def report(make_message):
    """A 检举控告 assigned to 杭州市住建局, its body naming the reporter and their phone."""
    return make_message(
        "assigned",
        track="petition",
        kind="report",
        body=BODY,
        real_name="王检举",
        phone="13700001111",
        address="杭州市西湖区某路 8 号",
        private_note="举报人担心被报复",
    )


@pytest.fixture
def people(make_user, citizen, troll, moderator, coordinator, handler, admin):
    """Everyone by the part they play towards the report."""
    return {
        "author": citizen,
        "troll": troll,
        "moderator": moderator,
        "coordinator": coordinator,
        "handler": handler,
        "admin": admin,
        "other_handler": make_user(Role.HANDLER, unit_code="330100-jt"),
        "other_coordinator": make_user(Role.COORDINATOR, unit_code="440100-secretary-office"),
    }


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("author", True),
        ("moderator", True),
        ("admin", True),
        ("coordinator", False),
        ("handler", False),
        ("other_handler", False),
        ("other_coordinator", False),
        ("troll", False),
    ],
)
def test_only_author_and_platform_see_reporter_identity(report, people, who, sees):
    """The rule itself: for reports the coordinator is no longer on the private side."""
    assert can_see_private_fields(people[who], report) is sees


def test_non_report_petition_still_shows_identity_to_handling_side(make_message, people):
    """Ordinary petitions keep their identity visible to the office and the unit."""
    m = make_message(
        "assigned", track="petition", kind="claim", real_name="张三", address="杭州市某路 1 号"
    )
    assert can_see_private_fields(people["coordinator"], m)
    assert can_see_private_fields(people["handler"], m)
    assert not can_see_private_fields(people["other_handler"], m)


@pytest.mark.parametrize("who", ["coordinator", "handler"])
@pytest.mark.parametrize("path", ["/desk/m/{code}", "/m/{code}"])
def test_routing_staff_pages_withhold_reporter_identity(app, report, people, who, path):
    """Desk and message pages show the matter with identity, note and numbers withheld."""
    client = app.test_client()
    login(client, people[who])
    response = client.get(path.format(code=report.code))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "身份已隐去" in html
    assert "收受好处费" in html  # the matter itself is there to be handled
    for secret in [*SECRETS, report.author.email, report.author.pen_name]:
        assert secret not in html, secret


@pytest.mark.parametrize("who", ["author", "moderator", "admin"])
def test_author_and_platform_see_the_original_report(app, report, people, who):
    """The author and the platform still see every private value."""
    client = app.test_client()
    login(client, people[who])
    html = client.get(f"/m/{report.code}").get_data(as_text=True)
    for secret in SECRETS:
        assert secret in html, secret


@pytest.mark.parametrize("who", ["coordinator", "handler"])
def test_api_withholds_reporter_identity_from_routing_staff(app, report, people, who):
    """The JSON of a report carries no identity, note or author name for the routing side."""
    token = issue_token(people[who], name="t", now=T0)
    response = app.test_client().get(
        f"/api/v1/messages/{report.code}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    data = response.get_json()
    assert "private_note" not in data and "real_name" not in data
    assert data["author_name"] is None
    text = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text, secret


def test_api_gives_the_moderator_the_original_report(app, report, people):
    """Moderators read the private side of a report through the API too."""
    token = issue_token(people["moderator"], name="t", now=T0)
    data = (
        app.test_client()
        .get(f"/api/v1/messages/{report.code}", headers={"Authorization": f"Bearer {token}"})
        .get_json()
    )
    assert data["real_name"] == "王检举" and data["private_note"] == "举报人担心被报复"


def test_report_is_never_public(app, report):
    """Nobody outside sees a report, even with wants_public left on."""
    assert report.visibility == "private"
    assert app.test_client().get(f"/m/{report.code}").status_code == 404
