"""The first-level topic classifier: jieba words → TF-IDF (word and character n-grams) → a
linear SVM with softmax-scaled scores, trained by `flask suggest train` and kept in `instance/`."""

from __future__ import annotations

import csv
import os
import pickle
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from .. import PROJECT_ROOT, chinese

MODEL_FILE = "topic_model.pickle"
MODEL_VERSION = 5  # 2: tree names, balanced class weights; 3: softmax-scaled SVM; 4: head words;
# 5: traditional characters read as simplified (board/chinese.py)
SEED = 20200
NAMES_WEIGHT = 1.0  # chosen on the held-out split (0.3: 0.9308, 1.0: 0.9310)
# The first words of title + body as features of their own (`HeadWords`), chosen on the
# deduplicated held-out split (docs/intelligence.md).
HEAD_WORDS = 12
HEAD_WEIGHT = 0.5
# Topics of the training data mapped to the platform's domains (DESIGN §3.1).
DOMAIN_OF_TOPIC = {
    "城乡建设": "urban",
    "环境保护": "environment",
    "交通运输": "transport",
    "教育文体": "education",
    "劳动和社会保障": "employment",
    "商贸旅游": "business",
    "卫生计生": "health",
    "农村农业": "rural",
    "政法": "security",
    "党务政务": "government",
    "国土资源": "urban",
    "经济管理": "business",
    "科技与信息产业": "business",
    "民政": "government",
    "纪检监察": "government",
}


def data_dir() -> Path:
    """Where the real archives are: BOARD_SHARED_DATA, else ../shared/data beside the project."""
    configured = current_app.config.get("SHARED_DATA") or os.environ.get("BOARD_SHARED_DATA")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "data"


# ---------------------------------------------------------------------------------------------
# Words


_tokenizer = None
_tokenizer_lock = threading.Lock()


def _jieba():
    """A jieba tokenizer of its own: the search's user dictionary must not change our words."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                from board.search.analysis import initialize

                tokenizer = jieba.Tokenizer()
                initialize(tokenizer)
                _tokenizer = tokenizer
    return _tokenizer


def words(text: str, stopwords: frozenset[str]) -> str:
    """The text as the training data has it: jieba words without stopwords, space-separated
    (spreadsheets' escaped carriage returns, `_x000D_`, are line ends, as in the token file);
    traditional characters are read as simplified, in the token file too."""
    text = chinese.simplified((text or "").replace("_x000D_", "\n"))
    return " ".join(
        word for word in (w.strip() for w in _jieba().lcut(text)) if word and word not in stopwords
    )


def read_stopwords(path: Path) -> frozenset[str]:
    """One stopword a line."""
    with path.open(encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


# ---------------------------------------------------------------------------------------------
# Training data


@dataclass
class Examples:
    """Training or evaluation texts (as space-separated words) and their first-level labels."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, text: str, label: str) -> None:
        """One example."""
        if text.strip() and label:
            self.texts.append(text)
            self.labels.append(label)

    def extend(self, other: Examples) -> None:
        """Append another set."""
        self.texts += other.texts
        self.labels += other.labels

    def __len__(self) -> int:
        return len(self.texts)


def read_token_csv(path: Path) -> Examples:
    """messages_labelled_tokens.csv: `tokens` (already words), `label`; repeated rows once."""
    examples, seen = Examples(), set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            tokens = chinese.simplified(" ".join((row.get("tokens") or "").split()))
            if tokens in seen:
                continue
            seen.add(tokens)
            examples.add(tokens, (row.get("label") or "").strip())
    return examples


def read_labelled_xlsx(path: Path, stopwords: frozenset[str]) -> Examples:
    """Real messages with a 一级分类 column (the labelled sample), as words."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = [str(c or "").strip() for c in next(rows)]
    title, body, label = (header.index(n) for n in ("留言主题", "留言详情", "一级分类"))
    examples = Examples()
    for row in rows:
        if row is None or len(row) <= label or not row[label]:
            continue
        text = f"{row[title] or ''}\n{str(row[body] or '').strip()}"
        examples.add(words(text, stopwords), str(row[label]).strip())
    workbook.close()
    return examples


# ---------------------------------------------------------------------------------------------
# The model


class TopicNames:
    """Features from the topic tree: for each first-level topic, how many names of its second-
    and third-level topics (labels.xlsx: 物业管理, 公积金, 噪音扰民…) the text mentions, as
    log(1 + n) × `weight`. It carries the tree's knowledge into the model for words the
    training messages seldom use."""

    def __init__(self, names: dict[str, list[str]] | None = None, weight: float = 1.0):
        self.names = names or {}
        self.weight = weight

    def get_params(self, deep: bool = True) -> dict:
        """scikit-learn's estimator protocol."""
        return {"names": self.names, "weight": self.weight}

    def set_params(self, **params) -> TopicNames:
        """scikit-learn's estimator protocol."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, texts, labels=None) -> TopicNames:
        """Learns nothing: the columns are the first-level topics of the tree, sorted."""
        self.roots_ = sorted({root for roots in self.names.values() for root in roots})
        return self

    def transform(self, texts):
        """One row per text (words joined without spaces, as the names are written)."""
        import numpy as np
        from scipy import sparse

        column = {root: n for n, root in enumerate(self.roots_)}
        counts = np.zeros((len(texts), max(len(self.roots_), 1)))
        for row, text in enumerate(texts):
            joined = text.replace(" ", "")
            for name, roots in self.names.items():
                if name in joined:
                    for root in roots:
                        counts[row, column[root]] += 1
        return sparse.csr_matrix(np.log1p(counts) * self.weight)

    def get_feature_names_out(self, input_features=None):
        """The first-level topics."""
        import numpy as np

        return np.asarray(self.roots_, dtype=object)


class HeadWords:
    """The first `size` words of each text: the title comes first in title + body, and says
    what the message is about more plainly than the body (a stateless step before TF-IDF)."""

    def __init__(self, size: int = 10):
        self.size = size

    def get_params(self, deep: bool = True) -> dict:
        """scikit-learn's estimator protocol."""
        return {"size": self.size}

    def set_params(self, **params) -> HeadWords:
        """scikit-learn's estimator protocol."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(self, texts, labels=None) -> HeadWords:
        """Learns nothing."""
        return self

    def transform(self, texts) -> list[str]:
        """The first words of each text."""
        return [" ".join(text.split()[: self.size]) for text in texts]

    def fit_transform(self, texts, labels=None) -> list[str]:
        """`transform`."""
        return self.transform(texts)


class ScaledSVC:
    """A linear SVM whose scores become probabilities by a softmax with one temperature.

    The temperature is fitted (least log-loss) on scores of held-out folds; the SVM itself is
    trained once on all the data. Unlike per-class sigmoid calibration, the softmax keeps the
    SVM's own ranking, so the best topic is the SVM's best (on the unseen messages, per-class
    sigmoids cost 0.007 of macro-F1 by reordering close calls)."""

    def __init__(
        self,
        C: float = 0.5,  # noqa: N803
        folds: int = 3,
        seed: int = SEED,
        class_weight: str | dict | None = "balanced",
        offsets: bool = False,
    ):
        self.C = C
        self.folds = folds
        self.seed = seed
        self.class_weight = class_weight
        self.offsets = offsets

    def get_params(self, deep: bool = True) -> dict:
        """scikit-learn's estimator protocol."""
        return {
            "C": self.C,
            "folds": self.folds,
            "seed": self.seed,
            "class_weight": self.class_weight,
            "offsets": self.offsets,
        }

    def set_params(self, **params) -> ScaledSVC:
        """scikit-learn's estimator protocol."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags: those of the SVM (a classifier of sparse rows).
        Not a BaseEstimator subclass, so that importing this module stays free of sklearn."""
        return self._svc().__sklearn_tags__()

    def _svc(self, classes=None):
        """The SVM; a class-weight table is keyed by topic, the SVM learns topic numbers."""
        from sklearn.svm import LinearSVC

        weights = self.class_weight
        if isinstance(weights, dict) and classes is not None:
            weights = {n: weights.get(label, 1.0) for n, label in enumerate(classes)}
        return LinearSVC(C=self.C, class_weight=weights, random_state=self.seed)

    def fit(self, features, labels, sample_weight=None) -> ScaledSVC:
        """Held-out scores for the temperature (and the offsets), then the SVM on everything.
        `sample_weight`: a weight per row (weakly labelled rows count less)."""
        import numpy as np
        from scipy.optimize import minimize_scalar
        from sklearn.base import clone
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        self.classes_, truth = np.unique(np.asarray(labels), return_inverse=True)
        folds = StratifiedKFold(n_splits=self.folds, shuffle=True, random_state=self.seed)
        params = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)}
        svc = self._svc(self.classes_)
        scores = cross_val_predict(
            svc, features, truth, cv=folds, method="decision_function", params=params
        )
        self.svc_ = clone(svc).fit(features, truth, **params)
        self.offsets_ = np.zeros(len(self.classes_))
        if self.offsets:
            self.offsets_ = best_offsets(scores, truth, len(self.classes_))
        scores = scores + self.offsets_

        def loss(temperature: float) -> float:
            logits = scores * temperature
            logits -= logits.max(axis=1, keepdims=True)
            log_sum = np.log(np.exp(logits).sum(axis=1))
            return float(np.mean(log_sum - logits[np.arange(len(truth)), truth]))

        self.temperature_ = float(minimize_scalar(loss, bounds=(0.1, 50), method="bounded").x)
        return self

    def decision_function(self, features):
        """The SVM's scores (plus the per-topic offsets, zero unless fitted)."""
        return self.svc_.decision_function(features) + getattr(self, "offsets_", 0.0)

    def predict_proba(self, features):
        """Softmax of the scores at the fitted temperature (rows sum to one)."""
        import numpy as np

        logits = self.decision_function(features) * self.temperature_
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)

    def predict(self, features):
        """The best-scoring topic of each row."""
        return self.classes_[self.decision_function(features).argmax(axis=1)]


def macro_f1_of_codes(truth, predicted, classes: int) -> float:
    """Macro-F1 of integer labels (numpy arrays), quickly: for choosing offsets."""
    import numpy as np

    hit = np.bincount(truth[truth == predicted], minlength=classes)
    true = np.bincount(truth, minlength=classes)
    said = np.bincount(predicted, minlength=classes)
    return float(np.mean(2 * hit / np.maximum(true + said, 1)))


def best_offsets(scores, truth, classes: int, rounds: int = 3):
    """Per-topic additions to the SVM's scores that maximise macro-F1 on held-out-fold scores
    (coordinate ascent over a grid; the smallest offset wins a tie, so no data, no change)."""
    import numpy as np

    offsets = np.zeros(classes)
    grid = sorted(np.round(np.linspace(-0.5, 0.5, 41), 4), key=abs)
    best = macro_f1_of_codes(truth, scores.argmax(axis=1), classes)
    for _ in range(rounds):
        changed = False
        for k in range(classes):
            for value in grid:
                trial = offsets.copy()
                trial[k] = value
                f1 = macro_f1_of_codes(truth, (scores + trial).argmax(axis=1), classes)
                if f1 > best + 1e-9:
                    best, offsets, changed = f1, trial, True
        if not changed:
            break
    return offsets


def topic_names(rows: Iterable[Sequence[str]]) -> dict[str, list[str]]:
    """{second- or third-level name: [its first-level topics]} from rows of the topic table
    (一级, 二级, 三级); names of one character say too little and are left out."""
    names: dict[str, set[str]] = {}
    for row in rows:
        cells = [str(c or "").strip() for c in row]
        if not cells or not cells[0]:
            continue
        for name in cells[1:]:
            if len(name) >= 2:
                names.setdefault(name, set()).add(cells[0])
    return {name: sorted(roots) for name, roots in sorted(names.items())}


def build_pipeline(*, small: bool = False, names: dict[str, list[str]] | None = None):
    """TF-IDF over words (1–2-grams) and characters (1–2-grams), the topic tree's names
    (`TopicNames`), TF-IDF of the first words (`HeadWords`: mostly the title) at a lower
    weight, then a linear SVM with balanced class weights whose scores a softmax
    turns into probabilities (`ScaledSVC`)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline

    min_df = 1 if small else 2
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    token_pattern=r"\S+",  # noqa: S106 (words are space-separated)
                    lowercase=False,
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=min_df,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True, min_df=min_df
                ),
            ),
            ("names", TopicNames(names, weight=NAMES_WEIGHT)),
            (
                "head",
                Pipeline(
                    [
                        ("cut", HeadWords(HEAD_WORDS)),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                token_pattern=r"\S+",  # noqa: S106
                                lowercase=False,
                                sublinear_tf=True,
                                min_df=min_df,
                            ),
                        ),
                    ]
                ),
            ),
        ],
        transformer_weights={"head": HEAD_WEIGHT},
    )
    classifier = ScaledSVC(C=0.5, folds=2 if small else 3)  # one SVM, softmax-scaled scores
    return Pipeline([("features", features), ("model", classifier)])


@dataclass
class TopicModel:
    """A trained pipeline with what inference needs to turn raw text into its words."""

    pipeline: object
    stopwords: frozenset[str]
    labels: list[str]
    trained_on: dict[str, int]
    version: int = MODEL_VERSION
    fingerprint: str = ""  # of the data files and the model's version (`data_fingerprint`)

    def predict(self, title: str, body: str) -> list[tuple[str, float]]:
        """(label, calibrated probability), best first."""
        text = words(f"{title or ''}\n{body or ''}", self.stopwords)
        if not text:
            return []
        probabilities = self.pipeline.predict_proba([text])[0]
        classes = self.pipeline.classes_
        ranked = sorted(zip(classes, probabilities, strict=True), key=lambda p: -p[1])
        return [(str(label), float(score)) for label, score in ranked]


TRAINING_FILES = (
    "messages_labelled_tokens.csv",
    "messages_labelled_sample.xlsx",
    "stopwords_zh.txt",
    "labels.xlsx",
)


def data_fingerprint(folder: Path) -> str:
    """What a model trained now would be made of: the model's version and the name, size and
    modification time of each training file found in `folder` (tipdm2020c)."""
    import hashlib

    parts = [f"v{MODEL_VERSION}"]
    for name in TRAINING_FILES:
        path = folder / name
        if path.exists():
            stat = path.stat()
            parts.append(f"{name}:{stat.st_size}:{int(stat.st_mtime)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def train(
    examples: Examples,
    stopwords: frozenset[str],
    *,
    sources: dict[str, int] | None = None,
    small: bool = False,
    names: dict[str, list[str]] | None = None,
) -> TopicModel:
    """Fit the pipeline on the examples (`names`: the topic tree's, see `topic_names`)."""
    pipeline = build_pipeline(small=small, names=names)
    pipeline.fit(examples.texts, examples.labels)
    return TopicModel(
        pipeline=pipeline,
        stopwords=stopwords,
        labels=sorted(set(examples.labels)),
        trained_on=dict(sources or {"examples": len(examples)}),
    )


def macro_f1(model_pipeline, examples: Examples) -> tuple[float, dict[str, float]]:
    """Macro-F1 of a fitted pipeline on examples, and the F1 of each label."""
    from sklearn.metrics import f1_score

    predicted = model_pipeline.predict(examples.texts)
    labels = sorted(set(examples.labels))
    per_label = f1_score(examples.labels, predicted, labels=labels, average=None)
    return float(f1_score(examples.labels, predicted, average="macro")), dict(
        zip(labels, map(float, per_label), strict=True)
    )


def stratified_split(
    examples: Examples, test_share: float = 0.2, seed: int = SEED
) -> tuple[Examples, Examples]:
    """A seeded stratified split: the same share of every label held out."""
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(examples.labels):
        by_label.setdefault(label, []).append(i)
    rng = random.Random(seed)
    train_set, test_set = Examples(), Examples()
    for label in sorted(by_label):
        indexes = by_label[label]
        rng.shuffle(indexes)
        cut = round(len(indexes) * test_share)
        for n, i in enumerate(indexes):
            (test_set if n < cut else train_set).add(examples.texts[i], label)
    return train_set, test_set


def deduplicated_split(
    examples: Examples, threshold: float = 0.5, test_share: float = 0.2, seed: int = SEED
) -> tuple[Examples, Examples, Examples]:
    """The held-out split (`stratified_split`) as (train, deduplicated train, test): the
    deduplicated train is the train side less every row sharing more than `threshold` of its
    words with a held-out row (`without_near_duplicates`), so that the held-out figure measures
    skill rather than memory of near-twins. Seeded, hence the same rows on every run."""
    train_set, test_set = stratified_split(examples, test_share, seed)
    return train_set, without_near_duplicates(train_set, test_set, threshold), test_set


def timed_inference(model: TopicModel, samples: Sequence[tuple[str, str]]) -> tuple[float, float]:
    """Mean milliseconds per message of `model.predict` (words included) over the samples: wall
    clock, and CPU time of this process (what the message costs on a machine shared with
    other work)."""
    model.predict(*samples[0])  # jieba's dictionary is loaded once per process
    started, cpu = time.perf_counter(), time.process_time()
    for title, body in samples:
        model.predict(title, body)
    wall = (time.perf_counter() - started) * 1000 / len(samples)
    return wall, (time.process_time() - cpu) * 1000 / len(samples)


# ---------------------------------------------------------------------------------------------
# The model file


_cache: dict[str, tuple[float, TopicModel]] = {}


def model_path() -> Path:
    """instance/topic_model.pickle (or SUGGEST_MODEL_PATH)."""
    configured = current_app.config.get("SUGGEST_MODEL_PATH")
    return Path(configured) if configured else Path(current_app.instance_path) / MODEL_FILE


def save(model: TopicModel, path: Path) -> None:
    """Write the model file atomically (a running app never reads half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)


def load() -> TopicModel | None:
    """The trained model, or None when `flask suggest train` has not run; reloaded when the file
    changes. The file is written by this app in its own instance folder (never uploaded)."""
    path = model_path()
    try:
        stamp = path.stat().st_mtime
    except FileNotFoundError:
        return None
    cached = _cache.get(str(path))
    if cached is None or cached[0] != stamp:
        with path.open("rb") as handle:
            model = pickle.load(handle)  # noqa: S301 (our own file, see the docstring)
        if getattr(model, "version", None) != MODEL_VERSION:
            return None
        _cache[str(path)] = (stamp, model)
        return model
    return cached[1]


def gather(
    sources: Iterable[tuple[str, Callable[[], Examples]]], progress: Callable[[str], None]
) -> tuple[Examples, dict[str, int]]:
    """Read every source in turn, saying how many examples each gave."""
    examples, counts = Examples(), {}
    for name, read in sources:
        found = read()
        counts[name] = len(found)
        progress(f"{name}: {len(found)}")
        examples.extend(found)
    return examples, counts


def word_overlap(texts: Sequence[str], others: Sequence[str]):
    """Jaccard overlap of the word sets of each of `texts` with each of `others`, as a sparse
    (len(texts) × len(others)) COO matrix holding only the pairs that share a word."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(token_pattern=r"\S+", lowercase=False, binary=True)  # noqa: S106
    vectorizer.fit(list(texts) + list(others))
    mine, theirs = vectorizer.transform(texts), vectorizer.transform(others)
    shared = (mine @ theirs.T).tocoo()
    sizes_mine = np.asarray(mine.sum(axis=1)).ravel()
    sizes_theirs = np.asarray(theirs.sum(axis=1)).ravel()
    union = sizes_mine[shared.row] + sizes_theirs[shared.col] - shared.data
    jaccard = shared.data / np.maximum(union, 1)
    return coo_matrix((jaccard, (shared.row, shared.col)), shape=shared.shape)


def without_near_duplicates(examples: Examples, others: Examples, threshold: float) -> Examples:
    """`examples` less every row whose words overlap one of `others` by more than `threshold`
    (Jaccard), so that `others` are truly unseen by a model trained on the rest."""
    overlap = word_overlap(examples.texts, others.texts)
    near = set(overlap.row[overlap.data > threshold].tolist())
    kept = Examples()
    for n, (text, label) in enumerate(zip(examples.texts, examples.labels, strict=True)):
        if n not in near:
            kept.add(text, label)
    return kept
