"""`flask suggest taxonomy | train | evaluate`: load the topic tree, train and measure the model."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..clioptions import setup_log_option
from . import classifier, services, taxonomy

TIPDM = "tipdm2020c"
suggest_cli = AppGroup("suggest", help="Topic taxonomy and the topic model.")


def _data(name: str) -> Path:
    """A file of ../shared/data/tipdm2020c, or a clear error when it is missing."""
    path = classifier.data_dir() / TIPDM / name
    if not path.exists():
        raise click.ClickException(f"{path} not found (set BOARD_SHARED_DATA to the data folder)")
    return path


class Progress:
    """Steps printed with the seconds since the start, so a long run shows where it is."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, text: str) -> None:
        click.echo(f"[{time.perf_counter() - self.started:6.1f}s] {text}")


@suggest_cli.command("taxonomy")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
def taxonomy_command(file: str | None) -> None:
    """Load the three-level topic tree (labels.xlsx by default); existing topics are kept."""
    path = Path(file) if file else _data("labels.xlsx")
    rows = taxonomy.read_label_rows(path)
    added = taxonomy.load_taxonomy(rows)
    click.echo(f"topics: {added} added from {len(rows)} rows of {path.name}")


def _sources(stopwords: frozenset[str], progress: Progress) -> list:
    """The training sources: the labelled words, the labelled sample, the platform's own."""
    sources = [
        (
            "messages_labelled_tokens.csv",
            lambda: classifier.read_token_csv(_data("messages_labelled_tokens.csv")),
        )
    ]
    sample = classifier.data_dir() / TIPDM / "messages_labelled_sample.xlsx"
    if sample.exists():
        sources.append(
            (
                "messages_labelled_sample.xlsx",
                lambda: classifier.read_labelled_xlsx(sample, stopwords),
            )
        )
    sources.append(
        ("platform (citizen/staff topics)", lambda: services.platform_examples(stopwords))
    )
    return sources


def _names(progress) -> dict[str, list[str]] | None:
    """The topic tree's names (labels.xlsx) as the model's extra features, when the file is there."""
    path = classifier.data_dir() / TIPDM / "labels.xlsx"
    if not path.exists():
        return None
    names = classifier.topic_names(taxonomy.read_label_rows(path))
    progress(f"labels.xlsx: {len(names)} topic names")
    return names


def _train(progress) -> None:
    """Read the sources, fit the model and write it (with the data's fingerprint)."""
    stopwords = classifier.read_stopwords(_data("stopwords_zh.txt"))
    progress(f"stopwords: {len(stopwords)}")
    examples, counts = classifier.gather(_sources(stopwords, progress), progress)
    progress(f"training on {len(examples)} messages, {len(set(examples.labels))} topics…")
    small = bool(current_app.config.get("SUGGEST_SMALL_MODEL"))  # tests: tiny data
    model = classifier.train(
        examples, stopwords, sources=counts, small=small, names=_names(progress)
    )
    model.fingerprint = classifier.data_fingerprint(classifier.data_dir() / TIPDM)
    path = classifier.model_path()
    classifier.save(model, path)
    progress(f"model written to {path}")


@suggest_cli.command("train")
def train_command() -> None:
    """Train the topic model on the real archives and the platform's own topics (CPU, ~1 min)."""
    _train(Progress())


@suggest_cli.command("setup")
@setup_log_option
def setup_command(log_path: Path | None) -> None:
    """`make run`'s topic setup (run in the background): the topic tree and the topic model from
    the shared data folder, each only when missing — the model also when the data files or the
    model's version changed. Without the data folder it says so and does nothing."""
    from ..seed.cli import SetupLog

    log = SetupLog(log_path or Path(current_app.instance_path) / "setup.log")
    try:
        folder = classifier.data_dir() / TIPDM
        if not (folder / "messages_labelled_tokens.csv").exists():
            log.say(f"  topics: no data at {folder}; topic suggestions stay off")
            return
        if not taxonomy.topic_tree() and (folder / "labels.xlsx").exists():
            added = taxonomy.load_taxonomy(taxonomy.read_label_rows(folder / "labels.xlsx"))
            log.say(f"  topic tree: {added} topics loaded from labels.xlsx")
        model = classifier.load()
        if model is not None and model.fingerprint == classifier.data_fingerprint(folder):
            log.say(f"  topic model: up to date ({classifier.model_path()})")
            return
        log.say("  topic model: training (first start or new data; progress below)")
        started = time.perf_counter()
        _train(lambda text: log.say(f"    [{time.perf_counter() - started:6.1f}s] {text}"))
        log.say(f"  topic model: ready after {time.perf_counter() - started:.0f} s")
    finally:
        log.close()


def _score(progress, name: str, model: classifier.TopicModel, examples) -> None:
    """Print the macro-F1 of `model` on `examples`, then the F1 of each topic."""
    f1, per_label = classifier.macro_f1(model.pipeline, examples)
    progress(f"{name} macro-F1 {f1:.4f}")
    for label, value in per_label.items():
        click.echo(f"    {label}: {value:.4f}")


@suggest_cli.command("evaluate")
@click.option("--threshold", default=0.5, show_default=True, help="near-duplicate word overlap")
def evaluate_command(threshold: float) -> None:
    """Macro-F1 on a held-out 20% (stratified, seeded), on the same 20% with the training rows
    that nearly repeat a held-out row removed, and on real messages never trained on."""
    progress = Progress()
    small = bool(current_app.config.get("SUGGEST_SMALL_MODEL"))  # tests: tiny data
    stopwords = classifier.read_stopwords(_data("stopwords_zh.txt"))
    tokens = classifier.read_token_csv(_data("messages_labelled_tokens.csv"))
    names = _names(progress)
    train_set, dedup_train, test_set = classifier.deduplicated_split(tokens, threshold)
    progress(f"held-out split: train {len(train_set)}, test {len(test_set)}")
    model = classifier.train(train_set, stopwords, small=small, names=names)
    _score(progress, "held-out", model, test_set)
    progress(
        f"held-out, deduplicated: train {len(dedup_train)}; {len(train_set) - len(dedup_train)}"
        f" training rows overlapping a held-out row by > {threshold:.0%} of words removed"
    )
    model = classifier.train(dedup_train, stopwords, small=small, names=names)
    _score(progress, "held-out, deduplicated", model, test_set)
    sample = classifier.read_labelled_xlsx(_data("messages_labelled_sample.xlsx"), stopwords)
    unseen = classifier.without_near_duplicates(tokens, sample, threshold)
    progress(
        f"unseen: {len(sample)} real messages (labelled sample); {len(tokens) - len(unseen)}"
        f" training rows overlapping them by > {threshold:.0%} of words removed"
    )
    model = classifier.train(unseen, stopwords, small=small, names=names)
    _score(progress, "unseen", model, sample)
    texts = _raw_sample(_data("messages_labelled_sample.xlsx"))
    wall, cpu = classifier.timed_inference(model, texts)
    progress(
        f"inference: {wall:.2f} ms per message wall clock, {cpu:.2f} ms CPU"
        f" (mean over {len(texts)})"
    )


def _raw_sample(path: Path) -> list[tuple[str, str]]:
    """(title, body) of the labelled sample, for timing inference on raw text."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = [str(c or "").strip() for c in next(rows)]
    title, body = header.index("留言主题"), header.index("留言详情")
    found = [
        (str(row[title]), str(row[body] or "").strip())
        for row in rows
        if row and len(row) > body and row[title]
    ]
    workbook.close()
    return found
