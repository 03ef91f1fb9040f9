"""Open data on the pages, in the API, in Atom feeds and in downloads, against the known dataset."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from xml.etree import ElementTree as ET

import pytest
from conftest import world as shared_world
from opendata_world import HIDDEN_TITLE, NOW, SECRET_BODY, SECRET_TITLE, build, expected

from board.api import views as api_views
from board.directory import views as directory_views
from board.search import indexer
from board.stats import services as stats
from board.stats import views as stats_views

ATOM = "{http://www.w3.org/2005/Atom}"
PRIVATE_MARKERS = (SECRET_TITLE, HIDDEN_TITLE, SECRET_BODY, "13912345678", "备注不公开", "张真人")


@pytest.fixture
def world(app, database, directory, monkeypatch, tmp_path_factory):
    """The known dataset, with every page's clock at NOW (written once per process and
    database, then restored: conftest's `world`)."""
    for module in (directory_views, stats_views, api_views):
        monkeypatch.setattr(module, "utcnow", lambda: NOW)
    return shared_world("opendata", database, tmp_path_factory, build)


def assert_no_private(text: str) -> None:
    """None of the private or hidden cases' markers is in `text`."""
    for marker in PRIVATE_MARKERS:
        assert marker not in text, marker


def figure(page: str, name: str) -> str:
    """The text of a `data-figure` cell, tags stripped."""
    match = re.search(rf'data-figure="{name}">(.*?)</dd>', page, re.S)
    assert match, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} 天"


@pytest.mark.parametrize(
    ("url", "select"),
    [
        ("/boards/330100-secretary", lambda c: c.board == "330100-secretary"),
        ("/units/330100-zj", lambda c: c.unit == "330100-zj"),
        ("/regions/330100", lambda c: c.region.startswith("3301")),
        (
            "/regions/330000?kind=complaint",
            lambda c: c.region[:2] == "33" and c.kind == "complaint",
        ),
    ],
)
def test_entity_pages_show_the_independently_computed_figures(client, world, url, select):
    """Messages, replies, on-time k/n, median, p90 and overdue equal the stored cases' figures."""
    want = expected([c for c in world if select(c)])
    page = client.get(url).get_data(as_text=True)
    assert figure(page, "messages") == str(want["messages"])
    assert figure(page, "replied") == str(want["replied"])
    hits, total = want["on_time"]
    assert f"({hits}/{total})" in figure(page, "on-time")
    low, high = stats.wilson(hits, total)
    assert f"{low * 100:.1f}%–{high * 100:.1f}%" in figure(page, "on-time")
    assert figure(page, "median") == _days(want["median"])
    assert figure(page, "p90") == _days(want["p90"])
    assert figure(page, "overdue") == str(want["overdue"])
    assert '<svg class="month-chart"' in page and "<table" in page
    assert "/feeds/replies.atom?" in page and "/export/messages.csv?" in page
    assert_no_private(page)


def test_home_shows_most_cosigned_this_month_and_feed(client, world):
    """The co-signed list counts this month's co-signs; the feed link is advertised."""
    page = client.get("/").get_data(as_text=True)
    top = max((c for c in world if c.public and c.cosigns), key=lambda c: (c.cosigns, c.code))
    assert f"本月附议 {top.cosigns}" in page and top.title in page
    assert 'type="application/atom+xml"' in page and "/rankings" in page
    assert_no_private(page)


def test_rankings_page_lists_entities_with_enough_cases_by_lower_bound(app, client, world):
    """Units with fewer than RANKING_MIN_CASES cases are left out; the method is explained."""
    app.config["RANKING_MIN_CASES"] = 10
    page = client.get("/rankings?group=unit&from=2026-01-01&to=2026-03-31").get_data(as_text=True)
    ranking = stats.ranking(
        "unit",
        stats.Scope(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31)),
        now=NOW,
        min_cases=10,
    )
    assert ranking.rows
    positions = [page.index(f">{row.entity.name}</a>") for row in ranking.rows]
    assert positions == sorted(positions)
    for row in ranking.rows:
        assert f"({row.on_time.hits}/{row.on_time.total})" in page
    assert 'id="method"' in page and "Wilson" in page
    assert "export/messages.csv?" in page
    app.config["RANKING_MIN_CASES"] = 10_000
    empty = client.get("/rankings?group=unit&from=2026-01-01").get_data(as_text=True)
    assert "10000" in empty and "杭州市住房和城乡建设局</a>" not in empty


def test_report_page_covers_article_41(client, world):
    """Volumes and trend, kinds and domains, complained units, supervision, suggestions adopted."""
    page = client.get("/reports?region=330000&period=2026-Q1").get_data(as_text=True)
    zhejiang = [c for c in world if c.region.startswith("33")]
    public = [c for c in zhejiang if c.public]
    assert figure(page, "all-received") == str(len(zhejiang))
    assert figure(page, "messages") == str(len(public))
    urged = [c for c in public if int(c.code[-5:]) % 5 == 0]
    assert figure(page, "urges") == str(2 * len(urged))
    assert figure(page, "urged") == str(len(urged))
    adopted = [
        c for c in public if c.kind == "suggestion" and c.replied_at and c.outcome == "supported"
    ]
    assert figure(page, "adopted") == str(len(adopted))
    for heading in (
        "总量和趋势",
        "类别和领域",
        "被投诉较多的单位",
        "交办、督办和超期处理",
        "意见建议采纳",
    ):
        assert heading in page
    assert_no_private(page)
    assert client.get("/reports?region=999999").status_code == 404
    assert client.get("/reports?region=330000&period=junk").status_code == 200
    assert client.get("/reports").status_code == 200


def _parse_atom(body: bytes) -> ET.Element:
    """Parse a feed and check the elements RFC 4287 requires."""
    root = ET.fromstring(body)  # noqa: S314 (our own feed, in a test)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}") is not None, name
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    assert any(link.get("rel") == "self" for link in root.findall(f"{ATOM}link"))
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}").text, name
        assert entry.find(f"{ATOM}link").get("href").startswith("http")
    return root


def test_feeds_are_atom_and_public_only(client, world):
    """Latest replies overall and per board / unit / region, and messages for a search."""
    everything = client.get("/feeds/replies.atom")
    assert everything.mimetype == "application/atom+xml"
    entries = _parse_atom(everything.data).findall(f"{ATOM}entry")
    replied = [c for c in world if c.public and c.replied_at]
    assert len(entries) == min(50, len(replied))
    board = _parse_atom(client.get("/feeds/replies.atom?board=330100-secretary").data)
    titles = {e.find(f"{ATOM}title").text for e in board.findall(f"{ATOM}entry")}
    assert titles == {c.title for c in replied if c.board == "330100-secretary"}
    for url in (
        "/feeds/replies.atom?unit=330100-zj",
        "/feeds/replies.atom?region=330100",
        "/feeds/messages.atom?kind=complaint&region=330000",
    ):
        response = client.get(url)
        assert response.status_code == 200
        _parse_atom(response.data)
        assert_no_private(response.get_data(as_text=True))
    assert_no_private(everything.get_data(as_text=True))
    assert client.get("/feeds/replies.atom?board=nope").status_code == 404


def test_search_feed_and_download_use_the_search_parameters(app, client, world):
    """A search's feed and CSV carry its words and filters; the search page links to them."""
    indexer.rebuild()
    page = client.get("/search?q=公开案例&kind=complaint").get_data(as_text=True)
    assert "/feeds/messages.atom?" in page and "/export/messages.csv?" in page
    feed = _parse_atom(client.get("/feeds/messages.atom?q=公开案例&kind=complaint").data)
    titles = {e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")}
    want = {c.title for c in world if c.public and c.kind == "complaint"}
    assert titles == want
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/export/messages.csv?q=公开案例&kind=complaint")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert {r["title"] for r in rows} == want


def test_downloads_round_trip_and_are_masked(client, world):
    """CSV and JSON Lines of a listing hold exactly its public cases, masked, newest first."""
    want = [c for c in world if c.public and c.region.startswith("3301")]
    response = client.get("/export/messages.csv?region=330100")
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["code"] for r in rows] == [
        c.code for c in sorted(want, key=lambda c: (c.published_at, c.code), reverse=True)
    ]
    assert all("139****5678" in r["body"] for r in rows)
    assert_no_private(text)
    by_code = {c.code: c for c in want}
    for r in rows:
        case = by_code[r["code"]]
        assert (r["replied_at"] != "") == bool(case.replied_at)
        if case.replied_at:
            days = (case.replied_at - case.created_at).total_seconds() / 86400
            assert float(r["days_to_reply"]) == pytest.approx(days, abs=0.01)
    lines = client.get("/export/messages.jsonl?region=330100&replied=yes").get_data(as_text=True)
    records = [json.loads(line) for line in lines.splitlines()]
    assert {r["code"] for r in records} == {c.code for c in want if c.replied_at}
    assert all(r["reply"] and r["author"] == "张**" for r in records)
    assert_no_private(lines)
    dated = client.get("/export/messages.jsonl?from=2026-02-01&to=2026-02-10").get_data(
        as_text=True
    )
    assert all(
        "2026-02-01" <= json.loads(line)["published_at"][:10] <= "2026-02-10"
        for line in dated.splitlines()
    )
    assert client.get("/export/messages.xml").status_code == 404
    assert client.get("/export/messages.csv?unit=nope").status_code == 404


def test_api_stats_equal_independent_figures(client, world):
    """`/api/v1/stats` for a scope and grouped by unit, with Wilson bounds."""
    answer = client.get("/api/v1/stats?board=330100-secretary").get_json()
    want = expected([c for c in world if c.board == "330100-secretary"])
    got = answer["figures"]
    assert got["messages"] == want["messages"] and got["replied"] == want["replied"]
    assert (got["on_time"]["hits"], got["on_time"]["total"]) == want["on_time"]
    low, high = stats.wilson(*want["on_time"])
    assert got["on_time"]["low"] == round(low, 4) and got["on_time"]["high"] == round(high, 4)
    assert got["median_days_to_reply"] == round(want["median"], 2)
    assert got["p90_days_to_reply"] == round(want["p90"], 2)
    assert got["overdue_now"] == want["overdue"]
    assert got["series"]
    grouped = client.get("/api/v1/stats?group_by=unit&min_cases=10").get_json()
    assert grouped["items"]
    for item in grouped["items"]:
        cases = [c for c in world if c.unit == item["code"]]
        assert item["messages"] == expected(cases)["messages"]
        assert (item["on_time"]["hits"], item["on_time"]["total"]) == expected(cases)["on_time"]
    lows = [item["on_time"]["low"] for item in grouped["items"]]
    assert lows == sorted(lows, reverse=True)
    regions = client.get("/api/v1/stats?group_by=region&level=county&min_cases=1").get_json()
    assert {i["code"] for i in regions["items"]} == {"330106", "330127", "440106"}
    assert_no_private(json.dumps(answer, ensure_ascii=False))
    bad = client.get("/api/v1/stats?group_by=planet&date_from=x")
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"group_by", "date_from"}
    assert client.get("/api/v1/stats?board=nope").status_code == 422


def test_api_messages_cursor_pagination_walks_every_public_message(client, world):
    """Following `next_cursor` visits each public message once; `page` still works."""
    seen: list[str] = []
    url = "/api/v1/messages?per_page=7"
    answer = client.get(url).get_json()
    assert answer["page"] == 1 and answer["total"] == sum(c.public for c in world)
    seen += [m["code"] for m in answer["items"]]
    while answer["next_cursor"]:
        answer = client.get(f"{url}&cursor={answer['next_cursor']}").get_json()
        assert answer["page"] is None
        seen += [m["code"] for m in answer["items"]]
    assert sorted(seen) == sorted(c.code for c in world if c.public)
    assert len(seen) == len(set(seen))
    second = client.get("/api/v1/messages?per_page=7&page=2").get_json()
    assert [m["code"] for m in second["items"]] == seen[7:14]
    assert client.get("/api/v1/messages?cursor=!!!").status_code == 422


def test_bad_input_never_fails(client, world):
    """Malformed filters are ignored on pages and refused with 4xx elsewhere, never a 500."""
    for url in (
        "/rankings?group=planet&level=x&from=2026-13-40&to=zz&sort=?&kind=%E2",
        "/rankings?group=region&level=county&region=330000&post=secretary",
        "/rankings?group=board&post=secretary&to=2025-01-01&from=2026-01-01",
        "/boards/330100-secretary?from=nope&state=%E2&replied=maybe",
        "/units/330100-zj?kind=x&page=-3",
        "/reports?region=330100&period=2026-03",
        "/feeds/messages.atom?q=%22&from=bad",
        "/export/messages.jsonl?state=replied,closed&replied=no",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert client.get("/units/nope").status_code == 404
    assert client.get("/rankings?kind=%00").status_code < 500
