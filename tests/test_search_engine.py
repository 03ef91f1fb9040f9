"""The changes to Whoosh's internals that make index builds faster keep its results exact."""

from __future__ import annotations

import random
import struct
from datetime import datetime, timedelta

import pytest
from whoosh import formats, writing
from whoosh.codec.whoosh3 import W3PerDocReader
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import FileStorage

from board.search import index
from board.search.engine import patches


@pytest.fixture(autouse=True)
def fast_engine():
    """Whoosh with the fast engine's replacements, as `create_app` installs them by default."""
    patches.install()


def test_posting_runs_in_chunks_sort_like_one_list(tmp_path):
    """Many small runs (written and read back in chunks, merged in several rounds) give the
    same sorted postings as sorting them all in memory."""
    assert writing.PostingPool is patches.ChunkedPostingPool
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
    pool = patches.ChunkedPostingPool(FileStorage(str(tmp_path)).create(), None, limitmb=0.2)
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


def _position_lists(n: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [
        [rng.randint(0, 400)]
        if rng.random() < 0.7
        else sorted(rng.sample(range(70_000), rng.randint(1, 6)))
        for _ in range(n)
    ]


def test_packed_positions_index_as_whoosh_positions_do():
    """Same terms, frequencies and weights as Whoosh's `Positions`, the same positions back."""
    from board.search.analysis import BigramTokenizer, analyzer

    text = "西湖区物业费上涨，物业公司不回应。Wi-Fi 3号线 的的 物业费物业费"
    for tokenizer, boost in ((analyzer(), 3.0), (BigramTokenizer(), 0.5)):
        ours = index.PackedPositions(field_boost=boost)
        whoosh = formats.Positions(field_boost=boost)
        mine = sorted(ours.word_values(text, tokenizer, mode="index"))
        theirs = sorted(whoosh.word_values(text, tokenizer, mode="index"))
        assert [v[:3] for v in mine] == [v[:3] for v in theirs]
        for (_, freq, _, value), (_, _, _, other) in zip(mine, theirs, strict=True):
            assert ours.decode_positions(value) == whoosh.decode_positions(other)
            assert ours.decode_frequency(value) == freq == len(value) // 4
            assert ours.decode_weight(value) == freq * boost
    fmt = index.PackedPositions()
    for poslist in _position_lists(300, 1) + [[0], [2**32 - 1]]:
        assert fmt.decode_positions(fmt.encode(poslist)) == poslist
    assert fmt.decode_positions(fmt.combine([fmt.encode([5, 9]), fmt.encode([1, 5])])) == [1, 5, 9]


def test_positions_decoded_whole_equal_each_format_decoding():
    """`postings` decodes a posting list's positions at once: packed ones with numpy, Whoosh's
    pickled ones (indexes built before `PackedPositions`) one distinct value at a time."""
    from board.search.engine import postings

    lists = _position_lists(5000, 3)
    for fmt, decode in (
        (index.PackedPositions(), postings._packed),
        (formats.Positions(), lambda v: postings._pickled(v, formats.Positions().decode_positions)),
    ):
        counts, flat = decode([fmt.encode(p) for p in lists])
        assert counts.tolist() == [len(p) for p in lists]
        assert flat.tolist() == [x for p in lists for x in p]
        empty_counts, empty_flat = decode([])
        assert empty_counts.size == empty_flat.size == 0


def test_phrases_and_scores_equal_whoosh_on_packed_and_legacy_indexes(tmp_path):
    """An index written before `PackedPositions` (Whoosh's pickled positions) and one written
    with it give the same phrase matches and BM25F scores, both equal to Whoosh's own; over
    several segments, one with deletions and postings long enough for many blocks."""
    from whoosh import query as wq

    from board.search.engine import fast

    rng = random.Random(11)
    vocabulary = "物业费 上涨 路灯 不亮 公交 班次 拖欠 工资 噪音 油烟 小区 停车".split()
    texts = [
        "，".join(
            "".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 6)))
            for _ in range(rng.randint(1, 5))
        )
        for _ in range(900)
    ]
    queries = [
        wq.Phrase("body", ["物业", "费", "上涨"]),
        wq.Phrase("body", ["路灯", "路灯"]),
        wq.Phrase("grams", ["工资", "资噪"]),
        wq.Phrase("grams", ["公交", "交班", "班次"]),
        wq.And([wq.Term("body", "小区"), wq.Phrase("body", ["停车", "噪音"])]),
    ]
    results = []
    for legacy in (False, True):
        schema = index.build_schema()
        for name in ("body", "grams"):
            assert isinstance(schema[name].format, index.PackedPositions)
            if legacy:
                schema[name].format = formats.Positions(field_boost=schema[name].format.field_boost)
        folder = tmp_path / ("legacy" if legacy else "packed")
        folder.mkdir()
        ix = FileStorage(str(folder)).create().create_index(schema)
        for start in range(0, len(texts), 300):  # three segments
            writer = ix.writer()
            for n in range(start, start + 300):
                writer.add_document(
                    message_id=str(n),
                    code=f"MS-{n}",
                    body=texts[n],
                    grams=texts[n],
                    published_on=datetime(2026, 1, 1) + timedelta(hours=n),
                    cosigns=n % 5,
                    reply_days=-1,
                    **dict.fromkeys(("kind", "domain", "state", "year", "top_region"), "x"),
                )
            writer.commit(merge=False)
        writer = ix.writer()
        for n in range(0, 300, 7):
            writer.delete_by_term("message_id", str(n))
        writer.commit(merge=False)
        with ix.searcher() as searcher:
            assert len(searcher.leaf_searchers()) == 3
            found = []
            for q in queries:
                mine = fast.matches(searcher, q)
                docs, scores = fast.ranked(searcher, q, mine, limit=1000)
                whoosh = searcher.search(q, limit=None)
                expected = {hit.docnum: hit.score for hit in whoosh}
                assert sorted(docs) == sorted(expected), q
                assert all(
                    abs(s - expected[d]) < 1e-5 for d, s in zip(docs, scores, strict=True)
                ), q
                keys = [searcher.stored_fields(d)["message_id"] for d in docs]
                found.append((sorted(keys), [round(s, 5) for s in scores]))
                assert docs, q  # the vocabulary makes every query match somewhere
            results.append(found)
    assert results[0] == results[1]


def _random_documents(count: int, seed: int) -> list[dict]:
    """Documents of the real schema with repeated words, long and short fields, and the
    filter fields, so that posting lists span several blocks."""
    rng = random.Random(seed)
    vocabulary = (
        "物业费 上涨 路灯 不亮 公交 班次 拖欠 工资 噪音 油烟 小区 停车 3号楼 Wi-Fi 的".split()
    )

    def text(parts: int) -> str:
        return "，".join(
            "".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 6))) for _ in range(parts)
        )

    documents = []
    for n in range(count):
        title, body = text(1), text(rng.choice([1, 3, 8, 40]))
        reply = text(rng.randint(1, 4)) if rng.random() < 0.6 else ""
        documents.append(
            {
                "message_id": str(n),
                "code": f"MS-2026-{n:06d}",
                "code_text": f"MS-2026-{n:06d}",
                "title": title,
                "body": body,
                "reply": reply,
                "grams": "\n".join((title, body, reply)),
                "region": "330000 330100",
                "region_name": "浙江省 杭州市",
                "board": "330100-secretary",
                "board_title": "杭州市委书记",
                "kind": rng.choice(["complaint", "advice"]),
                "domain": rng.choice(["housing", "transport"]),
                "state": "closed",
                "replied": bool(reply),
                "published_on": datetime(2026, 1, 1) + timedelta(hours=n),
                "year": "2026",
                "top_region": "330000",
                "cosigns": n % 7,
                "reply_days": n % 11 if reply else -1,
                "stamp": str(n),
            }
        )
    return documents


def _segment_terms(reader) -> dict:
    """Every term of a segment with its term info and postings, block by block."""
    out = {}
    for fieldname, tbytes in reader.all_terms():
        info = reader.term_info(fieldname, tbytes)
        matcher = reader.postings(fieldname, tbytes)
        postings = []  # each posting with the statistics of its block
        while matcher.is_active():
            postings.append(
                (
                    matcher.id(),
                    matcher.weight(),
                    matcher.value(),
                    matcher.block_min_length(),
                    matcher.block_max_length(),
                    matcher.block_max_weight(),
                    matcher.block_max_id(),
                )
            )
            matcher.next()
        out[fieldname, tbytes] = (
            info.weight(),
            info.doc_frequency(),
            info.min_length(),
            info.max_length(),
            info.max_weight(),
            info.min_id(),
            info.max_id(),
            postings,
        )
    return out


def test_bulk_writer_writes_the_segment_whoosh_writes(tmp_path, monkeypatch):
    """The bulk writer's segment holds the same terms, term infos, blocks and postings as
    Whoosh's own writer's, with runs spilled to disk and merged, and searches the same."""
    from whoosh import query as wq

    from board.search.engine import fast, postings
    from board.search.engine.segment import BulkWriter, CompactTermTable

    documents = _random_documents(700, 21)
    readers = []
    for bulk in (False, True):
        folder = tmp_path / ("bulk" if bulk else "whoosh")
        folder.mkdir()
        ix = index.create_index(folder)
        if bulk:
            writer = BulkWriter(ix, compound=False, spill_postings=3000)
            # Bounded memory: the term table in arrays, Whoosh's pool spilling early.
            assert isinstance(writer.fieldwriter._tindex, CompactTermTable)
            assert writer.pool.limit == BulkWriter.POOL_LIMIT_MB * 2**20 < 128 * 2**20
        else:
            writer = index.writer(ix)
        for document in documents:
            writer.add_document(**document)
        if bulk:
            assert len(writer._runs) > 5  # several runs merged
        writer.commit()
        readers.append(ix.searcher())
    whoosh, ours = readers
    assert list(whoosh.reader().all_terms()) == list(ours.reader().all_terms())
    expected, found = _segment_terms(whoosh.reader()), _segment_terms(ours.reader())
    assert found.keys() == expected.keys()
    for key in expected:
        assert found[key] == expected[key], key
    longest = max(expected.values(), key=lambda v: len(v[-1]))
    assert len(longest[-1]) > 3 * 128  # several blocks
    assert len({v[3] for v in expected.values()}) > 10  # many different field lengths
    for fieldname in ("title", "body", "grams"):
        assert whoosh.avg_field_length(fieldname) == ours.avg_field_length(fieldname)
        assert whoosh.field_length(fieldname) == ours.field_length(fieldname)
    for q in (wq.Phrase("body", ["物业", "费", "上涨"]), wq.Term("title", "路灯")):
        mine = [(h.docnum, round(h.score, 6)) for h in ours.search(q, limit=None)]
        assert mine == [(h.docnum, round(h.score, 6)) for h in whoosh.search(q, limit=None)]
        assert fast.matches(ours, q).total == len(mine) > 0
    # Terms of more than one block carry their arrays after the blocks (invisible to Whoosh,
    # compared above): reading them equals reading the blocks, positions and weights included.
    blob_terms = 0
    for fieldname, tbytes in ours.reader().all_terms():
        if not isinstance(ours.schema[fieldname], (TEXT, ID)):  # numbers: shifted trie terms
            continue
        text = ours.schema[fieldname].from_bytes(tbytes)
        fmt = ours.schema[fieldname].format
        with_positions = fmt.supports("positions")
        direct = postings.read_postings(ours, fieldname, text, positions=with_positions)
        monkeypatch.setattr(postings, "term_arrays", lambda *args, **kwargs: None)
        blocks = postings.read_postings(ours, fieldname, text, positions=with_positions)
        monkeypatch.undo()
        assert direct.ids.tolist() == blocks.ids.tolist(), (fieldname, text)
        assert direct.weights.tolist() == blocks.weights.tolist(), (fieldname, text)
        if with_positions:
            assert direct.starts.tolist() == blocks.starts.tolist()
            assert direct.flat.tolist() == blocks.flat.tolist()
        blob_terms += ours.reader().doc_frequency(fieldname, tbytes) >= 128
    assert blob_terms > 20
    for searcher in readers:
        searcher.close()


def test_direct_term_positions_equal_the_tokenizers_tokens():
    """Index builds take each term's positions straight from the tokenizers; the same terms
    and positions as the tokens Whoosh's path reads, mixed scripts, marks and gaps included."""
    from collections import defaultdict

    from board.search.analysis import BigramTokenizer, analyzer

    rng = random.Random(17)
    pieces = [
        "物业费",
        "上涨",
        "，",
        " ",
        "3号楼2单元",
        "PM2.5",
        "10%",
        "Ｗｉ－Ｆｉ",
        "的",
        "。",
        "路",
        "a",
    ]
    texts = ["", "，", "路", "路。灯"] + [
        "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30))) for _ in range(300)
    ]
    for tokenizer in (analyzer(), BigramTokenizer()):
        for text in texts:
            expected = defaultdict(list)
            for token in tokenizer(text, positions=True, mode="index"):
                expected[token.text].append(token.pos)
            assert tokenizer.term_positions(text) == dict(expected), text


def test_posting_arrays_round_trip_in_16_and_32_bits():
    """The arrays after a term's blocks come back exactly, each in 16 bits when it fits and
    in 32 when not (gaps over 65,535 documents, positions over 65,535 in a long text)."""
    import io
    from array import array as make_array

    from whoosh.filedb.structfile import StructFile

    from board.search.engine.segment import ARRAYS_MAGIC, _append_arrays, term_arrays

    rng = random.Random(23)
    for wide in (False, True):
        top = 5_000_000 if wide else 60_000
        docs = sorted(rng.sample(range(top), 300))
        counts = [rng.randint(1, 4) for _ in docs]
        positions = [p for c in counts for p in sorted(rng.sample(range(top), c))]
        for with_positions in (True, False):
            handle = StructFile(io.BytesIO())
            handle.write(b"blocks")
            start = handle.tell()
            _append_arrays(
                handle,
                make_array("I", docs),
                make_array("I", counts) if with_positions else None,
                struct.pack(f"<{len(positions)}I", *positions) if with_positions else b"",
            )
            end = handle.tell()  # (reads move the file's position)
            assert handle.get(end - 8, 8) == ARRAYS_MAGIC  # positions in a stream of their own
            found = term_arrays(handle, 0, end)
            assert found is not None and found[0].tolist() == docs
            if with_positions:
                assert found[1].tolist() == counts and found[2].tolist() == positions
                # Without positions, only the first stream is read.
                light = term_arrays(handle, 0, end, positions=False)
                assert light[0].tolist() == docs and light[1].tolist() == counts
                assert light[2] is None
            else:
                assert found[1] is None and found[2] is None
            assert term_arrays(handle, 0, start) is None  # no trailer there


def test_posting_arrays_of_version_1_still_read():
    """Indexes built before the positions had a stream of their own (one zlib stream of
    gaps, counts and positions, a 28-byte trailer) read as before."""
    import io
    import zlib

    from whoosh.filedb.structfile import StructFile

    from board.search.engine.segment import _TRAILER_V1, ARRAYS_MAGIC_V1, term_arrays

    docs, counts, positions = [3, 7, 70_000], [2, 1, 3], [1, 9, 4, 0, 5, 70_001]
    gaps = struct.pack("<3I", 3, 4, 69_993)  # 32-bit gaps, 16-bit counts, 32-bit positions
    raw = gaps + struct.pack("<3H", *counts) + struct.pack("<6I", *positions)
    blob = zlib.compress(raw)
    handle = StructFile(io.BytesIO())
    handle.write(b"blocks" + blob)
    handle.write(_TRAILER_V1.pack(3, 6, len(blob), len(raw), 1 | 4, ARRAYS_MAGIC_V1))
    end = handle.tell()
    for with_positions in (True, False):
        found = term_arrays(handle, 0, end, positions=with_positions)
        assert found[0].tolist() == docs and found[1].tolist() == counts
        assert (found[2].tolist() if with_positions else found[2]) == (
            positions if with_positions else None
        )


def test_docnum_unions_and_intersections_equal_numpys():
    """The per-segment set operations (sorted merges for few documents, a flag per document
    for many) equal numpy's sort-based ones."""
    import numpy as np

    from board.search.engine import docsets

    rng = np.random.default_rng(8)
    for doccount in (50, 10_000):
        for density in (0.001, 0.05, 0.6):
            parts = [
                np.flatnonzero(rng.random(doccount) < density).astype(np.int64) for _ in range(3)
            ]
            union = docsets.union(parts, doccount)
            assert union.tolist() == np.unique(np.concatenate(parts)).tolist()
            both = docsets.intersection(parts[0], parts[1], doccount)
            assert both.tolist() == np.intersect1d(parts[0], parts[1]).tolist()
            left = docsets.difference(parts[0], parts[1], doccount)
            assert left.tolist() == np.setdiff1d(parts[0], parts[1]).tolist()
            assert docsets.union(parts[:1], doccount) is parts[0]


def test_compact_term_table_writes_whooshs_file_byte_for_byte(tmp_path):
    """`CompactTermTable` keeps the term table's hash entries in arrays and writes the file
    Whoosh's `OrderedHashWriter` writes, collisions (linear probing) included; Whoosh's reader
    finds every key in it."""
    from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter

    from board.search.engine.segment import CompactTermTable

    rng = random.Random(5)
    keys = sorted({rng.randbytes(rng.randint(1, 12)) for _ in range(20_000)})
    items = [(key, rng.randbytes(rng.randint(0, 30))) for key in keys]
    storage = FileStorage(str(tmp_path))
    for name, compact in (("whoosh", False), ("ours", True)):
        writer = OrderedHashWriter(storage.create_file(name))
        if compact:
            writer = CompactTermTable.adopt(writer)
        for key, value in items:
            writer.add(key, value)
        writer.close()
    assert (tmp_path / "ours").read_bytes() == (tmp_path / "whoosh").read_bytes()
    reader = OrderedHashReader.open(storage, "ours")
    assert all(reader[key] == value for key, value in items[::7])
    assert b"\xff" * 13 not in reader
    assert list(reader.keys())[:100] == keys[:100]
    reader.close()
    with_entries = OrderedHashWriter(storage.create_file("used"))
    with_entries.add(b"a", b"")
    with pytest.raises(TypeError):
        CompactTermTable.adopt(with_entries)
    compact = CompactTermTable.adopt(OrderedHashWriter(storage.create_file("order")))
    compact.add(b"b", b"")
    with pytest.raises(ValueError):
        compact.add(b"a", b"")


def test_phrases_keep_finding_after_their_positions_leave_the_cache(tmp_path):
    """Once a phrase's documents are found, its words' cached postings keep their documents
    and weights but not their positions; a later phrase over the same words reads the
    positions again and still finds exactly what Whoosh finds."""
    from whoosh import query as wq

    from board.search.engine import fast, postings
    from board.search.engine.segment import BulkWriter

    ix = index.create_index(tmp_path)
    writer = BulkWriter(ix, compound=False)
    for document in _random_documents(900, 4):
        writer.add_document(**document)
    writer.commit()
    postings._postings_cache.clear()
    postings._postings_bytes = 0
    postings._phrase_cache.clear()
    with ix.searcher() as searcher:
        for words in (["物业", "费", "上涨"], ["费", "上涨"], ["上涨", "路灯"], ["费", "上涨"]):
            q = wq.Phrase("body", words)
            expected = sorted(hit.docnum for hit in searcher.search(q, limit=None))
            assert fast.matches(searcher, q).parts[0][3].tolist() == expected, words
            assert len(expected) > 5
            cached = [
                found
                for key, found in postings._postings_cache.items()
                if key[-2] == "body" and key[-1] in words
            ]
            assert cached and all(found.flat is None and found.ids.size for found in cached)
        assert postings._postings_bytes == sum(
            map(postings._size, postings._postings_cache.values())
        )
