"""Search quality on the real archive: known-item queries, recall@10 and MRR, three systems.

    .venv/bin/python bench/search_quality.py                 # all of ../shared/data
    .venv/bin/python bench/search_quality.py --rows 400 --targets 60
    .venv/bin/python bench/search_quality.py --rows 900 --targets 120 --seeds 101,202,303

The archive (`../shared/data`: the TipDM board with replies, and the Zhejiang board snapshot) is
imported into a throw-away SQLite database in a temp directory (never into the repository) and
indexed. For a seeded sample of target messages, queries are built from the message's own
wording, the way someone who read it would search again:

- `title`: the title as typed;
- `title words`: two or three content words of the title, space-separated, in another order;
- `body span`: 6–12 consecutive characters of the body, as typed (no quotes);
- `body words`: the three rarest content words of the body, space-separated;
- `reply words`: the two rarest content words of the unit's reply;
- `phrase`: a quoted 4–8 character span of the body.

Systems: ours (`search_messages`, the real code path); a plain substring search (each
space-separated term must occur in the title, body or reply: SQL LIKE, newest first); Whoosh's
default `StandardAnalyzer` over the same fields and boosts, queried with its `MultifieldParser`.
A target found at rank r (1–10) scores 1/r for MRR and counts for recall@10.

`--traditional` types every query in traditional characters (OpenCC's `s2t`), as a reader with a
traditional input method would, against the same simplified archive. `--swap-numerals` keeps only
the queries that hold a counted one-digit number (`3号线`, `五栋`, `二单元`, `一期`) and writes it
the other way (`三号线`, `5栋`, `2单元`, `1期`), as someone who remembers the matter but not how
it was written.

Held-out measurement: ranking was tuned on the queries of some seeds (see docs/search.md,
"held-out ranking"); `--seeds` samples targets with other seeds, each on its own, and pools
them. `--keep DIR` imports and indexes once into DIR and reuses it on later runs; `--misses`
prints the queries where ours does not rank the target first (for tuning seeds only).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from common import ROOT, load, make_app

DATA = ROOT.parent / "shared" / "data"
KINDS = ("title", "title words", "body span", "body words", "reply words", "phrase")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_PUNCT = re.compile(r"[\s，。！？、；：“”‘’（）《》【】,.!?;:()\"'\-—…·]")


def import_archive(rows: int | None) -> int:
    """Import the real files into the current app's database; returns messages imported."""
    from board.seed.directory import ensure_boards, load_regions
    from board.seed.importer import import_rows, open_rows
    from board.seed.reference import seed_reason_codes
    from board.seed.regions import region_rows

    load_regions(region_rows())
    ensure_boards()
    seed_reason_codes()
    total = 0
    for path, board in (
        (DATA / "tipdm2020c" / "messages_with_replies.xlsx", "330100-secretary"),
        (DATA / "tipdm2020c" / "messages_with_votes.xlsx", "330100-governor"),
        (DATA / "liuyan_zhejiang" / "board_snapshot.json", None),
    ):
        if path.exists():
            report = import_rows(open_rows(str(path), limit=rows), board_code=board)
            total += report.imported
    return total


# ---------------------------------------------------------------------------------------------
# Queries from a message's own words


def _content_words(text: str) -> list[str]:
    from board.search import analysis

    return [
        w.text
        for w in analysis.words(text)
        if len(w.text) >= 2 and _HAN.search(w.text) and w.text not in analysis.STOP_WORDS
    ]


def make_queries(messages, rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, query, target code) for each target message and query kind that applies."""
    document_frequency: Counter = Counter()
    words_of = {}
    for m in messages:
        body_words = _content_words(m.body)
        reply = "\n".join(r.body for r in m.published_replies)
        words_of[m.code] = (body_words, _content_words(reply))
        document_frequency.update(set(body_words) | set(words_of[m.code][1]))

    def rarest(words: list[str], k: int) -> list[str]:
        unique = list(dict.fromkeys(words))
        unique.sort(key=lambda w: (document_frequency[w], -len(w)))
        return unique[:k]

    out = []
    for m in messages:
        title_words = list(dict.fromkeys(_content_words(m.title)))
        body_words, reply_words = words_of[m.code]
        out.append(("title", m.title, m.code))
        if len(title_words) >= 2:
            picked = rng.sample(title_words, min(3, len(title_words)))
            out.append(("title words", " ".join(reversed(picked)), m.code))
        # Spans inside one clause (between punctuation marks), as someone remembers wording.
        clauses = [c for c in _PUNCT.split(m.body) if len(c) >= 8]
        if clauses:
            clause = rng.choice(clauses)
            size = rng.randint(6, min(12, len(clause)))
            start = rng.randrange(0, len(clause) - size + 1)
            out.append(("body span", clause[start : start + size], m.code))
            clause = rng.choice(clauses)
            size = rng.randint(4, min(8, len(clause)))
            start = rng.randrange(0, len(clause) - size + 1)
            out.append(("phrase", f'"{clause[start : start + size]}"', m.code))
        if len(body_words) >= 3:
            out.append(("body words", " ".join(rarest(body_words, 3)), m.code))
        if len(reply_words) >= 2:
            out.append(("reply words", " ".join(rarest(reply_words, 2)), m.code))
    return out


def _counted() -> re.Pattern[str]:
    """The analyzer's counted one-digit numbers (`board/search/analysis.py`), in either form."""
    from board.search.analysis import COUNTED_BEFORE, NOT_COUNTED_AFTER

    return re.compile(
        rf"(?<![{NOT_COUNTED_AFTER}])([一二三四五六七八九1-9])(?![0-9])(?={COUNTED_BEFORE})"
    )


_CHINESE_DIGITS = "〇一二三四五六七八九"


def _swapped(query: str) -> str:
    """`query` with each counted one-digit number written the other way (3号线 ⇄ 三号线)."""

    def other(match: re.Match[str]) -> str:
        c = match.group(1)
        return _CHINESE_DIGITS[int(c)] if c.isdigit() else str(_CHINESE_DIGITS.index(c))

    return _counted().sub(other, query)


# ---------------------------------------------------------------------------------------------
# The systems


def ours(query: str) -> list[str]:
    from board.search.query import search_messages

    return [h.message.code for h in search_messages(query, per_page=10).hits]


def substring(query: str) -> list[str]:
    """Every space-separated term as a substring of title, body or a reply; newest first."""
    from sqlalchemy import or_, select

    from board.extensions import db
    from board.models import Message, Reply
    from board.search.documents import public_condition

    terms = [t for t in query.replace('"', " ").split() if t]
    if not terms:
        return []
    statement = select(Message.code).where(public_condition())
    for term in terms:
        pattern = f"%{term}%"
        statement = statement.where(
            or_(
                Message.title.like(pattern),
                Message.body.like(pattern),
                Message.id.in_(select(Reply.message_id).where(Reply.body.like(pattern))),
            )
        )
    return list(db.session.scalars(statement.order_by(Message.published_at.desc()).limit(10)))


class StandardWhoosh:
    """Whoosh with its default analyzer over the same fields and boosts."""

    def __init__(self, directory: Path) -> None:
        from whoosh import index
        from whoosh.analysis import StandardAnalyzer
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.qparser import MultifieldParser

        from board.extensions import db
        from board.models import Message
        from board.privacy import public_text
        from board.search.documents import public_condition

        analyzer = StandardAnalyzer()
        schema = Schema(
            code=ID(stored=True, unique=True),
            title=TEXT(analyzer=analyzer, field_boost=3.0),
            body=TEXT(analyzer=analyzer),
            reply=TEXT(analyzer=analyzer, field_boost=2.0),
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.ix = index.create_in(str(directory), schema)
        writer = self.ix.writer()
        for m in db.session.scalars(db.select(Message).where(public_condition())):
            writer.add_document(
                code=m.code,
                title=public_text(m, m.title),
                body=public_text(m, m.body),
                reply="\n".join(public_text(m, r.body) for r in m.published_replies),
            )
        writer.commit()
        self.parser = MultifieldParser(["title", "body", "reply"], schema)
        self.searcher = self.ix.searcher()

    def __call__(self, query: str) -> list[str]:
        try:
            parsed = self.parser.parse(query)
        except Exception:  # noqa: BLE001 - a parse failure is a miss
            return []
        return [hit["code"] for hit in self.searcher.search(parsed, limit=10)]


# ---------------------------------------------------------------------------------------------


def _rank(ranked: list[str], target: str) -> int | None:
    """The target's rank (1–10) in a system's first ten, or None."""
    return ranked.index(target) + 1 if target in ranked else None


def evaluate(queries, systems, answers: dict | None = None) -> dict:
    """recall@10 and MRR per system and query kind (and over all queries); `answers` keeps
    each system's first ten per query, so a query asked again is not run twice."""
    scores: dict = defaultdict(lambda: defaultdict(lambda: [0, 0.0, 0]))
    answers = {} if answers is None else answers
    for kind, query, target in queries:
        for name, system in systems.items():
            held = answers.setdefault(name, {})
            if query not in held:
                held[query] = system(query)
            ranked = held[query]
            cell = scores[name][kind]
            cell[2] += 1
            if target in ranked:
                rank = ranked.index(target) + 1
                cell[0] += 1
                cell[1] += 1 / rank
    table = {}
    for name, kinds in scores.items():
        table[name] = {}
        found = reciprocal = asked = 0
        for kind in KINDS:
            if kind in kinds:
                hit, rr, n = kinds[kind]
                table[name][kind] = {
                    "recall@10": round(hit / n, 3),
                    "mrr": round(rr / n, 3),
                    "n": n,
                }
                found, reciprocal, asked = found + hit, reciprocal + rr, asked + n
        table[name]["all"] = {
            "recall@10": round(found / max(asked, 1), 3),
            "mrr": round(reciprocal / max(asked, 1), 3),
            "n": asked,
        }
    return table


def run(
    rows: int | None,
    targets: int,
    seed: int = 7,
    workdir: Path | None = None,
    *,
    seeds: list[int] | None = None,
    only_ours: bool = False,
    misses: bool = False,
    traditional: bool = False,
    swap_numerals: bool = False,
) -> dict:
    """Import, index, query; returns the result table (and how long each part took).

    With `seeds`, one sample of targets per seed: `results` pools their queries, `per_seed`
    holds each seed's table. A `workdir` that already holds an imported archive of the same
    `rows` is reused as it is."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from board.extensions import db
    from board.models import Message
    from board.search import documents
    from board.search.rebuild import rebuild

    temp = tempfile.TemporaryDirectory(prefix="search-quality-") if workdir is None else None
    directory = Path(temp.name) if temp else workdir
    marker = directory / "imported.json"
    try:
        app = make_app(directory)
        timings = {"load": load()}
        with app.app_context():
            if marker.exists() and json.loads(marker.read_text())["rows"] == rows:
                imported = json.loads(marker.read_text())["messages"]
            else:
                db.create_all()
                started = time.perf_counter()
                imported = import_archive(rows)
                timings["import_s"] = round(time.perf_counter() - started, 1)
                started = time.perf_counter()
                rebuild(procs=1)
                timings["index_s"] = round(time.perf_counter() - started, 1)
                marker.write_text(json.dumps({"rows": rows, "messages": imported}))
            public = list(
                db.session.scalars(
                    select(Message)
                    .where(documents.public_condition())
                    .options(selectinload(Message.replies))
                    .order_by(Message.id)
                )
            )
            by_seed = {}
            for one in seeds or [seed]:
                rng = random.Random(one)
                sample = rng.sample(public, min(targets, len(public)))
                by_seed[one] = make_queries(sample, rng)
            if swap_numerals:
                by_seed = {
                    one: [(k, _swapped(q), code) for k, q, code in found if _swapped(q) != q]
                    for one, found in by_seed.items()
                }
            if traditional:
                import opencc

                to_traditional = opencc.OpenCC("s2t.json").convert
                by_seed = {
                    one: [(kind, to_traditional(q), code) for kind, q, code in found]
                    for one, found in by_seed.items()
                }
            queries = [q for found in by_seed.values() for q in found]
            systems: dict = {"ours": ours}
            standard = None
            if not only_ours:
                standard = StandardWhoosh(directory / "standard-index")
                systems.update({"substring (LIKE)": substring, "whoosh standard": standard})
            started = time.perf_counter()
            ranked = {name: {} for name in systems}
            table = evaluate(queries, systems, ranked)
            per_seed = {one: evaluate(found, systems, ranked) for one, found in by_seed.items()}
            timings["evaluate_s"] = round(time.perf_counter() - started, 1)
            timings["load_end"] = load()
            missed = [
                (kind, query, target, _rank(ranked["ours"][query], target))
                for kind, query, target in queries
                if _rank(ranked["ours"][query], target) != 1
            ]
            if standard is not None:
                standard.searcher.close()
            db.session.remove()
            db.engine.dispose()
        return {
            "messages": imported,
            "public": len(public),
            "targets": len(sample),
            "seeds": list(by_seed),
            "queries": len(queries),
            "examples": [q for q in queries[:12]],
            "timings": timings,
            "results": table,
            "per_seed": per_seed if seeds else {},
            "misses": missed if misses else [],
        }
    finally:
        if temp:
            temp.cleanup()


def markdown(result: dict, table: dict | None = None) -> str:
    """A result table as Markdown: one row per query kind, recall@10 / MRR per system."""
    table = result["results"] if table is None else table
    systems = list(table)
    lines = [
        "| query kind | n | " + " | ".join(f"{s} R@10 / MRR" for s in systems) + " |",
        "|---|---|" + "---|" * len(systems),
    ]
    for kind in (*KINDS, "all"):
        cells = [table[s].get(kind) for s in systems]
        if not cells[0]:
            continue
        shown = " | ".join(f"{c['recall@10']:.3f} / {c['mrr']:.3f}" for c in cells)
        lines.append(f"| {kind} | {cells[0]['n']} | {shown} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, help="rows read from each file (default: all)")
    parser.add_argument("--targets", type=int, default=300, help="target messages sampled")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--seeds", help="comma-separated seeds, each its own sample, pooled")
    parser.add_argument("--keep", type=Path, help="import and index once into this folder")
    parser.add_argument("--only-ours", action="store_true", help="skip LIKE and Whoosh's own")
    parser.add_argument("--misses", action="store_true", help="print where ours is not first")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument(
        "--traditional", action="store_true", help="queries typed in traditional characters"
    )
    parser.add_argument(
        "--swap-numerals", action="store_true", help="3号线 ⇄ 三号线 in the queries that hold one"
    )
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is not there")
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    result = run(
        args.rows,
        args.targets,
        args.seed,
        args.keep,
        seeds=seeds,
        only_ours=args.only_ours,
        misses=args.misses,
        traditional=args.traditional,
        swap_numerals=args.swap_numerals,
    )
    shown = {k: v for k, v in result.items() if k not in ("results", "per_seed", "misses")}
    print(json.dumps(shown, ensure_ascii=False))
    for one, table in result["per_seed"].items():
        print(f"\nseed {one}\n" + markdown(result, table))
    print("\nall seeds\n" if seeds else "", end="")
    print(markdown(result))
    for kind, query, target, rank in result["misses"]:
        print(f"miss\t{kind}\t{query}\t{target}\t{rank}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    if not math.isfinite(result["results"]["ours"]["all"]["mrr"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
