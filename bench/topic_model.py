"""Compare topic-model variants with the protocol of `flask suggest evaluate` (docs/intelligence.md).

    .venv/bin/python bench/topic_model.py [--data ../shared/data] [variant …]

For each variant: macro-F1 on the held-out 20% of messages_labelled_tokens.csv (stratified,
seed 20200, trained on the other 80%), on the same 20% trained on the 80% less the near-twins
of held-out rows (deduplicated), and on the 495 real messages of the labelled sample
("unseen": trained on the token file less every row sharing more than half of its words with
one of them), plus the fit time. Choices are made on the deduplicated figure; the unseen one is
reported. Nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402

from board.intel import classifier  # noqa: E402
from board.intel.taxonomy import read_label_rows  # noqa: E402


def _unlabelled(folder: Path, stopwords, sample: classifier.Examples) -> list[str]:
    """Real messages without a first-level label (test set, replies and votes archives), as
    words, less the near-duplicates of the labelled sample (so it stays unseen)."""
    from openpyxl import load_workbook

    texts = []
    for name in (
        "messages_unlabelled_2801.xlsx",
        "messages_with_replies.xlsx",
        "messages_with_votes.xlsx",
    ):
        workbook = load_workbook(folder / name, read_only=True, data_only=True)
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(c or "").strip() for c in next(rows)]
        title, body = header.index("留言主题"), header.index("留言详情")
        for row in rows:
            if row and len(row) > body and row[title]:
                texts.append(classifier.words(f"{row[title]}\n{row[body] or ''}", stopwords))
        workbook.close()
    pool = classifier.Examples()
    for text in dict.fromkeys(texts):
        pool.add(text, "?")
    kept = classifier.without_near_duplicates(pool, sample, 0.5)
    return kept.texts


def _features(names, *, word_ngrams=(1, 2), char_ngrams=(1, 2), names_weight=None):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    union = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    token_pattern=r"\S+",  # noqa: S106
                    lowercase=False,
                    ngram_range=word_ngrams,
                    sublinear_tf=True,
                    min_df=2,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=char_ngrams, sublinear_tf=True, min_df=2
                ),
            ),
            (
                "names",
                classifier.TopicNames(names, weight=names_weight or classifier.NAMES_WEIGHT),
            ),
        ]
    )
    return union


class PrefitIdf:
    """A FeatureUnion fitted on the training texts plus unlabelled ones (vocabulary and IDF)."""

    def __init__(self, union, extra: list[str]):
        self.union, self.extra = union, extra

    def get_params(self, deep=True):
        return {"union": self.union, "extra": self.extra}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, texts, labels=None):
        self.union.fit(list(texts) + list(self.extra))
        return self

    def transform(self, texts):
        return self.union.transform(texts)

    def fit_transform(self, texts, labels=None):
        return self.fit(texts).transform(texts)


def _model(kind: str):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.svm import LinearSVC

    seed = classifier.SEED
    svc = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
    if kind == "svc":
        return CalibratedClassifierCV(svc, method="sigmoid", cv=3, ensemble=False)
    if kind == "svc_raw":
        return svc
    if kind == "scaled":
        return classifier.ScaledSVC(C=0.5)
    if kind.startswith("scaled_c"):
        return classifier.ScaledSVC(C=float(kind.removeprefix("scaled_c")))
    if kind == "sgd":
        sgd = SGDClassifier(
            loss="modified_huber",
            alpha=5e-5,
            class_weight="balanced",
            max_iter=50,
            random_state=seed,
        )
        return CalibratedClassifierCV(sgd, method="sigmoid", cv=3, ensemble=False)
    if kind == "vote":
        return VotingClassifier(
            [
                ("svc", CalibratedClassifierCV(svc, method="sigmoid", cv=3, ensemble=False)),
                (
                    "sgd",
                    CalibratedClassifierCV(
                        SGDClassifier(
                            loss="modified_huber",
                            alpha=5e-5,
                            class_weight="balanced",
                            max_iter=50,
                            random_state=seed,
                        ),
                        method="sigmoid",
                        cv=3,
                        ensemble=False,
                    ),
                ),
                (
                    "lr",
                    LogisticRegression(C=20, class_weight="balanced", max_iter=2000),
                ),
            ],
            voting="soft",
        )
    raise ValueError(kind)


class NBSVC(ClassifierMixin, BaseEstimator):
    """NBSVM (Wang & Manning, 2012): for each topic, the features scaled by the naive-Bayes
    log-count ratio of that topic against the rest (smoothing `alpha`), then a binary linear
    SVM (balanced); the best topic is the highest score. Tried for model 5 (docs/intelligence.md)."""

    def __init__(self, alpha: float = 0.1, C: float = 0.5):  # noqa: N803
        self.alpha, self.C = alpha, C

    def fit(self, features, labels):
        import numpy as np
        from scipy import sparse
        from sklearn.svm import LinearSVC

        features, labels = sparse.csr_matrix(features), np.asarray(labels)
        self.classes_ = np.unique(labels)
        self.ratios_, self.svms_ = [], []
        for topic in self.classes_:
            mine = labels == topic
            p = self.alpha + np.asarray(features[mine].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(features[~mine].sum(axis=0)).ravel()
            ratio = sparse.diags(np.log((p / p.sum()) / (q / q.sum())))
            svm = LinearSVC(C=self.C, class_weight="balanced", random_state=classifier.SEED)
            self.ratios_.append(ratio)
            self.svms_.append(svm.fit(features @ ratio, mine.astype(int)))
        return self

    def decision_function(self, features):
        import numpy as np
        from scipy import sparse

        features = sparse.csr_matrix(features)
        return np.column_stack(
            [
                svm.decision_function(features @ ratio)
                for ratio, svm in zip(self.ratios_, self.svms_, strict=True)
            ]
        )

    def predict(self, features):
        return self.classes_[self.decision_function(features).argmax(axis=1)]


def model4_nbsvm(names, alpha: float, C: float):  # noqa: N803
    """Model 4's features (classifier.build_pipeline) with NBSVC in place of its SVM."""
    from sklearn.pipeline import Pipeline

    def build():
        features = classifier.build_pipeline(names=names).steps[0][1]
        return Pipeline([("features", features), ("model", NBSVC(alpha, C))])

    return build


class Pruned(ClassifierMixin, BaseEstimator):
    """Label-noise pruning ("confident learning", Northcutt et al. 2021, in its simplest form):
    out-of-fold probabilities for every training row from `folds` fresh pipelines; a row whose
    best topic is not its label and whose own label gets less than `cut` is suspect; the final
    pipeline is trained with suspects at `weight` (0: removed). Tried for model 5."""

    def __init__(self, build=None, cut: float = 0.2, weight: float = 0.0, folds: int = 5):
        self.build, self.cut, self.weight, self.folds = build, cut, weight, folds

    def fit(self, texts, labels):
        import numpy as np
        from sklearn.model_selection import StratifiedKFold

        texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
        self.classes_, codes = np.unique(labels, return_inverse=True)
        folds = StratifiedKFold(n_splits=self.folds, shuffle=True, random_state=classifier.SEED)
        oof = np.zeros((len(labels), len(self.classes_)))
        for train, test in folds.split(texts, labels):
            oof[test] = (
                self.build().fit(list(texts[train]), labels[train]).predict_proba(list(texts[test]))
            )
        own = oof[np.arange(len(labels)), codes]
        suspect = (oof.argmax(axis=1) != codes) & (own < self.cut)
        self.suspects_ = int(suspect.sum())
        print(f"  pruning: {self.suspects_} of {len(labels)} rows suspect", flush=True)
        self.pipeline_ = self.build()
        if self.weight == 0:
            self.pipeline_.fit(list(texts[~suspect]), labels[~suspect])
        else:
            weights = np.where(suspect, self.weight, 1.0)
            self.pipeline_.fit(list(texts), labels, model__sample_weight=weights)
        return self

    def predict(self, texts):
        return self.pipeline_.predict(texts)


class KnnBlend(ClassifierMixin, BaseEstimator):
    """Model 4's probabilities blended with a k-nearest-neighbour vote over its own features
    (cosine; each of the `k` nearest training rows votes for its label with its similarity):
    (1 − `share`) · SVM + `share` · neighbours. Tried for model 5."""

    def __init__(self, build=None, k: int = 10, share: float = 0.3):
        self.build, self.k, self.share = build, k, share

    def fit(self, texts, labels):
        import numpy as np
        from sklearn.preprocessing import normalize

        self.pipeline_ = self.build().fit(list(texts), labels)
        self.classes_ = self.pipeline_.classes_
        self.codes_ = np.searchsorted(self.classes_, np.asarray(labels))
        self.rows_ = normalize(self.pipeline_.named_steps["features"].transform(list(texts)))
        return self

    def predict(self, texts):
        import numpy as np
        from sklearn.preprocessing import normalize

        texts = list(texts)
        svm = self.pipeline_.predict_proba(texts)
        rows = normalize(self.pipeline_.named_steps["features"].transform(texts))
        similar = (rows @ self.rows_.T).toarray()
        nearest = np.argpartition(-similar, self.k, axis=1)[:, : self.k]
        votes = np.zeros_like(svm)
        for i, row in enumerate(nearest):
            np.add.at(votes[i], self.codes_[row], similar[i, row])
        votes /= np.maximum(votes.sum(axis=1, keepdims=True), 1e-9)
        return self.classes_[((1 - self.share) * svm + self.share * votes).argmax(axis=1)]


def variants(names, unlabelled):
    """name → a function making a fresh pipeline."""
    from sklearn.pipeline import Pipeline

    def make(model="svc", idf=False, **feat):
        def build():
            union = _features(names, **feat)
            features = PrefitIdf(union, unlabelled) if idf else union
            return Pipeline([("features", features), ("model", _model(model))])

        return build

    return {
        "model2": make(),  # the sigmoid-calibrated SVM of model 2 (docs/intelligence.md)
        "scaled": make("scaled"),
        "scaled_idf": make("scaled", idf=True),
        "scaled_c0.3": make("scaled_c0.3"),
        "scaled_c1.0": make("scaled_c1.0"),
        "scaled_chars13": make("scaled", char_ngrams=(1, 3)),
        "scaled_names2": make("scaled", names_weight=2.0),
        "scaled_words13": make("scaled", word_ngrams=(1, 3)),
        "svc_raw": make("svc_raw"),
        "sgd": make("sgd"),
        "vote": make("vote"),
        "idf_unlabelled": make(idf=True),
        "idf_unlabelled_raw": make("svc_raw", idf=True),
        "chars13_idf": make(idf=True, char_ngrams=(1, 3)),
        "vote_idf": make("vote", idf=True),
        "model4": lambda: classifier.build_pipeline(names=names),
        **{
            f"model4_nbsvm_a{alpha}_c{C}": model4_nbsvm(names, alpha, C)
            for alpha in (0.01, 0.03, 0.1, 1.0)
            for C in (0.3, 0.5, 1.0)
        },
        **{
            f"model4_pruned_p{cut}_w{weight}": (
                lambda cut=cut, weight=weight: Pruned(
                    lambda: classifier.build_pipeline(names=names), cut, weight
                )
            )
            for cut in (0.1, 0.2, 0.3, 0.5)
            for weight in (0.0, 0.3)
        },
        **{
            f"model4_knn{k}_s{share}": (
                lambda k=k, share=share: KnnBlend(
                    lambda: classifier.build_pipeline(names=names), k, share
                )
            )
            for k in (5, 10, 20)
            for share in (0.2, 0.4)
        },
    }


class TopicData(NamedTuple):
    """The labelled data every topic-model bench reads: the tipdm2020c folder, its stopwords,
    the token file, the topic-tree names and the labelled sample (the unseen messages)."""

    folder: Path
    stopwords: frozenset[str]
    tokens: classifier.Examples
    names: dict[str, list[str]]
    sample: classifier.Examples


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every topic-model bench takes: the data folder and the variants to run."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("variant", nargs="*")
    return parser


def read_data(data: Path) -> TopicData:
    """The labelled data under `data` (the shared data folder)."""
    folder = data / "tipdm2020c"
    stopwords = classifier.read_stopwords(folder / "stopwords_zh.txt")
    return TopicData(
        folder,
        stopwords,
        classifier.read_token_csv(folder / "messages_labelled_tokens.csv"),
        classifier.topic_names(read_label_rows(folder / "labels.xlsx")),
        classifier.read_labelled_xlsx(folder / "messages_labelled_sample.xlsx", stopwords),
    )


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    folder, stopwords, tokens, names, sample = read_data(args.data)
    unseen_train = classifier.without_near_duplicates(tokens, sample, 0.5)
    train_set, dedup_set, test_set = classifier.deduplicated_split(tokens)
    wanted = args.variant or ["all"]
    unlabelled: list[str] = []
    if any("idf" in name for name in wanted) or wanted == ["all"]:
        started = time.perf_counter()
        unlabelled = _unlabelled(folder, stopwords, sample)
        took = time.perf_counter() - started
        print(f"unlabelled pool: {len(unlabelled)} ({took:.0f} s)", flush=True)
    table = variants(names, unlabelled)
    for name in args.variant or list(table):
        row = [name]
        for fit_on, test_on in (
            (train_set, test_set),
            (dedup_set, test_set),
            (unseen_train, sample),
        ):
            pipeline = table[name]()
            cpu = time.process_time()
            pipeline.fit(fit_on.texts, fit_on.labels)
            fit_cpu = time.process_time() - cpu
            f1, _per_label = classifier.macro_f1(pipeline, test_on)
            row += [f"{f1:.4f}", f"{fit_cpu:.1f}s"]
        print("\t".join(row), flush=True)


if __name__ == "__main__":
    main()
