"""Masking over the real archives: speed, and which texts it changes (for reading by eye).

    .venv/bin/python bench/privacy_bench.py [--data ../shared/data] [--show 40]

Reads every title, body and reply of the two real archives (`tipdm2020c/*.xlsx`,
`liuyan_zhejiang/board_snapshot.json`), masks each with `board.privacy.mask_text` (no private
values, no published unit numbers: the strictest case) and prints the characters per second
(wall and CPU), the load averages, how many texts changed and a sample of the changes.
Exits quietly when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

from board.privacy import mask_text

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def texts(data: Path) -> list[str]:
    """Every title, body and reply of the archives, one string each."""
    import openpyxl

    found = []
    for path in sorted((data / "tipdm2020c").glob("messages_*.xlsx")):
        sheet = openpyxl.load_workbook(path, read_only=True)["Sheet1"]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows)
        wanted = [
            i for i, name in enumerate(header) if name in ("留言主题", "留言详情", "答复意见")
        ]
        found += [str(row[i]) for row in rows for i in wanted if row[i]]
    snapshot = json.loads((data / "liuyan_zhejiang" / "board_snapshot.json").read_text("utf-8"))
    for key in ("recent", "pending", "low"):
        for message in snapshot[key]:
            found += [
                str(message[f]) for f in ("title", "content", "replyContent") if message.get(f)
            ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", type=int, default=40, help="changed texts to print")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"{args.data} is absent: nothing to measure")
        return
    corpus = texts(args.data)
    chars = sum(map(len, corpus))
    wall, cpu = time.perf_counter(), time.process_time()
    masked = [mask_text(text) for text in corpus]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    changed = [(a, b) for a, b in zip(corpus, masked, strict=True) if a != b]
    print(f"{len(corpus):,} texts, {chars:,} characters, load {os.getloadavg()}")
    print(f"wall {wall:.2f} s ({chars / wall / 1e6:.2f} M chars/s), CPU {cpu:.2f} s")
    print(f"{len(changed)} texts changed")
    for before, after in random.Random(1).sample(changed, min(args.show, len(changed))):
        at = next(i for i, (x, y) in enumerate(zip(before, after, strict=False)) if x != y)
        print(f"  {before[max(0, at - 15) : at + 20]!r}\n→ {after[max(0, at - 15) : at + 20]!r}")


if __name__ == "__main__":
    main()
