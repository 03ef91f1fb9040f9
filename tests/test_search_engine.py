"""The changes to Whoosh's internals that make index builds faster keep its results exact."""

from __future__ import annotations

import random

from whoosh import formats, writing
from whoosh.codec.whoosh3 import W3PerDocReader
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import FileStorage

from board.search import index


def test_posting_runs_in_chunks_sort_like_one_list(tmp_path):
    """Many small runs (written and read back in chunks, merged in several rounds) give the
    same sorted postings as sorting them all in memory."""
    assert writing.PostingPool is index.ChunkedPostingPool
    rng = random.Random(5)
    items = [
        (
            rng.choice(["body", "grams", "title"]),
            "".join(rng.choice("物业费上涨路灯") for _ in range(rng.randint(1, 4))).encode(),
            rng.randint(0, 5000),
            float(rng.randint(1, 3)),
            bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 6))),
        )
        for _ in range(30_000)
    ]
    pool = index.ChunkedPostingPool(FileStorage(str(tmp_path)).create(), None, limitmb=0.2)
    pool.CHUNK = 1000  # several chunks per run
    for item in items:
        pool.add(item)
    assert len(pool.runs) > 8
    assert list(pool.items(maxfiles=4)) == sorted(items)  # forces reduce_to: runs of runs
    assert not list(tmp_path.iterdir())  # every run file removed


def test_document_lengths_read_whole_equal_whoosh_one_by_one(tmp_path):
    schema = Schema(key=ID(stored=True), text=TEXT(), other=TEXT())
    ix = FileStorage(str(tmp_path)).create().create_index(schema)
    rng = random.Random(9)
    words = [f"w{i}" for i in range(40)]
    lengths = []
    writer = ix.writer()
    for n in range(300):
        size = rng.choice([0, 1, 2, 5, 17, 120, 900])
        lengths.append(size)
        fields = {"key": str(n), "other": "x"}
        if size:
            fields["text"] = " ".join(rng.choice(words) for _ in range(size))
        writer.add_document(**fields)
    writer.commit()
    with ix.searcher() as searcher:
        perdoc = searcher.reader()._perdoc
        assert isinstance(perdoc, W3PerDocReader)
        for docnum in range(300):
            key = int(searcher.stored_fields(docnum)["key"])
            ours = perdoc.doc_field_length(docnum, "text")
            assert ours == perdoc.whoosh_doc_field_length(docnum, "text")
            # Whoosh stores lengths in one byte: exact when small, approximate when large.
            assert abs((ours or 0) - lengths[key]) <= max(1, lengths[key] // 8)
            assert perdoc.doc_field_length(docnum, "missing", 7) == 7
        assert perdoc.doc_field_length(300, "text") is None


def test_single_positions_encode_as_whoosh_does():
    fmt = formats.Positions()
    for poslist in ([0], [7], [7], [300], [1, 4], [2, 2, 9], [70000]):
        assert fmt.encode(poslist) == index._whoosh_encode_positions(fmt, poslist)
        assert fmt.decode_positions(fmt.encode(poslist)) == poslist


def test_positions_read_from_the_bytes_equal_whoosh_decoding():
    """Single small positions are read straight from Whoosh's encoding; every other value is
    decoded by Whoosh; with or without the pickle's STOP byte."""
    from board.search import fast

    fmt = formats.Positions()
    rng = random.Random(3)
    lists = [
        [rng.randint(0, 400)]
        if rng.random() < 0.7
        else sorted(rng.sample(range(70_000), rng.randint(1, 6)))
        for _ in range(5000)
    ]
    values = [fmt.encode(p) for p in lists]
    values = [v[:-1] if rng.random() < 0.3 and v.endswith(b".") else v for v in values]
    counts, flat = fast._positions(values, fmt.decode_positions)
    assert counts.tolist() == [len(p) for p in lists]
    assert flat.tolist() == [x for p in lists for x in p]
    empty_counts, empty_flat = fast._positions([], fmt.decode_positions)
    assert empty_counts.size == empty_flat.size == 0
