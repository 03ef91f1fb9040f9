"""Public search: the analyzer, what enters the index, queries, filters, sorts, facets, the page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import T0, unit, world
from markupsafe import Markup
from sqlalchemy import select

from board.extensions import db
from board.messages import services as msg
from board.models import PUBLIC_STATES, Domain, Kind, Message, Role, State
from board.search import analysis, index, indexer
from board.search.query import parse_query, search_messages, similar_messages, similar_to_text

ID_NUMBER = "11010519491231002X"  # a valid resident ID (checksum), born 1949-12-31
PHONE = "13987654321"


def codes(result) -> set[str]:
    """The tracking codes of a search result's hits."""
    return {hit.message.code for hit in result.hits}


def found(q: str, **kwargs) -> set[str]:
    """Codes found for a query (first 100 hits)."""
    return codes(search_messages(q, per_page=100, **kwargs))


def index_terms_and_stored() -> list[str]:
    """Every term (decoded) and every stored value in the live index."""
    ix = index.open_index(index.live_dir())
    with ix.reader() as reader:
        values = [text.decode("utf-8", "ignore") for _field, text in reader.all_terms()]
        for fields in reader.all_stored_fields():
            values += [str(v) for v in fields.values()]
    return values


def indexed_codes() -> set[str]:
    """Codes of all documents in the live index."""
    with index.open_index(index.live_dir()).searcher() as searcher:
        return {f["code"] for f in searcher.all_stored_fields()}


# ---------------------------------------------------------------------------------------------
# The analyzer


def tokens(text: str, mode: str) -> list[tuple[str, int]]:
    """(text, position) of the analyzer's tokens."""
    return [(t.text, t.pos) for t in analysis.analyzer()(text, positions=True, mode=mode)]


def test_analyzer_indexes_subwords_in_sequence_and_the_word_at_the_first():
    """物业费 is indexed as 物业@n 费@n+1 plus 物业费@n; a query emits only the sub-words."""
    indexed = tokens("小区物业费上涨了", "index")
    assert ("物业", 1) in indexed and ("费", 2) in indexed and ("物业费", 1) in indexed
    assert ("上涨", 3) in indexed
    assert ("了", 4) not in indexed  # stop word removed without leaving a gap
    assert tokens("物业费上涨", "query") == [("物业", 0), ("费", 1), ("上涨", 2)]


def test_analyzer_keeps_digits_and_single_letters():
    """3号线 keeps its 3; A市 keeps its a (lower-cased); full-width digits become half-width."""
    assert ("3", 0) in tokens("3号线", "query")
    assert [t for t, _ in tokens("A市", "query")] == ["a", "市"]
    assert tokens("３号线", "query")[0] == ("3", 0)


def test_analyzer_stems_english_with_snowball_not_porter():
    """running → run (Porter would give runn); shoes → shoe; one form for the query and the text."""
    texts = [t for t, _ in tokens("Running shoes", "query")]
    assert texts == ["run", "shoe"]
    assert [t for t, _ in tokens("runs", "query")] == ["run"]


def test_analyzer_offsets_point_at_the_original_chinese_text():
    """Character offsets are exact, so highlights land on the right characters."""
    text = "我们小区的路灯不亮已经一个月"
    for token in analysis.analyzer()(text, chars=True, mode="index"):
        if token.text in ("路灯", "小区"):
            assert text[token.startchar : token.endchar] == token.text


def test_user_dictionary_keeps_names_whole():
    """A unit abbreviation added to the dictionary is one word, not 住/建局."""
    analysis.add_words(["住建局"])
    assert "住建局" in [w.text for w in analysis.words("西湖区住建局回复")]


# ---------------------------------------------------------------------------------------------
# Query semantics on a real index


def test_phrases_and_words_match_as_documented(make_message):
    """ "物业费上涨" and "拖欠工资" are phrases; unquoted 拖欠工资 also finds 工资被拖欠."""
    rise = make_message(
        "approved", title="物业费上涨", body="今年小区物业费上涨了三成，没有召开业主大会。"
    )
    other = make_message(
        "approved", title="费用问题", body="物业说今年费用上涨是因为人工成本增加。"
    )
    owed = make_message("approved", title="讨薪", body="某公司拖欠工资三个月，工人多次讨要无果。")
    passive = make_message(
        "approved", title="讨薪", body="我在工地干活，工资被拖欠了半年，请帮忙。"
    )
    assert found('"物业费上涨"') == {rise.code}
    assert found("物业费上涨") == {rise.code}
    assert found('"拖欠工资"') == {owed.code}
    assert found("拖欠工资") == {owed.code, passive.code}
    assert found("上涨 -物业费") == {other.code}
    assert found("物业费 OR 讨薪") == {rise.code, owed.code, passive.code}
    assert found("NOT 讨薪 物业") == {rise.code, other.code}


def test_number_next_to_chinese_is_not_searched_alone(make_message):
    """3号线 finds line 3, not a message about line 2 that mentions 3 elsewhere."""
    line3 = make_message(
        "approved", title="地铁3号线太挤", body="早高峰地铁3号线非常拥挤，建议加开班次。"
    )
    make_message("approved", title="地铁2号线", body="地铁2号线等了3次才上车，希望加车。")
    assert found("3号线") == {line3.code}


def test_approved_message_becomes_searchable_with_highlights(make_message, moderator):
    """Before approval nothing is found; after, the hit carries a <mark>ed snippet."""
    m = make_message("submitted", body="小区物业乱收停车费，每月多收两百元，业主多次反映无果。")
    assert found("物业") == set()
    msg.approve_message(m, moderator, now=T0 + timedelta(hours=1))
    result = search_messages("物业")
    assert codes(result) == {m.code}
    snippet = result.hits[0].snippet
    assert isinstance(snippet, Markup)
    assert "<mark>物业</mark>" in snippet


def test_reply_makes_its_words_searchable(make_message):
    """A published reply is indexed: its words find the message, highlighted in the reply."""
    m = make_message("replied", body="楼下烧烤店每晚营业到凌晨两点，油烟和噪音很大。")
    result = search_messages("责令 退还")
    assert codes(result) == {m.code}
    assert "<mark>责令</mark>" in result.hits[0].snippet
    assert search_messages("拖欠工资").total == 0


def test_words_found_although_jieba_splits_the_text_differently(make_message):
    """路灯 不亮 finds 路灯不亮 (jieba cuts it 路/灯不亮), with both words highlighted."""
    m = make_message(
        "approved", title="路灯坏了", body="我们小区路灯不亮已经一个月了，晚上出行很不方便。"
    )
    result = search_messages("路灯 不亮")
    assert codes(result) == {m.code}
    assert "<mark>路灯</mark>" in result.hits[0].snippet
    assert found('"路灯不亮"') == {m.code}


def test_character_pairs_run_over_digits_latin_and_marks_inside_a_word():
    """`grams` pairs up Chinese, digits, Latin letters and in-word marks alike (normalized);
    a comma, a space or a 。 separates runs."""
    assert analysis.bigrams("附近5000多居民，ＰＭ2.5超标10% 3号楼。好") == [
        ["附近", "近5", "50", "00", "00", "0多", "多居", "居民"],
        ["pm", "m2", "2.", ".5", "5超", "超标", "标1", "10", "0%"],
        ["3号", "号楼"],
        ["好"],
    ]


def test_spans_copied_from_the_text_are_found_as_written(make_message):
    """Spans cut mid-word, mid-number or across words jieba splits otherwise in the text are found
    (what a plain substring search finds), and highlighted whole."""
    m = make_message(
        "approved",
        title="灵活就业社保",
        body="我是外地农村户口，需要办个灵活就业社保做养老。园区在给予2000、5000元的奖励基础上"
        "另有补贴，房产对质量管控不到位，2-18楼用一个在2楼汇入主管道吗？订单号2024112345。",
    )
    make_message("approved", title="社保", body="灵活就业人员怎么办社保？养老保险怎么交？")
    for q in (
        "办个灵活就业社保做养",  # jieba: 办个 … 做养, unknown words
        "000元的奖",  # the tail of 5000
        '"在2楼汇入主"',
        "质量管控不到",  # the text has 不 到位
        "112345",  # a piece of a long number
    ):
        assert found(q) == {m.code}, q
    result = search_messages("办个灵活就业社保做养")
    assert "<mark>办个灵活就业社保做养</mark>" in result.hits[0].snippet


def test_text_as_written_ranks_below_the_exact_words(make_message):
    """3号线 also finds 13号线 as written (号线 may be cut short), ranked below 3号线 itself."""
    line3 = make_message("approved", title="地铁3号线太挤", body="早高峰3号线非常拥挤。")
    line13 = make_message("approved", title="地铁13号线", body="13号线早高峰非常拥挤。")
    assert [hit.message.code for hit in search_messages("3号线").hits] == [line3.code, line13.code]


def test_span_as_written_ranks_above_its_words_apart(make_message):
    """A phrase also scores as a term of its own: the message holding the span as written comes
    first, although others hold its words more often."""
    apart = [
        make_message(
            "approved",
            title=f"小区问题{n}",
            body="有很多问题，人很多，很多人反映，有人说很多次，" * (n + 2),
        )
        for n in range(3)
    ]
    exact = make_message("approved", title="停车难", body="我们小区有很多人晚上找不到车位。")
    result = search_messages("有很多人", per_page=10)
    codes = [hit.message.code for hit in result.hits]
    assert codes[0] == exact.code
    assert set(codes) >= {m.code for m in apart}
    # A quoted phrase ranks the same way.
    assert search_messages('"很多人晚上"').hits[0].message.code == exact.code


def test_exact_title_comes_first(make_message):
    """Someone typing a title they remember finds that message first, although longer titles
    and bodies use the words more."""
    others = [
        make_message(
            "approved",
            title=f"关于噪音投诉的投诉{n}",
            body="投诉噪音，投诉很多次，一直投诉没有结果。" * 3,
        )
        for n in range(3)
    ]
    exact = make_message("approved", title="投诉", body="楼下商铺占道经营，影响行人通行。")
    hits = [hit.message.code for hit in search_messages("投诉").hits]
    assert hits[0] == exact.code and set(hits[1:]) == {m.code for m in others}
    # The title's words with one more word is not the title: ranked by BM25F alone.
    assert search_messages("投诉 商铺").hits[0].message.code == exact.code
    longer = [hit.message.code for hit in search_messages("噪音投诉").hits]
    assert longer and exact.code not in longer


def test_title_holding_every_word_comes_before_bodies_repeating_them(make_message):
    """A few words of a remembered title, in any order: the message whose title holds them
    all ranks above messages that hold some of them in the title and repeat all of them in a
    long body."""
    body = "小区门面油烟扰民，门面油烟扰民，扰民严重，小区居民多次反映门面扰民。" * 3
    repeating = {
        make_message("approved", title=f"门面油烟问题{n}", body=body).code for n in range(3)
    }
    titled = make_message(
        "approved", title="小区车库做门面扰民", body="车库改成门面经营，噪声很大，希望处理。"
    )
    hits = [hit.message.code for hit in search_messages("扰民 门面 小区").hits]
    assert hits[0] == titled.code and set(hits[1:]) == repeating
    # Excluded words are not asked of the title.
    hits = [hit.message.code for hit in search_messages("扰民 门面 小区 -油烟").hits]
    assert hits == [titled.code]


def test_keyword_queries_do_not_pay_for_character_pairs():
    """Known words and short numbers are matched by words only: no phrase over common pairs."""
    for q in ("物业费", "拖欠工资 农民工", "农民工工资", "2019", "公交 班次 噪音"):
        assert "grams" not in str(parse_query(q).to_query()), q
    for q in ("区物业公司将物", "5000多居", "小区物业费上涨", "4250048", "消费94", '"物业费"'):
        assert "grams" in str(parse_query(q).to_query()), q


def test_tracking_code_finds_its_message(make_message):
    """A query that is a tracking code finds that message (in any case), a part of it too."""
    m = make_message("approved")
    make_message("approved")
    assert found(m.code.lower()) == {m.code}
    assert found(m.code.split("-")[-1]) == {m.code}


def test_snippet_escapes_html_but_keeps_marks(make_message):
    """Text from citizens is escaped; the only markup is <mark>."""
    m = make_message("approved", body="物业贴出通知<script>alert(1)</script>要求每户交钱，不合理。")
    snippet = search_messages("物业").hits[0].snippet
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    assert "<mark>物业</mark>" in snippet
    assert m.code in found("物业")


MALFORMED = [
    "AND", '"', "(", ")", "-", "*", "title:", "OR", "OR OR 物业", "NOT", '"物业', "物业 -",
    "((物业)))", "\\", "a" * 5000, "物业" * 300, "？？", "+", '-""', "body:物业 AND", "\x00",
    "“物业", "-物业 -小区", "| |", "MS-2026-", "~!@#$%^&*()_+",
]  # fmt: skip


def test_malformed_queries_never_error(make_message):
    """Whatever the syntax, search answers with a result (plain terms as the fallback)."""
    make_message("approved")
    for q in MALFORMED:
        result = search_messages(q)
        assert result.total >= 0, q
        assert parse_query(q) is not None, q
    assert search_messages('"物业').total == 1  # an unclosed quote still searches its words
    assert search_messages("-物业 -小区").total == 0


def test_operator_words_alone_fall_back_to_plain_terms(make_message):
    """A query of just NOT searches the word "not" instead of failing or listing everything."""
    m = make_message(
        "approved", title="禁止驶入", body="路口标志写着 NOT ENTER，但很多车照样驶入。"
    )
    make_message("approved")
    assert found("NOT") == {m.code}


# ---------------------------------------------------------------------------------------------
# Only public text enters the index


def hide(message, moderator):
    """Take a public message down."""
    return msg.hide_message(
        message, moderator, reason="hide:privacy_leak", now=T0 + timedelta(days=1)
    )


BODY_WITH_SECRETS = f"保密词甲乙丙，我的身份证号{ID_NUMBER}，电话{PHONE}，小区物业乱收费。"


def assert_only_masked_identifiers(values: list[str]) -> None:
    """The ID number and the phone appear in the index only in their masked forms."""
    joined = " ".join(values)
    assert ID_NUMBER.lower() not in joined and "19491231" not in joined
    assert PHONE not in joined and "8765" not in joined
    assert "110105" in values and "4321" in values  # what the masks keep


@pytest.mark.inline_index
def test_never_public_messages_never_enter_the_index(make_message):
    """Submitted, rejected, private and report messages leave no document and no word behind."""
    public = make_message("approved", title="公开留言", body=BODY_WITH_SECRETS)
    kept_private = [
        make_message("submitted", title="秘密标题", body=BODY_WITH_SECRETS),
        make_message("rejected", title="秘密标题", body=BODY_WITH_SECRETS),
        make_message("approved", title="秘密标题", body=BODY_WITH_SECRETS, wants_public=False),
        make_message(
            "approved",
            title="秘密标题",
            body=BODY_WITH_SECRETS,
            kind=Kind.REPORT,
            track="petition",
            real_name="陈明亮",
            phone="13912345678",
            address="杭州市西湖区某路1号",
        ),
    ]
    assert [m.state for m in kept_private] == ["submitted", "rejected", "received", "received"]
    assert not any(m.is_public for m in kept_private)
    assert indexed_codes() == {public.code}
    assert found("秘密") == set()
    values = index_terms_and_stored()
    assert not [v for v in values if "秘密" in v]
    assert_only_masked_identifiers(values)


def test_hidden_and_withdrawn_messages_leave_the_index(make_message, moderator, citizen, runner):
    """Hiding or withdrawing deletes the document at once; optimize purges its words too."""
    public = make_message("approved", title="公开留言", body=BODY_WITH_SECRETS)
    hidden = make_message("approved", title="秘密标题", body=BODY_WITH_SECRETS)
    withdrawn = make_message("approved", title="秘密标题", body=BODY_WITH_SECRETS)
    assert found("秘密") == {hidden.code, withdrawn.code}
    hide(hidden, moderator)
    msg.withdraw_message(withdrawn, citizen, now=T0 + timedelta(days=1))
    assert found("秘密") == set()
    assert indexed_codes() == {public.code}
    assert_only_masked_identifiers(index_terms_and_stored())
    assert indexer.has_deletions()
    out = runner.invoke(args=["search", "optimize"])
    assert out.exit_code == 0 and "1 documents" in out.output, out.output
    assert not [v for v in index_terms_and_stored() if "秘密" in v]
    assert not indexer.has_deletions()


@pytest.mark.inline_index
@pytest.mark.parametrize("background", [False, True])
def test_a_large_index_purges_deletions_by_rebuilding(app, make_message, moderator, background):
    """Above SEARCH_OPTIMIZE_MAX_DOCS the daily purge rebuilds from the database (in a thread
    for the worker, which keeps applying the outbox meanwhile) instead of Whoosh's merge."""
    app.config["SEARCH_OPTIMIZE_MAX_DOCS"] = 1
    public = make_message("approved", title="公开留言", body=BODY_WITH_SECRETS)
    hidden = make_message("approved", title="秘密标题", body=BODY_WITH_SECRETS)
    hide(hidden, moderator)
    assert indexer.has_deletions()
    before = index.live_dir()
    done = indexer.purge_deletions(background=background)
    if background:
        assert done == "rebuilding in the background"
        indexer._purging.join(timeout=60)
        assert not indexer._purging.is_alive()
    else:
        assert done == "rebuilt, 1 documents"
    assert index.live_dir() != before  # a new generation
    assert not indexer.has_deletions()
    assert not [v for v in index_terms_and_stored() if "秘密" in v]
    assert indexed_codes() == {public.code}
    app.config["SEARCH_OPTIMIZE_MAX_DOCS"] = None
    hide(public, moderator)
    assert indexer.purge_deletions() == "optimized, 0 documents"


def test_hiding_a_public_message_removes_it(make_message, moderator):
    """A hidden message disappears from search at once."""
    m = make_message("replied")
    assert found("物业") == {m.code}
    hide(m, moderator)
    assert found("物业") == set()
    assert indexed_codes() == set()


def test_private_note_and_identity_are_masked_in_the_index(make_message):
    """Values the author gave in private are masked where they appear in the public body."""
    m = make_message(
        "approved", body="请联系陈明亮处理，小区物业问题已经拖了很久。", private_note="我叫陈明亮"
    )
    assert m.code in found("物业")
    assert found("陈明亮") == set()
    assert "明亮" not in index_terms_and_stored()


# ---------------------------------------------------------------------------------------------
# Filters, sorts, facets, pages


@pytest.fixture
def corpus(app, database, make_message, coordinator, handler, troll, make_user, tmp_path_factory):
    """Six public messages across regions, boards, kinds, domains, states and dates, by name
    (built through the services once per process and database, then restored: `world`)."""
    return world(
        "search-corpus",
        database,
        tmp_path_factory,
        lambda: _build_corpus(app, make_message, coordinator, handler, troll, make_user),
    )


def _build_corpus(app, make_message, coordinator, handler, troll, make_user) -> dict[str, str]:
    app.config["SEARCH_APPLY_INLINE"] = False  # one sync at the end instead of one per commit
    later = T0 + timedelta(days=40)
    items = {
        "west": make_message(
            "replied",
            title="西湖边停车难",
            body="西湖边停车位太少，物业停车收费还上涨。",
            region_code="330106",
        ),
        "chunan": make_message(
            "approved",
            title="淳安公交",
            body="淳安县城公交班次太少，物业小区门口没有站点。",
            region_code="330127",
            kind=Kind.SUGGESTION,
            domain=Domain.TRANSPORT,
        ),
        "ningbo": make_message(
            "approved",
            title="海曙物业",
            body="海曙区某小区物业不作为，垃圾堆积。",
            board_code="330000-secretary",
            region_code="330203",
            now=later,
        ),
        "canton": make_message(
            "approved",
            title="天河物业",
            body="天河区小区物业电梯常坏，物业不修。",
            board_code="440100-secretary",
            region_code="440106",
            domain=Domain.ENVIRONMENT,
        ),
        "slow": make_message(
            "approved",
            title="物业维修慢",
            body="物业维修基金使用不透明，业主查不到账目。",
            region_code="330106",
            now=T0 + timedelta(days=2),
        ),
        "school": make_message(
            "approved",
            title="学校门口拥堵",
            body="学校门口接送车辆拥堵，物业保安不管。",
            region_code="330106",
            kind=Kind.INQUIRY,
            domain=Domain.EDUCATION,
        ),
    }
    slow = items["slow"]
    msg.assign_message(slow, unit("330100-zj"), coordinator, now=T0 + timedelta(days=3))
    msg.reply_message(
        slow,
        handler,
        body="经核查，维修基金账目将在小区公示栏公开，请业主监督。",
        now=T0 + timedelta(days=30),
    )
    msg.sign_off_reply(slow, coordinator, now=T0 + timedelta(days=30, hours=1))
    for _ in range(2):
        msg.cosign_message(items["school"], make_user(Role.CITIZEN), now=T0 + timedelta(days=5))
    msg.cosign_message(items["canton"], troll, now=T0 + timedelta(days=5))
    app.config["SEARCH_APPLY_INLINE"] = True
    indexer.sync()
    return {name: m.code for name, m in items.items()}


def test_filters_narrow_results(corpus):
    """Region (with its subtree), board, unit, kind, domain, state, replied and dates filter."""
    every = set(corpus.values())
    assert found("物业") == every
    assert found("物业", filters={"region": "330000"}) == every - {corpus["canton"]}
    assert found("物业", filters={"region": "330100"}) == {
        corpus["west"],
        corpus["chunan"],
        corpus["slow"],
        corpus["school"],
    }
    assert found("物业", filters={"region": "330127"}) == {corpus["chunan"]}
    assert found("物业", filters={"board": "330000-secretary"}) == {corpus["ningbo"]}
    assert found("物业", filters={"unit": "330100-zj"}) == {corpus["west"], corpus["slow"]}
    assert found("物业", filters={"kind": "suggestion"}) == {corpus["chunan"]}
    assert found("物业", filters={"domain": "environment"}) == {corpus["canton"]}
    assert found("物业", filters={"state": "replied"}) == {corpus["west"], corpus["slow"]}
    assert found("物业", filters={"state": ["received", "replied"]}) == every
    assert found("物业", filters={"replied": True}) == {corpus["west"], corpus["slow"]}
    assert found("物业", filters={"replied": False}) == every - {corpus["west"], corpus["slow"]}
    assert found("物业", filters={"date_from": date(2026, 4, 1)}) == {corpus["ningbo"]}
    assert found("物业", filters={"date_to": date(2026, 3, 2)}) == every - {
        corpus["ningbo"],
        corpus["slow"],
    }
    assert found("物业", filters={"region": "330100", "kind": "inquiry"}) == {corpus["school"]}


def test_empty_query_with_filters_lists_newest_first(corpus):
    """No words, a filter: the region's messages, newest first."""
    result = search_messages("", filters={"region": "330000"})
    assert [h.message.code for h in result.hits][0] == corpus["ningbo"]
    assert result.total == 5


def test_sorts(corpus):
    """newest, oldest, most co-signed and slowest reply order the hits."""

    def order(sort):
        return [h.message.code for h in search_messages("物业", sort=sort, per_page=10).hits]

    assert order("newest")[0] == corpus["ningbo"]
    assert order("oldest")[-1] == corpus["ningbo"]
    assert order("cosigns")[:2] == [corpus["school"], corpus["canton"]]
    assert order("slowest")[:2] == [corpus["slow"], corpus["west"]]
    assert set(order("relevance")) == set(corpus.values())
    assert set(order("bogus")) == set(corpus.values())


def test_facets_count_all_matches(corpus):
    """Facet counts cover every match, not just the page: domain, state, kind, year, region."""
    result = search_messages("物业", per_page=2)
    facets = {name: dict(pairs) for name, pairs in result.facets.items()}
    assert facets["region"] == {"330000": 5, "440000": 1}
    assert facets["domain"]["urban"] == 3
    assert facets["state"] == {"replied": 2, "received": 4}
    assert facets["kind"]["complaint"] == 4
    assert facets["year"] == {"2026": 6}


def test_pagination_keeps_the_total(corpus):
    """Pages split the hits; the total is the same on every page; no hit repeats."""
    pages = [search_messages("物业", page=n, per_page=4, sort="oldest") for n in (1, 2)]
    assert [p.total for p in pages] == [6, 6]
    assert [len(p.hits) for p in pages] == [4, 2]
    assert pages[0].pages == 2
    assert not codes(pages[0]) & codes(pages[1])
    assert search_messages("物业", page=9, per_page=4).hits == []


def test_similar_messages_find_the_same_problem(corpus, make_message):
    """More-like-this finds messages on the same subject and never the message itself."""
    twin = make_message(
        "approved", title="物业维修基金", body="维修基金账目不透明，物业不公开使用情况。"
    )
    slow = db.session.scalar(select(Message).where(Message.code == corpus["slow"]))
    similar = [m.code for m in similar_messages(slow)]
    assert similar[0] == twin.code and slow.code not in similar
    assert similar_to_text("维修基金", "维修基金账目不透明")[0].code in {twin.code, slow.code}


@pytest.mark.inline_index
def test_index_status_reports_documents_and_pending(app, make_message):
    """index_status gives the count, the applied sequence and pending rows; ok when caught up."""
    make_message("approved")
    status = indexer.index_status()
    assert status["doc_count"] == 1 and status["pending"] == 0 and status["ok"] is True
    assert status["last_applied_seq"] >= 1
    app.config["SEARCH_APPLY_INLINE"] = False
    make_message("approved")
    status = indexer.index_status()
    assert status["doc_count"] == 1 and status["pending"] >= 1


def test_applying_on_read_indexes_at_the_next_search_and_only_what_is_committed(
    app, make_message, moderator
):
    """SEARCH_APPLY_ON_READ (the suite's setting): commits leave the outbox alone; the next
    search applies it first, in a session of its own, so rows its caller has flushed but not
    committed never reach the index (a rollback must not leave a document behind)."""
    assert app.config["SEARCH_APPLY_ON_READ"] is True
    kept = make_message("approved", title="电梯维保不到位")
    assert indexer.index_status()["pending"] >= 1  # the commits wrote nothing to the index
    assert found("电梯") == {kept.code}  # the search applied the outbox first
    assert indexer.index_status()["pending"] == 0

    msg.hide_message(kept, moderator, reason="hide:unlawful", now=T0 + timedelta(days=2))
    assert found("电梯") == set()

    doomed = make_message("approved", title="路灯维修慢")
    assert found("路灯") == {doomed.code}
    doomed.title = "燃气管道漏气"
    from board.search import outbox

    outbox.enqueue(doomed)
    db.session.flush()  # in this transaction only
    assert found("燃气") == set()  # not committed: not applied
    db.session.rollback()
    assert found("燃气") == set() and found("路灯") == {doomed.code}
    assert indexer.index_status()["pending"] == 0 and indexer.check().ok


# ---------------------------------------------------------------------------------------------
# The page


def test_search_page_shows_highlighted_hits_facets_and_links(client, make_message):
    """GET /search?q= lists hits with <mark>, badge, board, count, facets and the message link."""
    m = make_message("replied")
    page = client.get("/search", query_string={"q": "物业"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<mark>物业</mark>" in html
    assert f"/m/{m.code}" in html
    assert "共 1 条" in html
    assert "已回复" in html and "杭州市委书记" in html
    assert "region=330000" in html  # a facet refinement link
    assert "css/search.css" in html
    assert 'role="alert"' not in html  # no form errors for a plain search


def test_search_page_without_query_shows_help_and_no_results_help(client, make_message):
    """An empty form explains the syntax; a search without hits says what to try."""
    make_message("approved")
    assert "怎样搜索" in client.get("/search").get_data(as_text=True)
    html = client.get("/search", query_string={"q": "火星移民"}).get_data(as_text=True)
    assert "没有找到符合条件的公开留言" in html


def test_search_page_filters_through_the_url(client, corpus):
    """Filters in the query string narrow results and show as removable conditions."""
    html = client.get(
        "/search", query_string={"q": "物业", "region": "440000", "state": "received,assigned"}
    ).get_data(as_text=True)
    assert corpus["canton"] in html and corpus["west"] not in html
    assert "广东省" in html and "清除全部筛选" in html


BAD_PARAMETERS = [
    {"q": "物业", "kind": "bogus"},
    {"q": "物业", "from": "not-a-date"},
    {"q": "物业", "page": "x"},
    {"q": '"', "sort": "bogus"},
    {"region": "999999"},
    {"q": "物业", "page": "100000"},
    {"q": "物业", "state": "closed,bogus", "replied": "maybe", "to": "2026-13-40"},
    {"q": "x" * 1000},
]


def test_search_page_survives_bad_parameters(client, make_message):
    """Malformed parameters never cause an error page."""
    make_message("approved")
    for args in BAD_PARAMETERS:
        assert client.get("/search", query_string=args).status_code == 200, args


def test_search_page_paginates(client, make_message):
    """More hits than a page: a next link keeps the query."""
    for i in range(21):
        make_message("approved", title=f"物业问题{i}")
    html = client.get("/search", query_string={"q": "物业"}).get_data(as_text=True)
    assert "共 21 条" in html and 'rel="next"' in html and "page=2" in html
    second = client.get("/search", query_string={"q": "物业", "page": 2}).get_data(as_text=True)
    assert second.count('class="message-item"') == 1


def test_state_constants_cover_public_states():
    """Every public state has a place in the search form's state choices."""
    from board.search.forms import STATE_ORDER

    assert set(STATE_ORDER) == {s for s in State if s in PUBLIC_STATES}


def test_traditional_and_simplified_characters_find_each_other(make_message):
    """A query in traditional characters finds a message in simplified ones, and the other way
    round; the snippet marks the words as the author wrote them."""
    simple = make_message(
        "approved", title="噪音扰民", body="小区楼下的烧烤店每晚噪音扰民，油烟很大。"
    )
    traditional = make_message(
        "approved", title="學區房問題", body="開發區的學區房劃分不公開，家長多次反映無果。"
    )
    assert found("噪音擾民") == {simple.code}
    assert found('"噪音擾民"') == {simple.code}
    assert found("学区房") == {traditional.code}
    assert found('"划分不公开"') == {traditional.code}
    result = search_messages("开发区")
    assert codes(result) == {traditional.code}
    assert "<mark>開發區</mark>" in result.hits[0].snippet


def test_counted_numbers_find_each_other_in_digits_and_chinese(make_message):
    """3号线 finds 三号线 and the other way round, both above 13号线 (found as written, see
    docs/search.md); 五栋 finds 5栋; the snippet marks the words as written."""
    chinese = make_message(
        "approved", title="地铁三号线太挤", body="早高峰三号线非常拥挤，五栋的住户都反映。"
    )
    digits = make_message("approved", title="3号线延误", body="3号线今天又延误了半小时。")
    thirteen = make_message("approved", title="13号线", body="地铁13号线的站台太窄。")
    for query in ("3号线", "三号线"):
        ranked = [hit.message.code for hit in search_messages(query).hits]
        assert set(ranked[:2]) == {chinese.code, digits.code}, query
        assert ranked[2:] in ([], [thirteen.code]), query
    assert found('"5栋"') == {chinese.code}
    result = search_messages("地铁 3号线 拥挤")
    assert codes(result) == {chinese.code}
    assert "三号线" in result.hits[0].snippet
