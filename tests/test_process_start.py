"""What every process pays when it starts: jieba's dictionary read in one piece, and no
spreadsheet library imported with the app."""

from __future__ import annotations

import marshal
import subprocess
import sys
from pathlib import Path

import jieba
import pytest

from board.search import analysis

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """A folder holding the default dictionary's cache, as jieba writes it."""
    folder = tmp_path_factory.mktemp("jieba")
    reference = jieba.Tokenizer()
    analysis.initialize(reference)
    (folder / "jieba.cache").write_bytes(marshal.dumps((reference.FREQ, reference.total)))
    return folder


def test_the_default_dictionary_comes_from_jiebas_cache(cache_dir, monkeypatch):
    """The cache jieba keeps is read whole, without jieba's own (slow) load: the same words and
    total as jieba's load, and the same segmentation."""
    ours = jieba.Tokenizer()
    ours.tmp_dir = str(cache_dir)
    monkeypatch.setattr(ours, "initialize", lambda *a: pytest.fail("jieba's own load was used"))
    analysis.initialize(ours)
    monkeypatch.undo()
    theirs = jieba.Tokenizer()
    theirs.tmp_dir = str(cache_dir)
    theirs.initialize()
    assert ours.initialized
    assert ours.total == theirs.total and ours.FREQ == theirs.FREQ
    text = "杭州市西湖区小区物业乱收停车费，业主多次反映无果"
    assert ours.lcut(text) == theirs.lcut(text)


def test_a_cache_named_by_the_tokenizer_is_read(cache_dir, tmp_path_factory, monkeypatch):
    """`cache_file` names the cache, as in jieba (an absolute path wins over `tmp_dir`)."""
    ours = jieba.Tokenizer()
    ours.tmp_dir = str(tmp_path_factory.mktemp("elsewhere"))
    ours.cache_file = str(cache_dir / "jieba.cache")
    monkeypatch.setattr(ours, "initialize", lambda *a: pytest.fail("jieba's own load was used"))
    analysis.initialize(ours)
    assert ours.initialized and ours.FREQ["停车费"] > 0


@pytest.mark.parametrize("content", [b"", b"not marshal", marshal.dumps(["a list"])])
def test_a_bad_or_missing_cache_is_left_to_jieba(tmp_path, monkeypatch, content):
    """A cache that cannot be read (or holds something else) is left to jieba, which builds it."""
    if content:
        (tmp_path / "jieba.cache").write_bytes(content)
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(tmp_path)
    called = []
    monkeypatch.setattr(tokenizer, "initialize", lambda: called.append(True))
    analysis.initialize(tokenizer)
    assert called == [True]
    assert not tokenizer.initialized and tokenizer.FREQ == {}


def test_a_custom_dictionary_is_left_to_jieba(tmp_path):
    """Only the default dictionary's cache is read here: jieba checks a custom one's date."""
    words = tmp_path / "dict.txt"
    words.write_text("停车费 300 n\n物业 200 n\n", encoding="utf-8")
    tokenizer = jieba.Tokenizer(str(words))
    tokenizer.tmp_dir = str(tmp_path)
    analysis.initialize(tokenizer)
    assert tokenizer.initialized
    assert tokenizer.total == 500 and tokenizer.FREQ["停车费"] == 300


def test_booting_the_app_leaves_the_spreadsheet_library_unloaded():
    """openpyxl (~0.3 s of CPU to import) is imported by the commands that read a workbook,
    not by every process that creates the app (web masters, cron ticks, each CLI command)."""
    script = (
        "import sys\nfrom board import create_app\ncreate_app()\nprint('openpyxl' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False", done.stderr[-2000:]
