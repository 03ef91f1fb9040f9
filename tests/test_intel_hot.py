"""Hot issues: a synthetic cluster of messages about one matter comes out first, with its label,
keywords and messages; private messages never show; pages include the current ones."""

from __future__ import annotations

from datetime import timedelta

from conftest import T0

from board.intel import hot

SAME_MATTER = [
    (
        "丽发新城小区旁边建搅拌站噪音扰民",
        "丽发新城小区旁边新建搅拌站，日夜施工，噪音和灰尘扰民严重。",
    ),
    ("投诉丽发新城附近搅拌站噪音扰民", "丽发新城附近的搅拌站每天夜里施工，噪音扰民，灰尘很大。"),
    ("丽发新城搅拌站噪音扰民何时解决", "丽发新城小区居民反映搅拌站噪音扰民，灰尘污染，请求处理。"),
    (
        "关于丽发新城搅拌站噪音扰民的问题",
        "丽发新城搅拌站噪音扰民，夜间施工不停，小区居民无法休息。",
    ),
]
SECOND_MATTER = [
    ("魅力之城小区临街餐馆油烟扰民", "魅力之城小区一楼餐馆油烟直排，楼上住户窗户都不敢开。"),
    ("魅力之城小区餐馆油烟扰民严重", "魅力之城小区临街餐馆油烟直排扰民，多次投诉无果。"),
]
OTHERS = [
    ("公交班次太少", "淳安县城公交班次太少，等车要一个小时。"),
    ("学校食堂收费问题", "孩子学校食堂每月收费上涨，没有公示。"),
    ("路灯坏了", "西湖区某路段路灯坏了半个月无人维修。"),
]


def _post_all(make_message, make_user, items, *, day: int, **extra):
    """One message per item, each by another citizen, published in March 2026."""
    made = []
    for n, (title, body) in enumerate(items):
        author = make_user()
        made.append(
            make_message(
                "approved",
                author=author,
                title=title,
                body=body,
                now=T0 + timedelta(days=day, hours=n),
                **extra,
            )
        )
    return made


def test_synthetic_hot_cluster_comes_first_with_label_keywords_and_messages(
    app, client, make_message, make_user
):
    """Four citizens on one matter outrank two on another; unrelated messages form no issue;
    a private message on the same matter is never shown."""
    first = _post_all(make_message, make_user, SAME_MATTER, day=3)
    second = _post_all(make_message, make_user, SECOND_MATTER, day=4)
    _post_all(make_message, make_user, OTHERS, day=5)
    private = make_message(
        "approved",
        title="丽发新城搅拌站噪音扰民",
        body="丽发新城搅拌站噪音扰民，我家就在隔壁，电话 13912345678。",
        wants_public=False,
        now=T0 + timedelta(days=6),
    )
    response = client.get("/api/v1/hot?from=2026-03-01&to=2026-03-31&limit=5")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["count"] for item in items] == [4, 2], [
        [m["title"] for m in i["messages"]] for i in items
    ]
    top = items[0]
    assert "搅拌站" in top["label"] and "丽发新城" in top["label"]
    assert "搅拌站" in top["keywords"]
    assert {m["code"] for m in top["messages"]} == {m.code for m in first}
    assert {m["code"] for m in items[1]["messages"]} == {m.code for m in second}
    assert top["heat"] > items[1]["heat"] > 0
    assert private.code not in response.get_data(as_text=True)
    assert "13912345678" not in response.get_data(as_text=True)


def test_scope_and_period_filter_the_issues(app, client, make_message, make_user):
    """Another region, or a period before the messages, has no hot issue."""
    _post_all(make_message, make_user, SAME_MATTER, day=3)
    assert client.get("/api/v1/hot?from=2026-03-01&to=2026-03-31").get_json()["items"]
    assert client.get("/api/v1/hot?region=440106&from=2026-03-01").get_json()["items"] == []
    assert client.get("/api/v1/hot?from=2025-01-01&to=2025-12-31").get_json()["items"] == []
    board = client.get("/api/v1/hot?board=330100-secretary&from=2026-03-01&to=2026-03-31")
    assert board.get_json()["items"][0]["count"] == 4


def test_hot_parameters_are_checked(app, client):
    """A bad date, an unknown board or a limit out of range is a 422 naming the field."""
    response = client.get("/api/v1/hot?from=2026-13-01&board=nope&limit=99")
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) >= {"from", "limit"}
    assert client.get("/api/v1/hot?board=nope").status_code == 422


def test_home_board_and_region_pages_show_the_current_hot_issues(
    app, client, make_message, make_user, monkeypatch
):
    """The pages include the partial: the label of the hot issue of the last 90 days."""
    _post_all(make_message, make_user, SAME_MATTER, day=3)
    monkeypatch.setattr("board.intel.views.utcnow", lambda: T0 + timedelta(days=20))
    for path in ("/", "/boards/330100-secretary", "/regions/330100"):
        page = client.get(path).get_data(as_text=True)
        assert "热点问题" in page and "搅拌站" in page, path
    issues = hot.current_hot_issues(board_id=None, region=None, now=T0 + timedelta(days=200))
    assert issues == []
