"""The topic model and POST /api/v1/suggest: a deterministic small training run on data built
here (never the shared archives), the train command, and the answer's contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_test_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from board.intel import classifier
from board.intel.classifier import Examples

# Three topics with their own words; each example mixes a few of them with shared filler.
VOCAB = {
    "城乡建设": ["物业", "小区", "停车费", "电梯", "业主", "拆迁", "房屋"],
    "交通运输": ["公交", "站点", "班次", "地铁", "线路", "出租车", "道路"],
    "卫生计生": ["医院", "医生", "挂号", "疫苗", "看病", "医保", "护士"],
}
FILLER = ["反映", "问题", "市民", "情况", "请求", "解决"]


def tiny_examples() -> Examples:
    """36 word lists, 12 per topic, made the same way on every run."""
    examples = Examples()
    for label, words in VOCAB.items():
        for i in range(12):
            chosen = [words[(i + k) % len(words)] for k in range(4)] + FILLER[i % 3 : i % 3 + 2]
            examples.add(" ".join(chosen), label)
    return examples


def train_tiny(stopwords=frozenset({"的", "了"})):
    """The real pipeline, on the tiny set."""
    return classifier.train(tiny_examples(), stopwords, small=True)


def test_small_training_run_is_deterministic_and_learns_the_topics(app):
    """Two runs give the same probabilities; a clear text gets its topic, scores sum to one."""
    first, second = train_tiny(), train_tiny()
    text = ("小区物业乱收停车费", "业主反映物业把电梯停了")
    assert first.predict(*text) == second.predict(*text)
    ranked = first.predict(*text)
    assert ranked[0][0] == "城乡建设"
    assert [label for label, _ in ranked] == sorted(
        (label for label, _ in ranked), key=lambda lab: -dict(ranked)[lab]
    )
    assert abs(sum(score for _, score in ranked) - 1) < 1e-6
    assert first.predict("公交站点太远", "希望增加公交班次")[0][0] == "交通运输"
    assert first.predict("", "") == []


def test_held_out_split_is_stratified_and_seeded():
    """Every topic gives the same share to the test side; the same seed gives the same split."""
    train_set, test_set = classifier.stratified_split(tiny_examples(), test_share=0.25)
    again = classifier.stratified_split(tiny_examples(), test_share=0.25)
    assert test_set.texts == again[1].texts
    assert sorted(test_set.labels) == sorted([label for label in VOCAB for _ in range(3)])
    assert len(train_set) == 27


def test_near_duplicates_of_the_evaluation_set_are_removed():
    """A training row sharing most words with an evaluation message is left out."""
    rows = Examples(["物业 停车费 小区 业主", "公交 站点 班次"], ["城乡建设", "交通运输"])
    evaluation = Examples(["物业 停车费 小区 电梯"], ["城乡建设"])
    kept = classifier.without_near_duplicates(rows, evaluation, 0.5)
    assert kept.texts == ["公交 站点 班次"]


def _shared_data(tmp_path):
    """A folder shaped like ../shared/data with a tiny tipdm2020c inside."""
    folder = tmp_path / "data" / "tipdm2020c"
    folder.mkdir(parents=True)
    examples = tiny_examples()
    rows = ["tokens,label"] + [
        f"{t},{lab}" for t, lab in zip(examples.texts, examples.labels, strict=True)
    ]
    (folder / "messages_labelled_tokens.csv").write_text("\n".join(rows), encoding="utf-8")
    (folder / "stopwords_zh.txt").write_text("的\n了\n", encoding="utf-8")
    return folder.parent


def test_train_command_shows_progress_and_writes_the_model(app, runner, tmp_path):
    """`flask suggest train` reads the data, prints its steps and writes instance/…pickle."""
    app.config["SHARED_DATA"] = str(_shared_data(tmp_path))
    app.config["SUGGEST_SMALL_MODEL"] = True
    result = runner.invoke(args=["suggest", "train"])
    assert result.exit_code == 0, result.output
    assert "messages_labelled_tokens.csv: 36" in result.output
    assert "platform (citizen/staff topics): 0" in result.output
    assert "model written to" in result.output
    model = classifier.load()
    assert model.labels == sorted(VOCAB) and model.trained_on["messages_labelled_tokens.csv"] == 36


def test_train_command_without_data_says_where_it_looked(app, runner, tmp_path):
    """Missing archives are a clear error, not a traceback."""
    app.config["SHARED_DATA"] = str(tmp_path / "nowhere")
    result = runner.invoke(args=["suggest", "train"])
    assert result.exit_code != 0
    assert "not found" in result.output


def _evaluation_data(tmp_path) -> tuple[Path, int]:
    """A data folder for `flask suggest evaluate` whose token file holds a known number of
    training rows that nearly repeat (5 of 7 words) a held-out row, and the labelled sample.

    The seeded split depends only on how many rows each topic has, so the held-out positions
    are found on distinct rows first; then, per topic, two training rows become near-twins of
    held-out rows (to be removed) and one a near-twin of another training row (to be kept)."""
    distinct = Examples()
    for t, (label, words) in enumerate(VOCAB.items()):
        for i in range(20):
            own = [f"t{t}r{i}w{k}" for k in range(4)]
            distinct.add(" ".join([words[i % 7], words[(i + 3) % 7], *own]), label)
    train_set, test_set = classifier.stratified_split(distinct)
    held_out = set(test_set.texts)
    texts = list(distinct.texts)
    twins_of_held_out = 0
    for label in VOCAB:
        rows = [n for n, lab in enumerate(distinct.labels) if lab == label]
        test_rows = [n for n in rows if texts[n] in held_out]
        train_rows = [n for n in rows if texts[n] not in held_out]
        for target, source in ((train_rows[0], test_rows[0]), (train_rows[1], test_rows[1])):
            texts[target] = " ".join([*distinct.texts[source].split()[:5], f"twin{target}"])
            twins_of_held_out += 1
        texts[train_rows[2]] = " ".join([*distinct.texts[train_rows[3]].split()[:5], "twin"])
    folder = tmp_path / "data" / "tipdm2020c"
    folder.mkdir(parents=True)
    lines = ["tokens,label"] + [
        f"{text},{lab}" for text, lab in zip(texts, distinct.labels, strict=True)
    ]
    (folder / "messages_labelled_tokens.csv").write_text("\n".join(lines), encoding="utf-8")
    (folder / "stopwords_zh.txt").write_text("的\n了\n", encoding="utf-8")
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["留言主题", "留言详情", "一级分类"])
    for label, words in VOCAB.items():
        for i in range(3):
            sheet.append([f"{words[i]}{words[i + 1]}", f"市民反映{words[i + 2]}的问题", label])
    workbook.save(folder / "messages_labelled_sample.xlsx")
    return folder.parent, twins_of_held_out


def test_evaluate_reports_the_deduplicated_held_out_figure(app, runner, tmp_path):
    """`flask suggest evaluate` prints held-out, deduplicated and unseen macro-F1 with their
    steps; the deduplicated run loses exactly the training rows built as near-twins of held-out
    rows (not the twin of another training row), and two runs give the same figures."""
    data, twins = _evaluation_data(tmp_path)
    app.config["SHARED_DATA"] = str(data)
    app.config["SUGGEST_SMALL_MODEL"] = True
    outputs = []
    for _ in range(2):
        result = runner.invoke(args=["suggest", "evaluate"])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    output = outputs[0]
    assert twins == 6
    assert "held-out split: train 48, test 12" in output
    assert (
        f"held-out, deduplicated: train {48 - twins}; {twins} training rows overlapping a "
        "held-out row by > 50% of words removed"
    ) in output
    figures = [
        [line.split("] ", 1)[1] for line in text.splitlines() if "macro-F1" in line]
        for text in outputs
    ]
    assert [line.rsplit(" ", 1)[0] for line in figures[0]] == [
        "held-out macro-F1",
        "held-out, deduplicated macro-F1",
        "unseen macro-F1",
    ]
    assert all(0 <= float(line.rsplit(" ", 1)[1]) <= 1 for line in figures[0])
    assert figures[0] == figures[1]
    assert "unseen: 9 real messages" in output
    assert output.index("held-out macro-F1") < output.index("held-out, deduplicated macro-F1")


def _install_tiny_model(app):
    """Train the tiny model into the app's instance folder."""
    classifier.save(train_tiny(), classifier.model_path())


def test_suggest_answers_topics_domain_units_and_similar_public_messages(app, client, make_message):
    """The contract: topics best first with label/path/score, the domain, the units that
    answered similar public messages, and only public codes among the similar ones."""
    from board.intel import taxonomy

    taxonomy.load_taxonomy([("城乡建设", "物业管理", "物业服务"), ("交通运输",)])
    _install_tiny_model(app)
    answered = make_message(
        "replied", title="小区物业乱收停车费", body="物业每月多收停车费两百元，业主多次反映。"
    )
    hidden = make_message(
        "replied",
        title="小区物业乱收停车费用",
        body="物业每月多收停车费三百元，业主多次反映。",
        wants_public=False,
    )
    response = client.post(
        "/api/v1/suggest",
        json={"title": "物业乱收停车费", "body": "我们小区物业服务差，还多收停车费，业主不满。"},
    )
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {"topics", "domain", "units", "similar"}
    scores = [t["score"] for t in data["topics"]]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    best = data["topics"][0]
    assert best["path"] == ["城乡建设", "物业管理", "物业服务"] and best["label"] == "物业服务"
    assert data["domain"] == "urban"
    assert data["units"][0]["code"] == "330100-zj" and data["units"][0]["name"]
    assert answered.code in data["similar"]
    assert hidden.code not in data["similar"] and hidden.code not in json.dumps(data)
    assert "三百元" not in response.get_data(as_text=True)
    # Written in traditional characters, the same draft gets the same narrowed topic.
    traditional = client.post(
        "/api/v1/suggest",
        json={"title": "物業亂收停車費", "body": "我們小區物業服務差，還多收停車費，業主不滿。"},
    ).get_json()
    assert traditional["topics"][0]["path"] == ["城乡建设", "物业管理", "物业服务"]


def test_suggest_without_a_model_still_answers(app, client):
    """Before the first training run the answer has no topics but keeps its shape."""
    response = client.post("/api/v1/suggest", json={"title": "公交", "body": "班次太少"})
    assert response.status_code == 200
    assert response.get_json() == {"topics": [], "domain": None, "units": [], "similar": []}


def test_suggest_rejects_wrong_types_with_422(app, client):
    """Fields of the wrong type or too long are named in a 422."""
    response = client.post("/api/v1/suggest", json={"title": 5, "body": "长" * 6000})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"title", "body"}


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(
    body=st.one_of(
        st.binary(max_size=64),
        st.dictionaries(
            st.sampled_from(["title", "body", "x"]),
            st.one_of(st.none(), st.integers(), st.text(max_size=200), st.lists(st.text())),
            max_size=3,
        ).map(lambda d: json.dumps(d).encode()),
    )
)
def test_suggest_never_500_on_hostile_bodies(app, client, body):
    """Any body is a 200, 400 or 422: never a server error."""
    response = client.post("/api/v1/suggest", data=body, content_type="application/json")
    assert response.status_code in (200, 400, 422), response.get_data(as_text=True)[:300]


def test_suggest_is_rate_limited(app, database, tmp_path):
    """The endpoint shares the search limit per address: a burst gets 429 with Retry-After."""
    limited = make_test_app(database, tmp_path, RATELIMIT_ENABLED=True)
    client = limited.test_client()
    answers = [client.post("/api/v1/suggest", json={"title": "公交"}) for _ in range(70)]
    refused = [r for r in answers if r.status_code == 429]
    assert refused and int(refused[0].headers["Retry-After"]) >= 1
    assert {r.status_code for r in answers} <= {200, 429}


def test_compose_preview_suggests_the_topic_and_a_better_domain(app, client, citizen):
    """The preview names the likely topic; a domain unlike it is pointed out, not changed."""
    from conftest import login

    _install_tiny_model(app)
    login(client, citizen)
    form = {
        "track": "board",
        "kind": "complaint",
        "domain": "transport",
        "region": "330106",
        "title": "小区物业乱收停车费",
        "body": "我们小区物业今年起每月多收停车费两百元，业主多次反映无果。",
        "wants_public": "y",
        "preview": "x",
    }
    page = client.post("/write?board=330100-secretary", data=form).get_data(as_text=True)
    assert "compose-suggestion" in page and "城乡建设" in page
    assert "建议选“城建”" in page
    page = client.post("/write?board=330100-secretary", data={**form, "domain": "urban"}).get_data(
        as_text=True
    )
    assert "城乡建设" in page and "建议选" not in page


def test_setup_trains_once_and_skips_a_current_model(app, runner, tmp_path):
    """`make run`'s background step: tree and model on the first start, nothing on the second;
    new data (another file size) trains again; no data folder: a clear line, no model."""
    from board.intel import taxonomy

    data = _shared_data(tmp_path)
    app.config["SHARED_DATA"] = str(data)
    app.config["SUGGEST_SMALL_MODEL"] = True
    log = tmp_path / "setup.log"
    result = runner.invoke(args=["suggest", "setup", "--log", str(log)])
    assert result.exit_code == 0, result.output
    assert "topic model: training" in result.output and "topic model: ready" in result.output
    stamp = classifier.model_path().stat().st_mtime_ns
    result = runner.invoke(args=["suggest", "setup", "--log", str(log)])
    assert "topic model: up to date" in result.output
    assert classifier.model_path().stat().st_mtime_ns == stamp  # not trained again
    assert "messages_labelled_tokens.csv: 36" in log.read_text(encoding="utf-8")
    with (data / "tipdm2020c" / "stopwords_zh.txt").open("a", encoding="utf-8") as handle:
        handle.write("呢\n")
    result = runner.invoke(args=["suggest", "setup", "--log", str(log)])
    assert "topic model: training" in result.output
    assert taxonomy.topic_tree() == []  # no labels.xlsx here: the tree is left alone
    app.config["SHARED_DATA"] = str(tmp_path / "nowhere")
    result = runner.invoke(args=["suggest", "setup", "--log", str(log)])
    assert result.exit_code == 0 and "topic suggestions stay off" in result.output


def test_topic_tree_names_become_features_and_survive_the_model_file(app, tmp_path):
    """Second- and third-level names count for their first level (spaces between words do not
    hide them); a model trained with them predicts the same after a save and a load."""
    import math

    names = classifier.topic_names(
        [("城乡建设", "住房保障", "廉租房"), ("交通运输", "公交线路"), ("卫生计生", "医")]
    )
    assert names == {"住房保障": ["城乡建设"], "公交线路": ["交通运输"], "廉租房": ["城乡建设"]}
    feature = classifier.TopicNames(names).fit([])
    rows = feature.transform(["申请 廉租房 住房 保障", "公交 线路 太 少", "没有 名字"]).toarray()
    assert list(feature.get_feature_names_out()) == ["交通运输", "城乡建设"]
    assert rows[0].tolist() == pytest.approx([0.0, math.log1p(2)])
    assert rows[1].tolist() == pytest.approx([math.log1p(1), 0.0])
    assert rows[2].tolist() == [0.0, 0.0]
    model = classifier.train(tiny_examples(), frozenset(), small=True, names=names)
    path = tmp_path / "model.pickle"
    classifier.save(model, path)
    app.config["SUGGEST_MODEL_PATH"] = str(path)
    again = classifier.load()
    text = ("公交站点太远", "线路班次少，公交车很挤")
    assert again.predict(*text) == model.predict(*text)
    assert again.predict(*text)[0][0] == "交通运输"


def test_preview_and_desk_panel_name_the_suggestion_in_english(
    app, client, citizen, coordinator, make_message
):
    """In English the compose preview names the suggested topic in English, and the staff
    panel shows the suggested topic and the units that answered similar messages by their
    English names."""
    import re

    from conftest import login
    from test_intel_compose import WRITE, _form

    from board.intel import taxonomy

    taxonomy.load_taxonomy([("城乡建设", "物业管理", "物业服务"), ("交通运输",)])
    _install_tiny_model(app)
    make_message(
        "replied", title="小区物业乱收停车费", body="物业每月多收停车费两百元，业主多次反映。"
    )
    login(client, citizen)
    client.set_cookie("lang", "en")
    page = client.post(WRITE, data=_form(preview="x")).get_data(as_text=True)
    hint = re.search(r'id="compose-suggestion">(.*?)</p>', page, re.S).group(1)
    assert "Urban and rural development" in hint and "城乡建设" not in hint

    m = make_message(
        "received", title="物业又乱收停车费", body="物业还在多收停车费，业主多次反映无果。"
    )
    staff = app.test_client()
    login(staff, coordinator)
    staff.set_cookie("lang", "en")
    panel = staff.get(f"/m/{m.code}").get_data(as_text=True)
    panel = panel.split('id="intel-h"', 1)[1].split("</dl>", 1)[0]
    assert "Urban and rural development <span" in panel
    assert "Hangzhou" in panel and "住房和城乡建设局" not in panel
