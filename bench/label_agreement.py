"""How often do the labelled data's near-twins carry the same first-level topic?

    .venv/bin/python bench/label_agreement.py [--data ../shared/data]

Pairs of distinct rows of messages_labelled_tokens.csv whose word sets overlap (Jaccard) above a
threshold are, almost always, the same matter written twice (a repost, a neighbour's copy). The
share of those pairs labelled alike bounds what any classifier can score on messages whose twin
it has seen, and says how consistent the labels are (docs/intelligence.md, "Measured quality").
Candidate pairs are those sharing one of their five rarest words (words in at most 50 rows), so
the counts are a lower bound on the pairs; the agreement is measured over the pairs found.
"""

from __future__ import annotations

import argparse
import csv
import itertools
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--thresholds", default="0.5,0.7,0.9")
    args = parser.parse_args()
    folder = args.data
    with open(folder / "tipdm2020c" / "messages_labelled_tokens.csv", encoding="utf-8") as handle:
        rows = [(frozenset(r["tokens"].split()), r["label"]) for r in csv.DictReader(handle)]

    labels_of = defaultdict(set)
    for words, label in rows:
        labels_of[words].add(label)
    repeated = Counter(words for words, _ in rows)
    twins = [words for words, n in repeated.items() if n > 1]
    conflicting = sum(1 for words in twins if len(labels_of[words]) > 1)
    print(f"rows repeated word for word: {len(twins)}, labelled differently: {conflicting}")

    frequency = Counter(word for words, _ in rows for word in words)
    postings = defaultdict(list)
    for i, (words, _) in enumerate(rows):
        for word in sorted(words, key=lambda w: (frequency[w], w))[:5]:
            postings[word].append(i)
    candidates = set()
    for ids in postings.values():
        if len(ids) <= 50:
            candidates.update(itertools.combinations(ids, 2))

    print("| Jaccard above | pairs | labelled alike | share |")
    print("|---|---:|---:|---:|")
    for threshold in (float(t) for t in args.thresholds.split(",")):
        pairs = alike = 0
        for a, b in candidates:
            (wa, la), (wb, lb) = rows[a], rows[b]
            if wa == wb:
                continue
            if len(wa & wb) / len(wa | wb) > threshold:
                pairs += 1
                alike += la == lb
        print(f"| {threshold} | {pairs} | {alike} | {alike / max(pairs, 1):.3f} |")


if __name__ == "__main__":
    main()
