"""Backup and restore timings on a seeded site: `flask backup create`, `verify`, and `restore`
into a fresh database (with the search index rebuild it ends with), for SQLite and PostgreSQL.

    .venv/bin/python bench/backup_bench.py --messages 10000 100000 --database both

Each size is seeded with `flask seed demo --messages N` (bulk inserts) plus `--attachments`
files in the database (random bytes of the size of a phone photo after re-encoding, 150 kB by
default). Prints one JSON line per step and writes DIR/results.json; the machine's load average
is recorded with each step (see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

from common import ROOT, bench_env, load

POSTGRES = os.environ.get(
    "BOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
FLASK = str(ROOT / ".venv" / "bin" / "flask")
PYTHON = str(ROOT / ".venv" / "bin" / "python")

ADD_ATTACHMENTS = """
import hashlib, os, sys
from datetime import datetime
from sqlalchemy import select
from board import create_app
from board.attachments.models import Attachment, AttachmentBlob
from board.extensions import db
from board.models import Message

count, size = int(sys.argv[1]), int(sys.argv[2])
app = create_app()
with app.app_context():
    messages = db.session.execute(select(Message.id, Message.author_id).limit(count)).all()
    for n, (message_id, author_id) in enumerate(messages):
        data = os.urandom(size)
        row = Attachment(message_id=message_id, uploader_id=author_id, kind="image",
                         content_type="image/jpeg", is_public=True,
                         stored_name=os.urandom(16).hex() + ".jpg", original_name=f"{n}.jpg",
                         size=size, sha256=hashlib.sha256(data).hexdigest(), width=1200,
                         height=900, created_at=datetime(2026, 11, 1), storage="database")
        row.blob = AttachmentBlob(data=data)
        db.session.add(row)
        if n % 100 == 99:
            db.session.commit()
    db.session.commit()
"""


def _pg_database(name: str, action: str) -> str:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


def _timed(env: dict, *args: str) -> tuple[float, dict[str, float], str]:
    """Run `flask ARGS`: wall seconds, the second each progress stage started, the output."""
    started = time.perf_counter()
    stages: dict[str, float] = {}
    child = subprocess.Popen(
        [FLASK, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    for line in child.stderr:
        stage = line.strip().rsplit(":", 1)[0]
        stages.setdefault(stage, round(time.perf_counter() - started, 1))
    out = child.stdout.read()
    if child.wait() != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{out}")
    return time.perf_counter() - started, stages, out


def run_one(engine: str, messages: int, files: int, file_size: int, directory: Path) -> dict:
    """Seed a site of `messages` messages, back it up, verify, restore into a fresh database."""
    tag = f"{engine}-{messages}"
    work = directory / tag
    names = []
    try:
        if engine == "sqlite":
            source_url, target_url = None, f"sqlite:///{work / 'restored' / 'board.sqlite'}"
        else:
            names = [f"minsheng_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
            source_url, target_url = (_pg_database(name, "create") for name in names)
        env = bench_env(work / "site", source_url)
        subprocess.run([FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run(
            [FLASK, "seed", "regions"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        seeded = time.perf_counter()
        subprocess.run(
            [FLASK, "seed", "demo", "--messages", str(messages), "--now", "2026-11-01T09:00:00"],
            env=env, cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run([PYTHON, "-c", ADD_ATTACHMENTS, str(files), str(file_size)], env=env,
                       cwd=ROOT, check=True)  # fmt: skip
        seed_s = time.perf_counter() - seeded
        archive = work / "site.tar"
        result = {"engine": engine, "messages": messages, "attachments": files,
                  "attachment_bytes": files * file_size, "seed_s": round(seed_s, 1),
                  "load_before": load()}  # fmt: skip
        if engine == "sqlite":
            database = Path(env["BOARD_SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
            result["database_mb"] = round(database.stat().st_size / 2**20, 1)
        wall, stages, out = _timed(env, "backup", "create", str(archive))
        result["create_s"] = round(wall, 1)
        result["archive_mb"] = round(archive.stat().st_size / 2**20, 1)
        result["rows"] = int(next(line for line in out.splitlines() if "rows:" in line).split()[2])
        wall, stages, out = _timed(env, "backup", "verify", str(archive))
        result["verify_s"] = round(wall, 1)
        target = bench_env(work / "restored", target_url)
        wall, stages, out = _timed(target, "backup", "restore", str(archive))
        result["restore_s"] = round(wall, 1)
        rebuild_started = stages.get("rebuilding the search index (messages)")
        if rebuild_started is not None:
            result["restore_database_s"] = rebuild_started
            result["restore_index_s"] = round(wall - rebuild_started, 1)
        result["index_documents"] = int(out.strip().rsplit(" ", 2)[-2])
        result["load_after"] = load()
        return result
    finally:
        for name in names:
            _pg_database(name, "drop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/minsheng-backup-bench"))
    parser.add_argument("--messages", type=int, nargs="+", default=[10_000])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--attachments", type=int, default=200)
    parser.add_argument("--attachment-size", type=int, default=150_000)
    args = parser.parse_args()
    engines = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    args.dir.mkdir(parents=True, exist_ok=True)
    results = []
    print(f"# {datetime.now():%Y-%m-%d %H:%M} {os.cpu_count()} cores, load {load()}", flush=True)
    for messages in args.messages:
        for engine in engines:
            result = run_one(engine, messages, args.attachments, args.attachment_size, args.dir)
            print(json.dumps(result, ensure_ascii=False), flush=True)
            results.append(result)
    (args.dir / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
