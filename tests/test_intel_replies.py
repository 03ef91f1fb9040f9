"""The advisory reply checklist: relevance, the basis of a refusal, structure; it never blocks."""

from __future__ import annotations

from datetime import timedelta

from conftest import T0, login

from board.extensions import db
from board.intel.replies import check_reply, relevance
from board.messages import services as msg

TITLE = "丽发新城小区旁搅拌站噪音扰民"
BODY = "丽发新城小区旁边新建的搅拌站日夜施工，噪音和灰尘严重影响居民休息。"
GOOD = (
    "网友您好！您反映的丽发新城小区旁搅拌站噪音扰民问题收悉。经区环保局现场调查，该搅拌站"
    "夜间施工未办理许可，已责令其停止夜间作业并加装降尘设施。感谢您对我们工作的支持！"
)


def _passed(checks) -> dict[str, bool]:
    return {c.name: c.passed for c in checks}


def test_a_good_reply_passes_every_check():
    """A reply on the matter, with greeting and closing, passes."""
    assert _passed(check_reply(TITLE, BODY, GOOD)) == {
        "relevance": True,
        "basis": True,
        "structure": True,
    }


def test_a_reply_to_another_matter_fails_relevance():
    """A reply about something else shares no telling words with the message."""
    other = "网友您好！您反映的学校食堂收费上涨一事，经教育局核查，收费已按标准公示。感谢您的监督！"
    assert relevance(f"{TITLE} {BODY}", other) < relevance(f"{TITLE} {BODY}", GOOD)
    assert _passed(check_reply(TITLE, BODY, other))["relevance"] is False


def test_a_refusal_must_cite_its_basis():
    """'不予支持' without a law, rule or document is flagged; with one it passes."""
    bare = "网友您好！您反映的丽发新城搅拌站噪音扰民问题，经调查不予支持。感谢您的理解！"
    cited = bare.replace("经调查不予支持", "依据《建筑施工场界环境噪声排放标准》，经调查不予支持")
    assert _passed(check_reply(TITLE, BODY, bare))["basis"] is False
    assert _passed(check_reply(TITLE, BODY, cited))["basis"] is True


def test_structure_wants_greeting_and_closing():
    """A bare paragraph is flagged for structure."""
    bare = "丽发新城搅拌站夜间施工已责令停止，并加装降尘设施。"
    assert _passed(check_reply(TITLE, BODY, bare))["structure"] is False


def test_coordinator_sees_the_checklist_and_may_still_sign_off(
    app, make_message, handler, coordinator, client
):
    """The checklist shows on the reply awaiting sign-off; a failing check blocks nothing."""
    m = make_message("in_progress", title=TITLE, body=BODY)
    msg.reply_message(
        m,
        handler,
        body="学校食堂收费已按标准公示，请知悉。",
        outcome=None,
        now=T0 + timedelta(days=3),
    )
    login(client, coordinator)
    page = client.get(f"/desk/m/{m.code}").get_data(as_text=True)
    assert "答复自查" in page and "请确认答复的是这条留言" in page
    response = client.post(f"/desk/m/{m.code}/sign-off", data={})
    assert response.status_code in (302, 303)
    db.session.refresh(m)
    assert m.state == "replied"
