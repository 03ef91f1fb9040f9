"""Locally trained representations for the topic model, measured with the protocol of
`bench/topic_model.py` plus a deduplicated held-out figure (docs/intelligence.md).

    .venv/bin/python bench/topic_embed.py [--data ../shared/data] [variant …]

Three figures for each variant, macro-F1 over the seven first-level topics:

- held-out: the stratified 20% of messages_labelled_tokens.csv (seed 20200), trained on the
  other 80%;
- held-out-dedup: the same 20%, trained on the 80% less every row sharing more than half of its
  words with a held-out row (the figure choices are made on);
- unseen: the 495 real messages of the labelled sample, trained on the token file less their
  near-duplicates (reported, never used for choices);

and the fit CPU seconds of each training (word vectors included). Every unlabelled text (the
2,801 test set, the replies and votes archives with the units' replies, the Zhejiang snapshot)
is cut by jieba once and cached in /tmp; for each figure, the texts near-duplicating its test
set (more than half of their words shared) are removed before anything is learnt from them.
Nothing is written in the repository.

Measured 2026-12-06 (load average 4–12 on 2 cores shared with other jobs; fit CPU is of one
training, word vectors and k-means included; word vectors: Word2Vec CBOW, 100 dimensions, 5
epochs, ~19,700 texts / 2.8 million words, 23–32 s CPU; "—" not run, for lack of time once the
other figures had ruled the variant out):

| variant | held-out | held-out-dedup | unseen | fit CPU |
|---|---|---|---|---|
| current (model 3) | 0.9310 | 0.9283 | 0.8762 | 11–14 s |
| word clusters k=500, weight 1.0 | 0.9159 | — | — | 133 s |
| word clusters k=200, weight 0.2 | — | 0.9283 | — | 76 s |
| word clusters k=500, weight 0.2 | 0.9306 | 0.9298 | 0.8748 | 64–95 s |
| word clusters k=1000, weight 0.2 | — | 0.9278 | — | 122 s |
| TF-IDF-weighted mean word vector, weight 0.6 | 0.9245 | 0.9269 | 0.8683 | 47–54 s |
| TF-IDF-weighted mean word vector, weight 0.3 | 0.9272 | 0.9270 | 0.8705 | 46–55 s |
| LSA (200 components of word 1–2-gram TF-IDF), weight 0.5 | 0.9303 | 0.9290 | 0.8731 | 86–98 s |
| LSA, 200 components, weight 1.0 | — | 0.9172 | — | 84 s |
| fastText supervised (word 2-grams, 25 epochs) | 0.8697 | 0.8652 | 0.7972 | 10–14 s |
| fastText + model 3, probabilities averaged 0.5 / 0.5 | 0.9042 | — | — | 25 s |
| fastText + model 3, 0.15 / 0.85 | 0.9258 | 0.9238 | — | 22 s |
"""

from __future__ import annotations

import hashlib
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.topic_model import _features, bench_parser, read_data  # noqa: E402
from board.intel import classifier  # noqa: E402

SKIPGRAM = 0  # CBOW: skip-gram is 3–4 times slower to train for the same epochs
CACHE = Path(tempfile.gettempdir()) / "f1repr_unlabelled_words.pickle"


# ---------------------------------------------------------------------------------------------
# Unlabelled text


def _xlsx_texts(path: Path, columns: tuple[str, ...]) -> list[str]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = [str(c or "").strip() for c in next(rows)]
    indexes = [header.index(c) for c in columns]
    texts = []
    for row in rows:
        if row and len(row) > max(indexes):
            text = "\n".join(str(row[i] or "").strip() for i in indexes)
            if text.strip():
                texts.append(text)
    workbook.close()
    return texts


def unlabelled_words(folder: Path, zhejiang: Path, stopwords) -> dict[str, list[str]]:
    """{source: [texts as words]}, cached (jieba over ~20,000 texts takes a minute or two)."""
    if CACHE.exists():
        with CACHE.open("rb") as handle:
            return pickle.load(handle)  # noqa: S301 (our own cache file)
    raw: dict[str, list[str]] = {
        "unlabelled": _xlsx_texts(
            folder / "messages_unlabelled_2801.xlsx", ("留言主题", "留言详情")
        ),
        "replies_messages": _xlsx_texts(
            folder / "messages_with_replies.xlsx", ("留言主题", "留言详情")
        ),
        "replies": _xlsx_texts(folder / "messages_with_replies.xlsx", ("答复意见",)),
        "votes": _xlsx_texts(folder / "messages_with_votes.xlsx", ("留言主题", "留言详情")),
    }
    snapshot = json.loads(zhejiang.read_text(encoding="utf-8"))
    seen, messages, answers = set(), [], []
    for key in ("recent", "pending", "low"):
        for item in snapshot.get(key) or []:
            if item.get("tid") in seen:
                continue
            seen.add(item.get("tid"))
            messages.append(f"{item.get('title') or ''}\n{item.get('content') or ''}")
            if item.get("replyContent"):
                answers.append(str(item["replyContent"]))
    raw["zhejiang"] = messages
    raw["zhejiang_replies"] = answers
    cut = {
        name: list(dict.fromkeys(w for w in (classifier.words(t, stopwords) for t in texts) if w))
        for name, texts in raw.items()
    }
    with CACHE.open("wb") as handle:
        pickle.dump(cut, handle)
    return cut


def unseen_by(texts: list[str], test: classifier.Examples) -> list[str]:
    """`texts` less those sharing more than half of their words with a text of `test`."""
    pool = classifier.Examples()
    for text in texts:
        pool.add(text, "?")
    return classifier.without_near_duplicates(pool, test, 0.5).texts


# ---------------------------------------------------------------------------------------------
# Word vectors (cached per corpus: several variants share one training)


_vectors: dict[tuple, tuple[object, float]] = {}


def word_vectors(corpus: list[str], *, kind="w2v", dim=100, window=5, epochs=5, min_count=3):
    """A gensim model over the texts (seeded, one worker: deterministic), and its CPU seconds."""
    key = (
        hashlib.sha256("\n".join(corpus).encode()).hexdigest(),
        kind,
        dim,
        window,
        epochs,
        min_count,
    )
    if key in _vectors:
        return _vectors[key][0], _vectors[key][1], False
    if True:
        from gensim.models import FastText, Word2Vec

        sentences = [t.split() for t in corpus]
        cpu = time.process_time()
        model = (FastText if kind == "ft" else Word2Vec)(
            sentences,
            vector_size=dim,
            window=window,
            min_count=min_count,
            sg=SKIPGRAM,
            negative=5,
            epochs=epochs,
            workers=1,
            seed=classifier.SEED,
        )
        _vectors[key] = (model.wv, time.process_time() - cpu)
        print(f"  word vectors: {len(corpus)} texts, {_vectors[key][1]:.0f} s CPU", flush=True)
    return _vectors[key][0], _vectors[key][1], True


_clusters: dict[tuple, tuple[dict[str, int], float]] = {}


def word_clusters(wv, k: int):
    """{word: cluster} by k-means over the (unit) word vectors."""
    key = (id(wv), k)
    if key in _clusters:
        return _clusters[key][0], _clusters[key][1], False
    if True:
        import numpy as np
        from sklearn.cluster import MiniBatchKMeans

        cpu = time.process_time()
        vectors = wv.vectors / np.maximum(np.linalg.norm(wv.vectors, axis=1, keepdims=True), 1e-9)
        km = MiniBatchKMeans(
            n_clusters=k, random_state=classifier.SEED, n_init=3, batch_size=4096, max_iter=100
        )
        ids = km.fit_predict(vectors)
        _clusters[key] = (
            dict(zip(wv.index_to_key, map(int, ids), strict=True)),
            time.process_time() - cpu,
        )
    return _clusters[key][0], _clusters[key][1], True


class Representation:
    """Extra features learnt from the training texts plus an unlabelled corpus (bench version):
    cluster-id TF-IDF (`clusters` k, weight `cluster_weight`), the TF-IDF-weighted mean word
    vector (weight `mean_weight`), LSA (`lsa` components, weight `lsa_weight`)."""

    def __init__(
        self,
        extra=(),
        kind="w2v",
        dim=100,
        clusters=0,
        cluster_weight=1.0,
        mean_weight=0.0,
        lsa=0,
        lsa_weight=1.0,
        epochs=5,
    ):
        self.extra, self.kind, self.dim = extra, kind, dim
        self.clusters, self.cluster_weight = clusters, cluster_weight
        self.mean_weight, self.lsa, self.lsa_weight, self.epochs = (
            mean_weight,
            lsa,
            lsa_weight,
            epochs,
        )

    def get_params(self, deep=True):
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, texts, labels=None):
        from sklearn.feature_extraction.text import TfidfVectorizer

        corpus = list(texts) + list(self.extra)
        self.cached_cpu_ = 0.0  # CPU of cached word vectors and clusters (bench only)
        if self.clusters or self.mean_weight:
            wv, cost, fresh = word_vectors(corpus, kind=self.kind, dim=self.dim, epochs=self.epochs)
            self.wv_ = wv
            self.cached_cpu_ += 0 if fresh else cost
        if self.clusters:
            self.cluster_of_, cost, fresh = word_clusters(wv, self.clusters)
            self.cached_cpu_ += 0 if fresh else cost
            self.cluster_tfidf_ = TfidfVectorizer(
                token_pattern=r"\S+",
                lowercase=False,
                sublinear_tf=True,
                min_df=2,  # noqa: S106
            ).fit(self._cluster_texts(corpus))
        if self.mean_weight:
            self.idf_ = TfidfVectorizer(
                token_pattern=r"\S+",
                lowercase=False,
                min_df=1,  # noqa: S106
            ).fit(corpus)
            self.idf_of_ = dict(zip(self.idf_.get_feature_names_out(), self.idf_.idf_, strict=True))
        if self.lsa:
            from sklearn.decomposition import TruncatedSVD

            self.lsa_tfidf_ = TfidfVectorizer(
                token_pattern=r"\S+",  # noqa: S106
                lowercase=False,
                sublinear_tf=True,
                min_df=2,
                ngram_range=(1, 2),
            ).fit(corpus)
            self.svd_ = TruncatedSVD(self.lsa, random_state=classifier.SEED).fit(
                self.lsa_tfidf_.transform(corpus)
            )
        return self

    def _cluster_texts(self, texts):
        cluster_of = self.cluster_of_
        return [" ".join(f"k{cluster_of[w]}" for w in t.split() if w in cluster_of) for t in texts]

    def transform(self, texts):
        import numpy as np
        from scipy import sparse

        parts = []
        if self.clusters:
            parts.append(
                self.cluster_tfidf_.transform(self._cluster_texts(texts)) * self.cluster_weight
            )
        if self.mean_weight:
            wv, idf = self.wv_, self.idf_of_
            rows = np.zeros((len(texts), wv.vector_size))
            for n, text in enumerate(texts):
                tokens = text.split()
                counts: dict[str, int] = {}
                for w in tokens:
                    counts[w] = counts.get(w, 0) + 1
                total = np.zeros(wv.vector_size)
                for w, c in counts.items():
                    if self.kind == "ft" or w in wv.key_to_index:
                        total += (1 + np.log(c)) * idf.get(w, 1.0) * wv[w]
                norm = np.linalg.norm(total)
                if norm:
                    rows[n] = total / norm
            parts.append(sparse.csr_matrix(rows * self.mean_weight))
        if self.lsa:
            dense = self.svd_.transform(self.lsa_tfidf_.transform(texts))
            dense /= np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-9)
            parts.append(sparse.csr_matrix(dense * self.lsa_weight))
        return sparse.hstack(parts).tocsr()

    def fit_transform(self, texts, labels=None):
        return self.fit(texts).transform(texts)


# ---------------------------------------------------------------------------------------------
# fastText supervised


class FastTextModel:
    """fastText's supervised classifier (word n-grams), seeded, one thread; `svm_share` > 0
    averages its probabilities with those of the current model."""

    def __init__(
        self, names=None, epoch=25, lr=0.5, ngrams=2, dim=100, svm_share=0.0, minn=0, maxn=0
    ):
        self.names, self.epoch, self.lr, self.ngrams, self.dim = names, epoch, lr, ngrams, dim
        self.svm_share, self.minn, self.maxn = svm_share, minn, maxn

    def fit(self, texts, labels):
        import fasttext
        import numpy as np

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
            for text, label in zip(texts, labels, strict=True):
                f.write(f"__label__{label} {text}\n")
            path = f.name
        self.model_ = fasttext.train_supervised(
            input=path,
            epoch=self.epoch,
            lr=self.lr,
            wordNgrams=self.ngrams,
            dim=self.dim,
            minn=self.minn,
            maxn=self.maxn,
            thread=1,
            seed=classifier.SEED,
            verbose=0,
        )
        Path(path).unlink()
        self.classes_ = np.array(sorted(set(labels)))
        if self.svm_share:
            from sklearn.pipeline import Pipeline

            self.svm_ = Pipeline(
                [("features", _features(self.names)), ("model", classifier.ScaledSVC(C=0.5))]
            ).fit(texts, labels)
        return self

    def predict_proba(self, texts):
        import numpy as np

        column = {f"__label__{c}": n for n, c in enumerate(self.classes_)}
        out = np.zeros((len(texts), len(self.classes_)))
        for row, text in enumerate(texts):
            found, probabilities = self.model_.predict(text, k=-1)
            for label, p in zip(found, probabilities, strict=True):
                out[row, column[label]] = p
        if self.svm_share:
            out = (1 - self.svm_share) * out + self.svm_share * self.svm_.predict_proba(texts)
        return out

    def predict(self, texts):
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]


# ---------------------------------------------------------------------------------------------
# Variants


def variants(names):
    """name → function(extra corpus) making a fresh pipeline."""
    from sklearn.pipeline import FeatureUnion, Pipeline

    def make(**rep):
        def build(extra):
            base = _features(names)
            if rep:
                base = FeatureUnion(
                    base.transformer_list + [("rep", Representation(extra=extra, **rep))]
                )
            return Pipeline([("features", base), ("model", classifier.ScaledSVC(C=0.5))])

        return build

    def make_labelled_only(**rep):
        def build(extra):
            return make(**rep)(())

        return build

    def fasttext(**kw):
        def build(extra):
            return FastTextModel(names=names, **kw)

        return build

    table = {"current": make()}
    for k in (200, 500, 1000):
        table[f"clusters{k}"] = make(clusters=k)
    table["clusters500_w0.5"] = make(clusters=500, cluster_weight=0.5)
    table["clusters500_w0.2"] = make(clusters=500, cluster_weight=0.2)
    table["clusters200_w0.2"] = make(clusters=200, cluster_weight=0.2)
    table["clusters1000_w0.2"] = make(clusters=1000, cluster_weight=0.2)
    table["clusters500_labelled"] = make_labelled_only(clusters=500)
    table["clusters500_ft"] = make(clusters=500, kind="ft")
    for w in (0.3, 0.6, 1.0):
        table[f"mean_w{w}"] = make(mean_weight=w)
    table["mean_ft_w0.6"] = make(mean_weight=0.6, kind="ft")
    table["clusters500_mean0.6"] = make(clusters=500, mean_weight=0.6)
    for n, w in ((200, 0.5), (200, 1.0), (300, 1.0)):
        table[f"lsa{n}_w{w}"] = make(lsa=n, lsa_weight=w)
    table["fasttext"] = fasttext()
    table["fasttext_chars"] = fasttext(minn=1, maxn=2)
    table["fasttext+svm"] = fasttext(svm_share=0.5)
    table["fasttext+svm0.7"] = fasttext(svm_share=0.7)
    table["fasttext+svm0.85"] = fasttext(svm_share=0.85)
    return table


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument(
        "--figures", default="heldout,dedup,unseen", help="which figures (comma-separated)"
    )
    args = parser.parse_args()
    folder, stopwords, tokens, names, sample = read_data(args.data)
    started = time.perf_counter()
    pool_by_source = unlabelled_words(
        folder, args.data / "liuyan_zhejiang" / "board_snapshot.json", stopwords
    )
    pool = list(dict.fromkeys(t for texts in pool_by_source.values() for t in texts))
    print(
        "unlabelled: "
        + ", ".join(f"{k} {len(v)}" for k, v in pool_by_source.items())
        + f" → {len(pool)} distinct ({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    train_set, test_set = classifier.stratified_split(tokens)
    dedup_train = classifier.without_near_duplicates(train_set, test_set, 0.5)
    unseen_train = classifier.without_near_duplicates(tokens, sample, 0.5)
    # The extra corpus of each figure: the pool less the near-duplicates of that figure's test
    # set (its texts are never seen, not even without their labels).
    heldout_extra = unseen_by(pool, test_set)
    unseen_extra = unseen_by(pool, sample)
    figures = {
        "heldout": (train_set, test_set, heldout_extra),
        "dedup": (dedup_train, test_set, heldout_extra),
        "unseen": (unseen_train, sample, unseen_extra),
    }
    print(
        f"train 80% {len(train_set)}, dedup {len(dedup_train)}, unseen-train {len(unseen_train)}; "
        f"extra held-out {len(heldout_extra)}, extra unseen {len(unseen_extra)}",
        flush=True,
    )
    wanted = args.figures.split(",")
    table = variants(names)
    print("variant\t" + "\t".join(f"{w}\tcpu" for w in wanted), flush=True)
    for name in args.variant or list(table):
        row = [name]
        for figure in wanted:
            fit_on, test_on, extra = figures[figure]
            pipeline = table[name](extra)
            cpu = time.process_time()
            pipeline.fit(fit_on.texts, fit_on.labels)
            fit_cpu = time.process_time() - cpu
            steps = getattr(pipeline, "named_steps", {})
            if "features" in steps:
                for _n, part in steps["features"].transformer_list:
                    # word vectors and clusters are cached across variants: count them anyway
                    fit_cpu += getattr(part, "cached_cpu_", 0.0)
            f1, _per_label = classifier.macro_f1(pipeline, test_on)
            print(f"  {name} {figure}: {f1:.4f} ({fit_cpu:.0f} s)", flush=True)
            row += [f"{f1:.4f}", f"{fit_cpu:.1f}s"]
        print("\t".join(row), flush=True)


if __name__ == "__main__":
    main()
