"""Backups: one tar archive holding the database, the attachment files still on disk and a
manifest with the row count of every table and the SHA-256 of every member.

SQLite is copied with its online backup API (a consistent snapshot while the site runs; in WAL
mode writers are not blocked). PostgreSQL is dumped with `pg_dump --format=custom` inside an
exported snapshot, so the manifest's counts and the dump see the same instant. Attachments kept
in the database come with it; files on disk (uploads from before) are added beside it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text

from ..attachments import services as attachments
from ..extensions import db
from ..search import indexer

FORMAT = "minsheng-backup"
VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
SQLITE_MEMBER = "database.sqlite.gz"
POSTGRES_MEMBER = "database.pgdump"
UPLOADS = "uploads/"
CHUNK = 1 << 20

# (stage, done, total): what a long step has done so far, for the command's progress lines.
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """A backup that cannot be made, checked or restored; the message says why."""


@dataclass
class Summary:
    """What an archive holds (from its manifest), and where it is."""

    path: Path
    engine: str
    created_at: str
    schema_revision: str | None
    tables: dict[str, int]
    attachment_files: int
    missing_files: list[str]
    size: int


@dataclass
class RestoreReport:
    """What a restore put into the database and the index."""

    summary: Summary
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    index_documents: int = 0


def _quiet(stage: str, done: int, total: int) -> None:
    """The progress callback of a caller that shows none."""


# --- where things are --------------------------------------------------------------------------


def engine_kind() -> str:
    """ "sqlite" or "postgresql": the database the app is configured with."""
    name = db.engine.url.get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _libpq() -> tuple[str, dict[str, str]]:
    """The database as a libpq URL without its password, and the environment carrying it."""
    url = db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def default_path() -> Path:
    """Where `flask backup create` writes without a PATH: BACKUP_DIR (default
    <instance>/backups), named after the time."""
    folder = Path(
        current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups"
    )
    return folder / f"minsheng-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar"


def _tool(name: str) -> str:
    """The path of a PostgreSQL client program (PG_BIN_DIR, else the PATH)."""
    folder = current_app.config.get("PG_BIN_DIR")
    found = str(Path(folder) / name) if folder else shutil.which(name)
    if not found or not Path(found).is_file():
        raise BackupError(f"{name} not found: install the PostgreSQL client or set PG_BIN_DIR")
    return found


def _tool_major(program: str) -> int:
    output = subprocess.run([program, "--version"], capture_output=True, text=True, check=True)  # noqa: S603
    found = re.search(r"(\d+)(?:\.\d+)?", output.stdout)
    if not found:
        raise BackupError(f"cannot read the version of {program}: {output.stdout.strip()}")
    return int(found.group(1))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _table(name: str) -> str:
    """A table name quoted for SQL; names come from catalogs and manifests, so only plain
    lower-case identifiers (all the schema has) are accepted."""
    if not _TABLE_NAME.fullmatch(name):
        raise BackupError(f"unexpected table name {name!r}")
    return f'"{name}"'


def _counts(execute: Callable[[str], list[tuple]], names: list[str]) -> dict[str, int]:
    return {n: int(execute(f"SELECT count(*) FROM {_table(n)}")[0][0]) for n in sorted(names)}  # noqa: S608


def _revision(execute: Callable[[str], list[tuple]], names: list[str]) -> str | None:
    if "alembic_version" not in names:
        return None  # a schema made by create_all (tests)
    rows = execute("SELECT version_num FROM alembic_version")
    return rows[0][0] if rows else None


# --- create ------------------------------------------------------------------------------------


def _sqlite_snapshot(target: Path, progress: Progress) -> tuple[dict, list[str]]:
    """Copy the live SQLite database into `target` with the online backup API; its manifest
    facts and the attachments whose bytes are on disk, read from the copy."""
    source = sqlite3.connect(_sqlite_path(), timeout=30)
    copy = sqlite3.connect(target)
    try:
        # One step: a read transaction over the whole copy (WAL: writers go on meanwhile), so
        # the copy is one instant of the database however busy the site is.
        source.backup(copy, pages=-1)
        progress("database copied", 1, 1)
        execute = lambda sql: copy.execute(sql).fetchall()  # noqa: E731
        names = [r[0] for r in execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )]  # fmt: skip
        facts = {"tables": _counts(execute, names), "schema_revision": _revision(execute, names)}
        on_disk = [r[0] for r in execute(
            "SELECT stored_name FROM attachment WHERE storage = 'disk' ORDER BY id"
        )]  # fmt: skip
    finally:
        copy.close()
        source.close()
    return facts, on_disk


def _gzip(source: Path, target: Path, progress: Progress) -> None:
    total = source.stat().st_size
    done = 0
    with open(source, "rb") as raw, gzip.open(target, "wb", compresslevel=3) as packed:
        while chunk := raw.read(CHUNK * 8):
            packed.write(chunk)
            done += len(chunk)
            progress("compressing the database (bytes)", done, total)


def _postgres_dump(target: Path, progress: Progress) -> tuple[dict, list[str]]:
    """pg_dump the database into `target` inside an exported snapshot, counting the rows of
    every table in that same snapshot."""
    import psycopg

    pg_dump = _tool("pg_dump")
    url, env = _libpq()
    with psycopg.connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        server = conn.info.server_version // 10000
        if _tool_major(pg_dump) < server:
            raise BackupError(
                f"{pg_dump} is older than the server (PostgreSQL {server}): "
                "install the matching client or set PG_BIN_DIR"
            )
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        execute = lambda sql: conn.execute(sql).fetchall()  # noqa: E731
        names = [r[0] for r in execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )]  # fmt: skip
        facts = {
            "tables": _counts(execute, names),
            "schema_revision": _revision(execute, names),
            "server_version": conn.info.server_version,
        }
        on_disk = [r[0] for r in execute(
            "SELECT stored_name FROM attachment WHERE storage = 'disk' ORDER BY id"
        )]  # fmt: skip
        command = [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner",
                   "--no-privileges", "--verbose", f"--file={target}", f"--dbname={url}"]  # fmt: skip
        _run_counting(command, env, "dumping contents of table", "dumping tables", len(names),
                      progress)  # fmt: skip
        conn.rollback()
    return facts, on_disk


def _run_counting(
    command: list[str], env: dict, marker: str, stage: str, total: int, progress: Progress
) -> None:
    """Run a PostgreSQL client, counting the verbose lines that start a table as progress."""
    done = 0
    lines: list[str] = []
    with subprocess.Popen(  # noqa: S603 (a PostgreSQL client, arguments built here)
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as child:
        for line in child.stderr:
            lines.append(line.rstrip())
            if marker in line:
                done += 1
                progress(stage, min(done, total), total)
    if child.returncode != 0:
        errors = [line for line in lines if "error" in line.lower()] or lines[-5:]
        raise BackupError(f"{Path(command[0]).name} failed: " + " | ".join(errors[-5:]))


def create(path: Path | None = None, progress: Progress = _quiet) -> Summary:
    """Write a backup archive of the database and the attachment files on disk to `path`
    (atomically: a `.part` file renamed when complete). Safe while the site runs."""
    engine = engine_kind()
    path = Path(path) if path else default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=path.parent) as work:
        work = Path(work)
        if engine == "sqlite":
            snapshot = work / "database.sqlite"
            facts, on_disk = _sqlite_snapshot(snapshot, progress)
            database_member = work / SQLITE_MEMBER
            _gzip(snapshot, database_member, progress)
            snapshot.unlink()
        else:
            database_member = work / POSTGRES_MEMBER
            facts, on_disk = _postgres_dump(database_member, progress)
        files: dict[str, Path] = {database_member.name: database_member}
        missing = []
        for name in on_disk:
            source = attachments.upload_dir() / name[:2] / name
            if source.is_file():
                files[f"{UPLOADS}{name[:2]}/{name}"] = source
            else:
                missing.append(name)
        members = {}
        for n, (member, source) in enumerate(files.items(), 1):
            members[member] = {"size": source.stat().st_size, "sha256": _sha256(source)}
            progress("checksums", n, len(files))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": engine,
            **facts,
            "attachments": {"files": len(files) - 1, "missing_files": missing},
            "members": members,
        }
        body = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode()
        partial = path.with_name(path.name + ".part")
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            _add_bytes(archive, MANIFEST, body)
            _add_bytes(archive, MANIFEST_SUM, hashlib.sha256(body).hexdigest().encode() + b"\n")
            for n, (member, source) in enumerate(files.items(), 1):
                archive.add(source, arcname=member, recursive=False)
                progress("writing the archive (members)", n, len(files))
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    return _summary(path, manifest)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def _summary(path: Path, manifest: dict) -> Summary:
    return Summary(
        path=path,
        engine=manifest["engine"],
        created_at=manifest["created_at"],
        schema_revision=manifest.get("schema_revision"),
        tables=dict(manifest["tables"]),
        attachment_files=manifest["attachments"]["files"],
        missing_files=list(manifest["attachments"]["missing_files"]),
        size=path.stat().st_size,
    )


# --- verify ------------------------------------------------------------------------------------


def _unpack(path: Path, work: Path, progress: Progress) -> dict:
    """Check every member of the archive against the manifest while extracting it into `work`;
    the manifest. Raises BackupError on anything missing, extra, truncated or altered."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with tarfile.open(path, "r:") as archive:
            manifest = _read_manifest(archive, path)
            expected = manifest["members"]
            seen = set()
            for info in archive:
                if info.name in (MANIFEST, MANIFEST_SUM):
                    continue
                if info.name not in expected or not info.isfile() or info.name in seen:
                    raise BackupError(f"{path}: unexpected member {info.name!r}")
                _extract_checked(archive, info, expected[info.name], work, path)
                seen.add(info.name)
                progress("checking members", len(seen), len(expected))
    except (tarfile.TarError, EOFError) as error:
        raise BackupError(f"{path}: damaged or truncated archive ({error})") from None
    absent = sorted(set(expected) - seen)
    if absent:
        raise BackupError(f"{path}: truncated: {len(absent)} members missing ({absent[0]} …)")
    return manifest


def _read_manifest(archive: tarfile.TarFile, path: Path) -> dict:
    def read(name: str) -> bytes:
        try:
            handle = archive.extractfile(name)
        except KeyError:
            handle = None
        if handle is None:
            raise BackupError(f"{path}: not a Minsheng backup (no {name})")
        return handle.read()

    body = read(MANIFEST)
    if read(MANIFEST_SUM).strip().decode("ascii", "replace") != hashlib.sha256(body).hexdigest():
        raise BackupError(f"{path}: the manifest does not match its checksum")
    try:
        manifest = json.loads(body)
    except ValueError:
        raise BackupError(f"{path}: the manifest is not valid JSON") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}")
    return manifest


def _extract_checked(archive, info: tarfile.TarInfo, want: dict, work: Path, path: Path) -> None:
    if info.size != want["size"]:
        raise BackupError(
            f"{path}: {info.name}: {info.size} bytes, the manifest says {want['size']}"
        )
    target = work / info.name
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    source = archive.extractfile(info)
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != want["sha256"]:
        raise BackupError(f"{path}: {info.name} is damaged (its SHA-256 differs from the manifest)")


def _sqlite_unpacked(work: Path, progress: Progress) -> Path:
    """The archived SQLite database, decompressed and checked (integrity and row counts)."""
    target = work / "database.sqlite"
    try:
        with gzip.open(work / SQLITE_MEMBER, "rb") as packed, open(target, "wb") as out:
            shutil.copyfileobj(packed, out, CHUNK)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise BackupError(f"the archived database cannot be decompressed ({error})") from None
    progress("database decompressed", 1, 1)
    return target


def _sqlite_counts(database: Path, names) -> tuple[str, dict[str, int]]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        counts = _counts(lambda sql: conn.execute(sql).fetchall(), list(names))
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the archived database is damaged ({error})") from None
    finally:
        conn.close()
    return check, counts


def _postgres_counts(dump: Path, tables: int, progress: Progress) -> dict[str, int]:
    """Rows per table of a custom-format dump, counted in the COPY data pg_restore writes."""
    pg_restore = _tool("pg_restore")
    counts: dict[str, int] = {}
    table = None
    copy = re.compile(r'^COPY (?:public\.)?"?([^" (]+)"? ')
    with subprocess.Popen(  # noqa: S603
        [pg_restore, "--data-only", "--file=-", str(dump)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        for raw in child.stdout:
            if table is None:
                found = copy.match(raw.decode("utf-8", "replace"))
                if found:
                    table = found.group(1)
                    counts[table] = 0
            elif raw == b"\\.\n":
                progress("counting archived rows (tables)", len(counts), tables)
                table = None
            else:
                counts[table] += 1
        errors = child.stderr.read().decode("utf-8", "replace").strip()
    if child.returncode != 0:
        raise BackupError(f"pg_restore cannot read the dump: {errors[-500:]}")
    return counts


def _check_content(manifest: dict, work: Path, progress: Progress) -> Path:
    """Open the archived database and compare its rows per table with the manifest; the path
    of the database member ready to restore."""
    tables = manifest["tables"]
    if manifest["engine"] == "sqlite":
        database = _sqlite_unpacked(work, progress)
        check, counts = _sqlite_counts(database, tables)
        if check != "ok":
            raise BackupError(f"the archived database is damaged: {check}")
    elif manifest["engine"] == "postgresql":
        database = work / POSTGRES_MEMBER
        found = _postgres_counts(database, len(tables), progress)
        counts = {name: found.get(name, 0) for name in tables}
    else:
        raise BackupError(f"unknown engine {manifest['engine']!r} in the manifest")
    differ = [f"{t}: {counts[t]} rows, manifest {n}" for t, n in tables.items() if counts[t] != n]
    if differ:
        raise BackupError("the archived database differs from its manifest: " + "; ".join(differ))
    return database


def verify(path: Path, progress: Progress = _quiet) -> Summary:
    """Check an archive completely without touching any database: every member's size and
    SHA-256, the database readable with the manifest's row count in every table."""
    with tempfile.TemporaryDirectory(prefix="minsheng-verify-") as work:
        manifest = _unpack(Path(path), Path(work), progress)
        _check_content(manifest, Path(work), progress)
    return _summary(Path(path), manifest)


# --- restore -----------------------------------------------------------------------------------


def occupied_tables() -> list[str]:
    """The tables of the app's database that hold rows (alembic's own excepted)."""
    names = [n for n in inspect(db.engine).get_table_names() if n != "alembic_version"]
    with db.engine.connect() as conn:
        return [
            n for n in names
            if conn.execute(text(f"SELECT 1 FROM {_table(n)} LIMIT 1")).first()  # noqa: S608
        ]  # fmt: skip


def _table_counts() -> dict[str, int]:
    names = inspect(db.engine).get_table_names()
    with db.engine.connect() as conn:
        return {
            n: conn.execute(text(f"SELECT count(*) FROM {_table(n)}")).scalar()  # noqa: S608
            for n in sorted(names)
        }


def _restore_sqlite(database: Path, progress: Progress) -> None:
    """Copy the archived database over the app's with the backup API (one transaction on the
    target: a failure leaves it as it was)."""
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    target = sqlite3.connect(_sqlite_path(), timeout=30)
    try:
        source.backup(
            target,
            pages=4096,
            progress=lambda status, remaining, total: progress(
                "restoring the database (pages)", total - remaining, total
            ),
        )
    finally:
        target.close()
        source.close()


def _restore_postgres(dump: Path, progress: Progress) -> None:
    """pg_restore in one transaction, replacing the archive's objects where they exist."""
    pg_restore = _tool("pg_restore")
    url, env = _libpq()
    listing = subprocess.run(  # noqa: S603
        [pg_restore, "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    total = sum(1 for line in listing.splitlines() if " TABLE DATA " in line)
    command = [pg_restore, "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
               "--no-owner", "--no-privileges", "--verbose", f"--dbname={url}", str(dump)]  # fmt: skip
    _run_counting(command, env, "processing data for table", "restoring tables", total, progress)


def restore(path: Path, *, force: bool = False, progress: Progress = _quiet) -> RestoreReport:
    """Restore an archive into the app's database (checked completely first: a damaged archive
    changes nothing), put the attachment files back, rebuild the search index."""
    engine = engine_kind()
    path = Path(path)
    # Beside a SQLite target (the same file system, where the space is needed anyway).
    near = _sqlite_path().parent if engine == "sqlite" else None
    if near:
        near.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".minsheng-restore-", dir=near) as work:
        work = Path(work)
        manifest = _unpack(path, work, progress)
        if manifest["engine"] != engine:
            raise BackupError(
                f"{path} is a {manifest['engine']} backup; this site runs on {engine}"
            )
        database = _check_content(manifest, work, progress)
        occupied = occupied_tables()
        if occupied and not force:
            raise BackupError(
                f"the target database is not empty ({', '.join(occupied[:5])}"
                f"{' …' if len(occupied) > 5 else ''}): restore refuses to replace it "
                "without --force"
            )
        db.session.remove()
        db.engine.dispose()  # no pooled connection may see the old database again
        if engine == "sqlite":
            _restore_sqlite(database, progress)
        else:
            _restore_postgres(database, progress)
        db.engine.dispose()
        report = RestoreReport(summary=_summary(path, manifest), tables=_table_counts())
        differ = [t for t, n in manifest["tables"].items() if report.tables.get(t) != n]
        if differ:
            raise BackupError(f"restored, but these tables differ from the manifest: {differ}")
        uploads = work / UPLOADS
        for n, source in enumerate(sorted(p for p in uploads.rglob("*") if p.is_file()), 1):
            target = attachments.upload_dir() / source.relative_to(uploads)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            report.files = n
            progress("attachment files", n, manifest["attachments"]["files"])
    total = indexer.count_public()
    done = 0

    def indexed(count: int) -> None:
        nonlocal done
        done += count
        progress("rebuilding the search index (messages)", done, total)

    report.index_documents = indexer.rebuild(progress=indexed)
    return report
