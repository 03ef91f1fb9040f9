"""Parts of the topic model (board/intel/classifier.py) on data built here: the title's first
words as features, sample and class weights of the SVM, per-topic score offsets, and words of
spreadsheet text."""

from __future__ import annotations

import numpy as np
import pytest

from board.intel import classifier
from board.intel.classifier import Examples

TOPICS = {
    "城乡建设": ["物业", "小区", "电梯", "业主", "拆迁"],
    "交通运输": ["公交", "站点", "班次", "地铁", "线路"],
    "卫生计生": ["医院", "医生", "挂号", "疫苗", "护士"],
}
FILLER = ["反映", "问题", "市民", "情况", "请求", "解决", "领导", "您好"]


def examples(per_topic: int = 10) -> Examples:
    """Word lists whose first word names the topic and whose tail is filler, the same each run."""
    found = Examples()
    for label, words in TOPICS.items():
        for i in range(per_topic):
            head = [words[i % len(words)], words[(i + 1) % len(words)]]
            found.add(" ".join(head + FILLER[i % 4 : i % 4 + 4]), label)
    return found


def test_head_words_keeps_the_first_words_and_learns_nothing():
    """The first `size` words of each text, whatever the fit saw."""
    head = classifier.HeadWords(2).fit(["甲 乙 丙"])
    assert head.transform(["物业 乱 收费 小区", "公交", ""]) == ["物业 乱", "公交", ""]
    assert head.fit_transform(["a b c"]) == ["a b"]
    assert head.get_params() == {"size": 2}
    assert head.set_params(size=1).transform(["a b"]) == ["a"]


def test_the_pipeline_weights_the_head_of_the_text():
    """The full pipeline has a `head` part at HEAD_WEIGHT, over the first HEAD_WORDS words."""
    pipeline = classifier.build_pipeline(small=True)
    features = pipeline.named_steps["features"]
    parts = dict(features.transformer_list)
    assert parts["head"].named_steps["cut"].size == classifier.HEAD_WORDS
    assert features.transformer_weights == {"head": classifier.HEAD_WEIGHT}
    data = Examples()
    for label, words in TOPICS.items():  # the topic's words first, then words of the tail
        for i in range(4):
            head = [words[(i + k) % len(words)] for k in range(classifier.HEAD_WORDS)]
            data.add(" ".join(head + [f"尾{label}{i}", "尾巴"]), label)
    pipeline.fit(data.texts, data.labels)
    vocabulary = set(parts["head"].named_steps["tfidf"].vocabulary_)
    assert vocabulary == {w for words in TOPICS.values() for w in words}
    assert "尾巴" in parts["words"].vocabulary_ and "尾巴" not in vocabulary


def test_sample_weights_and_a_class_weight_table_change_the_svm():
    """Rows of weight zero teach nothing; a topic-keyed weight table is accepted (the SVM learns
    topic numbers inside), and the predictions are the topics, not numbers."""
    data = examples()
    noise = Examples()
    for text in data.texts[:10]:  # 城乡建设's texts, mislabelled
        noise.add(text, "交通运输")
    texts, labels = data.texts + noise.texts, data.labels + noise.labels
    features = classifier.build_pipeline(small=True).named_steps["features"]
    matrix = features.fit_transform(texts)
    clean = classifier.ScaledSVC(folds=2).fit(matrix[: len(data)], data.labels)
    weighted = classifier.ScaledSVC(folds=2).fit(
        matrix, labels, sample_weight=[1.0] * len(data) + [0.0] * len(noise)
    )
    assert np.allclose(clean.decision_function(matrix), weighted.decision_function(matrix))
    unweighted = classifier.ScaledSVC(folds=2).fit(matrix, labels)
    assert not np.allclose(clean.decision_function(matrix), unweighted.decision_function(matrix))
    table = {"城乡建设": 1.0, "交通运输": 0.5, "卫生计生": 2.0}
    tabled = classifier.ScaledSVC(folds=2, class_weight=table).fit(matrix, labels)
    assert set(tabled.predict(matrix)) <= set(TOPICS)
    assert tabled.get_params()["class_weight"] == table
    assert abs(tabled.predict_proba(matrix).sum(axis=1) - 1).max() < 1e-9


def test_offsets_raise_the_macro_f1_of_the_scores_they_are_fitted_on():
    """Scores that under-rate one topic: the offsets lift it and macro-F1 grows; scores that
    are already right get no offsets."""
    rng = np.random.default_rng(0)
    truth = np.repeat(np.arange(3), 40)
    scores = rng.normal(0, 0.2, (120, 3))
    scores[np.arange(120), truth] += 0.5
    scores[:, 2] -= 0.45  # topic 2 is under-rated
    before = classifier.macro_f1_of_codes(truth, scores.argmax(axis=1), 3)
    offsets = classifier.best_offsets(scores, truth, 3)
    after = classifier.macro_f1_of_codes(truth, (scores + offsets).argmax(axis=1), 3)
    assert after > before + 0.05
    assert offsets[2] - offsets[:2].min() > 0.2
    perfect = np.eye(3)[truth]
    assert classifier.best_offsets(perfect, truth, 3).tolist() == [0.0, 0.0, 0.0]


def test_macro_f1_of_codes_matches_scikit_learn():
    """The quick macro-F1 used for the offsets is scikit-learn's."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    truth, said = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    assert classifier.macro_f1_of_codes(truth, said, 4) == pytest.approx(
        f1_score(truth, said, average="macro")
    )


def test_spreadsheet_carriage_returns_are_not_words():
    """`_x000D_` (an escaped carriage return in xlsx text) splits lines and leaves no word."""
    text = classifier.words("小区物业_x000D_乱收费", frozenset())
    assert "x000D" not in text and "_" not in text
    assert text.split()[0] == "小区"


def test_traditional_characters_give_the_words_of_simplified_ones(tmp_path):
    """A message in traditional characters reaches the model as the same words as its simplified
    twin, and the token file's traditional rows are read as simplified too."""
    stop = frozenset({"的"})
    assert classifier.words("小區的噪音擾民問題", stop) == classifier.words(
        "小区的噪音扰民问题", stop
    )
    path = tmp_path / "tokens.csv"
    path.write_text("tokens,label\n小區 物業 亂收費,城乡建设\n小区 物业 乱收费,城乡建设\n", "utf-8")
    examples = classifier.read_token_csv(path)
    assert examples.texts == ["小区 物业 乱收费"]  # one row: the second repeats the first
