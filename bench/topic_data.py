"""More (weakly) labelled data and better decisions for the topic model (docs/intelligence.md).

    .venv/bin/python bench/topic_data.py [--data ../shared/data] [--cache FILE] [variant …]
    .venv/bin/python bench/topic_data.py --sources     # the weak labels: counts and precision

Each variant is trained three times and measured by macro-F1:

- held-out: the stratified 20% of messages_labelled_tokens.csv (seed 20200), trained on the
  other 80%;
- held-out, deduplicated ("dedup"): the same 20%, but the 80% loses every row sharing more than
  half of its words with a held-out row — the figure choices are made on;
- unseen: the 495 messages of the labelled sample, trained on the token file less their
  near-duplicates (reported, never used for a choice).

Extra training sources (the replies archive labelled by the unit that answered, the Zhejiang
board's domains) always lose their near-duplicates of the evaluated messages first, so nothing
evaluated is ever trained on. Words of the raw archives are cached (`--cache`, under /tmp by
default) so that jieba runs once. Nothing else is written.
"""

from __future__ import annotations

import pickle
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.topic_model import _features, bench_parser, read_data  # noqa: E402
from board.intel import classifier  # noqa: E402

Examples = classifier.Examples
WORDS_VERSION = 2  # 2: `_x000D_` is a line end

# ---------------------------------------------------------------------------------------------
# Weak labels


# Kinds of answering unit named in a reply, and the topic of the board they stand for (the
# topic tree of labels.xlsx: 物业, 住房保障 and 拆迁 are 城乡建设; 医保 and 社保 are 劳动和社会保障;
# 市场监管 and 物价 are 商贸旅游). 公积金 (under two topics), 公安, 街道 and 镇 name no topic.
REPLY_UNITS: tuple[tuple[str, str], ...] = (
    ("教育文体", r"教育局|教育厅|教育委员会|教体局|教育和体育局|文体局|体育局|文化局|文广新局"),
    (
        "劳动和社会保障",
        r"人社局|人力资源和社会保障|人力资源与社会保障|社保局|社会保险|社保中心|医保中心|医保局"
        r"|医疗保障局|劳动监察|劳动保障|就业服务",
    ),
    (
        "卫生计生",
        r"卫健委|卫生健康|卫生计生|卫计委|卫生局|卫生和计划生育|卫生院|疾控|疾病预防控制"
        r"|计划生育|妇幼保健|食品药品监督",
    ),
    (
        "交通运输",
        r"交通运输局|交通运输厅|交通局|交通运输委|公交|轨道交通|运输管理|道路运输|客运|出租车|公路局",
    ),
    ("环境保护", r"生态环境局|生态环境厅|环保局|环境保护局|环境保护厅|环境局|生态环境分局"),
    (
        "城乡建设",
        r"住建局|住房和城乡建设|住房城乡建设|城乡建设局|城建局|城管局|城市管理|规划局|规划分局"
        r"|自然资源和规划|自然资源局|住房保障|房产局|房屋交易|不动产登记|物业|征收|拆迁|市政",
    ),
    (
        "商贸旅游",
        r"商务局|商务厅|市场监督管理|市场监管局|市场监管分局|工商局|工商分局|物价局|旅游局"
        r"|质量技术监督|质量监督",
    ),
)
ZHEJIANG_VERSION = 1
# The Zhejiang board's domains that map to exactly one of the seven topics (企业, 金融, 治安,
# 政务 and 三农 do not).
ZHEJIANG_DOMAINS = {
    "城建": "城乡建设",
    "交通": "交通运输",
    "环保": "环境保护",
    "教育": "教育文体",
    "文娱": "教育文体",
    "就业": "劳动和社会保障",
    "医疗": "卫生计生",
    "旅游": "商贸旅游",
}


def _unit_patterns():

    return [(topic, re.compile(pattern)) for topic, pattern in REPLY_UNITS]


def reply_topics(reply: str) -> set[str]:
    """The topics of the kinds of unit a reply names (REPLY_UNITS)."""
    return {topic for topic, pattern in _unit_patterns() if pattern.search(reply or "")}


def label_by_reply(rows: Iterable[tuple[str, str]]) -> Examples:
    """(words, reply) → examples labelled by the answering unit, when the reply names units of
    exactly one topic (distant supervision); the others are left out."""
    examples = Examples()
    for text, reply in rows:
        found = reply_topics(reply)
        if len(found) == 1:
            examples.add(text, next(iter(found)))
    return examples


def read_reply_archive(path: Path, stopwords: frozenset[str]) -> list[tuple[str, str]]:
    """messages_with_replies.xlsx: (words of title + body, reply text) of each message."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = [str(c or "").strip() for c in next(rows)]
    title, body, reply = (header.index(n) for n in ("留言主题", "留言详情", "答复意见"))
    found = []
    for row in rows:
        if row is None or len(row) <= max(title, body, reply) or not row[title]:
            continue
        text = classifier.words(f"{row[title]}\n{str(row[body] or '').strip()}", stopwords)
        found.append((text, str(row[reply] or "")))
    workbook.close()
    return found


def read_zhejiang_snapshot(path: Path, stopwords: frozenset[str]) -> Examples:
    """board_snapshot.json (another province's board): title + content of each distinct message
    whose `domain` maps to one topic (ZHEJIANG_DOMAINS), as words."""
    import json

    with path.open(encoding="utf-8") as handle:
        snapshot = json.load(handle)
    examples, seen = Examples(), set()
    for part in ("recent", "pending", "low"):
        for message in snapshot.get(part) or []:
            key = message.get("tid") or message.get("id")
            topic = ZHEJIANG_DOMAINS.get(message.get("domain") or "")
            if not topic or key in seen:
                continue
            seen.add(key)
            text = f"{message.get('title') or ''}\n{message.get('content') or ''}"
            examples.add(classifier.words(text, stopwords), topic)
    return examples


def _cached(cache: Path, key: str, make):
    store = {}
    if cache.exists():
        with cache.open("rb") as handle:
            store = pickle.load(handle)  # noqa: S301 (our own cache file)
    if key not in store:
        store[key] = make()
        with cache.open("wb") as handle:
            pickle.dump(store, handle)
    return store[key]


def archive_rows(folder: Path, stopwords, cache: Path) -> list[tuple[str, str]]:
    """(words of title + body, reply text) of messages_with_replies.xlsx, cached."""
    path = folder / "messages_with_replies.xlsx"
    key = f"replies:{path.stat().st_mtime}:{WORDS_VERSION}"
    return _cached(cache, key, lambda: read_reply_archive(path, stopwords))


def zhejiang_cached(folder: Path, stopwords, cache: Path) -> Examples:
    path = folder.parent / "liuyan_zhejiang" / "board_snapshot.json"
    key = f"zhejiang:{path.stat().st_mtime}:{ZHEJIANG_VERSION}:{WORDS_VERSION}"
    return _cached(cache, key, lambda: read_zhejiang_snapshot(path, stopwords))


def report_sources(rows, tokens: Examples, zhejiang: Examples) -> None:
    """How many messages each weak source labels, and the precision of the distant labels on
    the archive messages that are also in the token file (nearest row by words, Jaccard > 0.5)."""
    import numpy as np

    labelled = label_by_reply(rows)
    kinds = Counter()
    for _text, reply in rows:
        found = reply_topics(reply)
        kinds[len(found)] += 1
    print(
        f"replies archive: {len(rows)} messages; units of 0/1/2+ kinds: "
        f"{kinds[0]} / {kinds[1]} / {sum(v for k, v in kinds.items() if k >= 2)}"
    )
    print(f"distant labels: {len(labelled)}  {dict(Counter(labelled.labels).most_common())}")
    jaccard = classifier.word_overlap(labelled.texts, tokens.texts).toarray()
    nearest = jaccard.argmax(axis=1)
    matched = jaccard.max(axis=1) > 0.5
    agree = Counter()
    confusion = Counter()
    for n in np.flatnonzero(matched):
        truth, said = tokens.labels[nearest[n]], labelled.labels[n]
        agree[truth == said] += 1
        if truth != said:
            confusion[(said, truth)] += 1
    total = agree[True] + agree[False]
    print(
        f"in the token file: {total}; distant label = real label: {agree[True]} "
        f"({agree[True] / max(total, 1):.1%})"
    )
    per_topic = Counter()
    right = Counter()
    for n in np.flatnonzero(matched):
        per_topic[labelled.labels[n]] += 1
        right[labelled.labels[n]] += labelled.labels[n] == tokens.labels[nearest[n]]
    for topic in sorted(per_topic):
        print(f"    {topic}: {right[topic]}/{per_topic[topic]}")
    print("    most frequent disagreements (distant → real):", confusion.most_common(8))
    all_matched = (jaccard.max(axis=1) > 0.5).sum()
    print(f"archive rows with a token-file twin: {all_matched} of {len(labelled)} labelled")
    print(f"zhejiang: {len(zhejiang)}  {dict(Counter(zhejiang.labels).most_common())}")


# ---------------------------------------------------------------------------------------------
# Variants

# Topics whose distant labels matched the token file's label on ≥ 85% of the archive messages
# found there (`--sources`): 交通运输 (3/11) and 城乡建设 (15/20) did not.
PRECISE_REPLY_TOPICS = {"教育文体", "劳动和社会保障", "卫生计生", "环境保护", "商贸旅游"}


def pipeline(names, *, offsets=False, class_weight="balanced", C=0.5, head=0, head_weight=1.0):  # noqa: N803
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

    model = classifier.ScaledSVC(C=C, class_weight=class_weight, offsets=offsets)
    features = _features(names)
    if head:
        title = Pipeline(
            [
                ("cut", classifier.HeadWords(head)),
                (
                    "tfidf",
                    TfidfVectorizer(
                        token_pattern=r"\S+",  # noqa: S106
                        lowercase=False,
                        sublinear_tf=True,
                        min_df=2,
                    ),
                ),
            ]
        )
        features.transformer_list.append(("head", title))
        features.transformer_weights = {"head": head_weight}
    return Pipeline([("features", features), ("model", model)])


def variants(replies: Examples, zhejiang: Examples) -> dict[str, dict]:
    """name → {"extra": [(examples, weight)], pipeline options}."""
    table: dict[str, dict] = {"current": {"extra": []}}
    for weight in (0.1, 0.3, 0.5, 1.0):
        table[f"replies_w{weight}"] = {"extra": [(replies, weight)]}
    for weight in (0.1, 0.3, 0.5, 1.0):
        table[f"zhejiang_w{weight}"] = {"extra": [(zhejiang, weight)]}
    for weight in (0.3, 1.0):
        table[f"replies_primary_w{weight}"] = {
            "extra": [(replies, weight)],
            "class_weight": "primary",
        }
    precise = Examples()  # the topics whose distant labels agree with the real ones ≥ 85%
    for text, label in zip(replies.texts, replies.labels, strict=True):
        if label in PRECISE_REPLY_TOPICS:
            precise.add(text, label)
    for weight in (0.3, 1.0):
        table[f"replies_precise_w{weight}"] = {"extra": [(precise, weight)]}
    for size in (5, 8, 12, 20):
        for weight in (0.3, 0.5, 1.0):
            table[f"head{size}_w{weight}"] = {"extra": [], "head": size, "head_weight": weight}
    table["head12_w0.5_replies_precise_w0.3"] = {
        "extra": [(precise, 0.3)],
        "head": 12,
        "head_weight": 0.5,
    }
    table["offsets"] = {"extra": [], "offsets": True}
    table["unbalanced"] = {"extra": [], "class_weight": None}
    table["sqrt_balanced"] = {"extra": [], "class_weight": "sqrt"}
    return table


def sqrt_weights(labels) -> dict[str, float]:
    """Class weights between none and balanced: (n / (k × count))^½."""
    counts = Counter(labels)
    total = len(labels)
    return {label: (total / (len(counts) * n)) ** 0.5 for label, n in counts.items()}


def fit_and_score(names, options, fit_on: Examples, extras, test_on: Examples):
    """Train on fit_on plus the extras (less their near-duplicates of test_on, weighted), and
    give (macro-F1, per-topic F1, fit CPU seconds, extra rows used)."""
    texts, labels = list(fit_on.texts), list(fit_on.labels)
    weights = [1.0] * len(texts)
    used = 0
    for extra, weight in extras:
        kept = classifier.without_near_duplicates(extra, test_on, 0.5)
        texts += kept.texts
        labels += kept.labels
        weights += [weight] * len(kept)
        used += len(kept)
    class_weight = options.get("class_weight", "balanced")
    if class_weight == "sqrt":
        class_weight = sqrt_weights(labels)
    if class_weight == "primary":  # balanced by the counts of the real labels only
        counts = Counter(fit_on.labels)
        class_weight = {k: len(fit_on) / (len(counts) * n) for k, n in counts.items()}
    model = pipeline(
        names,
        offsets=options.get("offsets", False),
        class_weight=class_weight,
        C=options.get("C", 0.5),
        head=options.get("head", 0),
        head_weight=options.get("head_weight", 1.0),
    )
    cpu = time.process_time()
    if extras:
        model.fit(texts, labels, model__sample_weight=weights)
    else:
        model.fit(texts, labels)
    fit_cpu = time.process_time() - cpu
    f1, per_label = classifier.macro_f1(model, test_on)
    return f1, per_label, fit_cpu, used


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/topic_data_words.pickle"))
    parser.add_argument("--sources", action="store_true", help="only describe the weak labels")
    parser.add_argument("--per-topic", action="store_true", help="F1 of each topic too")
    args = parser.parse_args()
    folder, stopwords, tokens, names, sample = read_data(args.data)
    rows = archive_rows(folder, stopwords, args.cache)
    zhejiang = zhejiang_cached(folder, stopwords, args.cache)
    if args.sources:
        report_sources(rows, tokens, zhejiang)
        return
    replies = label_by_reply(rows)
    unseen_train = classifier.without_near_duplicates(tokens, sample, 0.5)
    train_set, dedup_train, test_set = classifier.deduplicated_split(tokens, 0.5)
    print(
        f"train {len(train_set)}, dedup train {len(dedup_train)}, test {len(test_set)}, "
        f"unseen train {len(unseen_train)}",
        flush=True,
    )
    table = variants(replies, zhejiang)
    print("variant\theld-out\tdedup\tunseen\tfit CPU (s, dedup run)\textra rows", flush=True)
    for name in args.variant or list(table):
        options = table[name]
        row, per_topic = [name], {}
        cpus, used_rows = [], []
        for label, fit_on, test_on in (
            ("held-out", train_set, test_set),
            ("dedup", dedup_train, test_set),
            ("unseen", unseen_train, sample),
        ):
            f1, per_label, fit_cpu, used = fit_and_score(
                names, options, fit_on, options["extra"], test_on
            )
            row.append(f"{f1:.4f}")
            per_topic[label] = per_label
            cpus.append(fit_cpu)
            used_rows.append(str(used))
        row += [f"{cpus[1]:.1f}", "/".join(used_rows)]
        print("\t".join(row), flush=True)
        if args.per_topic:
            for topic in sorted(per_topic["dedup"]):
                print(
                    "    "
                    + topic
                    + "\t"
                    + "\t".join(
                        f"{per_topic[k][topic]:.3f}" for k in ("held-out", "dedup", "unseen")
                    )
                )


if __name__ == "__main__":
    main()
