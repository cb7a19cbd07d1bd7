"""Backups and restores that are consistent while the bot runs, and checked before they count.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the database in one step
inside a read transaction — in WAL mode the bot keeps writing meanwhile, and the copy is the
database as of one moment. The copy is written beside its destination, switched to a single
self-contained file (journal_mode=DELETE), checked (`PRAGMA integrity_check`, a tsunagi schema
at a known migration) and only then renamed into place, readable by its owner only.

PostgreSQL: `pg_dump --format=custom` (a consistent snapshot; the bot keeps running) and
`pg_restore`, when the PostgreSQL client programs are installed; otherwise the exact commands
to run are explained instead (see `PostgresTools`).

A restore never overwrites a database holding data unless forced, and then keeps a copy of
what it replaced. The backup must be a tsunagi database at a migration this version knows, and
the configured keys must open its personal data (else the restore is refused: data nobody can
read is no restore).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from models.base import crypto
from models.base.clock import TOKYO
from models.base.db import normalise_url
from models.ops import migrate
from models.ops.keys import CANARY
from models.queues import clicks, outbox
from models.queues import reminders as reminder_rows

# Tables whose presence marks a tsunagi database, and whose rows mean "it holds data".
MARKERS = ("case", "member", "auditentry", "orgsetting")


class BackupProblem(Exception):
    """A backup or restore cannot go ahead. `code` names a text under ops.backup.*."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class Summary:
    """What a database or backup holds, in counts only (no personal data)."""

    revision: str | None
    counts: dict[str, int] = field(default_factory=dict)
    key_proof: str | None = None  # the encrypted key check value, if planted

    def count(self, tbl: str) -> int:
        return self.counts.get(tbl, 0)


def stamp(at: datetime) -> str:
    return at.astimezone(TOKYO).strftime("%Y%m%d-%H%M%S")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL)."""
    parsed = make_url(normalise_url(url))
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupProblem("memory_database")
    return Path(parsed.database)


def target_path(dest: Path, *, at: datetime, suffix: str) -> Path:
    """DEST itself, or a dated file inside DEST when it is a folder; never an existing file."""
    if dest.is_dir() or str(dest).endswith(os.sep):
        dest.mkdir(parents=True, exist_ok=True)
        dest = dest / f"tsunagi-{stamp(at)}{suffix}"
    if dest.exists():
        raise BackupProblem("exists", path=dest)
    if not dest.parent.is_dir():
        raise BackupProblem("no_folder", path=dest.parent)
    return dest


def _known_revision(revision: str | None) -> bool:
    if revision is None:
        return False
    script = ScriptDirectory.from_config(migrate.config("sqlite://"))
    try:
        return script.get_revision(revision) is not None
    except Exception:
        return False


def check_key_proof(summary: Summary) -> None:
    """The configured keys must open the backup's personal data."""
    if summary.key_proof is None:
        return
    try:
        opened = crypto.decrypt(summary.key_proof) == CANARY
    except crypto.KeyProblem:
        opened = False
    if not opened:
        raise BackupProblem("key_mismatch")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- SQLite


def _summarise_sqlite(conn: sqlite3.Connection) -> Summary:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not set(MARKERS) <= tables or "alembic_version" not in tables:
        raise BackupProblem("not_tsunagi")
    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    summary = Summary(revision=revision[0] if revision else None)
    for name in sorted(tables - {"alembic_version"}):
        if not name.startswith("sqlite_"):
            summary.counts[name] = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    proof = conn.execute("SELECT value FROM orgsetting WHERE key = 'key_check'").fetchone()
    if proof is not None and proof[0] is not None:
        value = proof[0]
        summary.key_proof = value.strip('"') if isinstance(value, str) else None
    return summary


def inspect_sqlite(path: Path) -> Summary:
    """Check a SQLite backup file: whole, a tsunagi database, at a migration known here."""
    if not path.is_file():
        raise BackupProblem("not_found", path=path)
    with path.open("rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise BackupProblem("not_sqlite", path=path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupProblem("damaged", path=path)
        summary = _summarise_sqlite(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupProblem("damaged", path=path) from exc
    finally:
        conn.close()
    if not _known_revision(summary.revision):
        raise BackupProblem("unknown_revision", revision=summary.revision)
    return summary


def _written(dest: Path, write: Callable[[Path], Summary]) -> Summary:
    """`write(part)` fills a new 0600 file beside `dest` and checks it; only then does it become
    `dest` (never a half-written backup under the real name)."""
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # personal data inside
    try:
        summary = write(part)
        os.replace(part, dest)
        _fsync(dest.parent)
        return summary
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def backup_sqlite(engine: Engine, dest: Path) -> Summary:
    """Copy the live database to `dest` (a new file), consistently, and check the copy."""

    def write(part: Path) -> Summary:
        raw = engine.raw_connection()
        try:
            copy = sqlite3.connect(part)
            try:
                raw.driver_connection.backup(copy)  # one step: a single consistent snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
                copy.commit()
            finally:
                copy.close()
        finally:
            raw.close()
        _fsync(part)
        return inspect_sqlite(part)

    return _written(dest, write)


def summarise(engine: Engine) -> Summary:
    """What the configured database holds now (it may be empty or not migrated)."""
    names = set(inspect(engine).get_table_names())
    summary = Summary(revision=migrate.current_revision(engine) if names else None)
    with engine.execution_options(tsunagi_write=False).connect() as conn:  # a read
        for name in sorted(set(MARKERS) & names):
            summary.counts[name] = conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar()
    return summary


def holds_data(engine: Engine) -> bool:
    return any(summarise(engine).counts.values())


def restore_sqlite(src: Path, engine: Engine, *, at: datetime) -> Path | None:
    """Replace the database's content with the backup's, through SQLite (safe with the -wal
    and -shm files and with connections still open). A database holding data is first copied
    beside itself; returns that copy."""
    target = sqlite_file(engine.url.render_as_string(hide_password=False))
    kept = None
    if target.exists() and holds_data(engine):
        kept = target.with_name(f"{target.name}.before-restore-{stamp(at)}")
        backup_sqlite(engine, kept)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    raw = engine.raw_connection()
    try:
        source.backup(raw.driver_connection)
    except sqlite3.OperationalError as exc:  # another process is using the database
        raise BackupProblem("target_busy") from exc
    finally:
        raw.close()
        source.close()
    engine.dispose()
    with engine.execution_options(tsunagi_write=False).connect() as conn:  # a read
        if conn.exec_driver_sql("PRAGMA integrity_check").scalar() != "ok":
            raise BackupProblem("damaged", path=target)
    return kept


# --------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PostgresTools:
    """How to reach the database with the PostgreSQL client programs, without putting the
    password on a command line (it goes in PGPASSWORD)."""

    env: dict[str, str]
    schema: str | None  # the schema tsunagi uses, when search_path names one

    @classmethod
    def from_url(cls, url: str) -> PostgresTools:
        parsed = make_url(normalise_url(url))
        env = {
            k: str(v)
            for k, v in {
                "PGHOST": parsed.host,
                "PGPORT": parsed.port,
                "PGUSER": parsed.username,
                "PGPASSWORD": parsed.password,
                "PGDATABASE": parsed.database,
            }.items()
            if v is not None
        }
        options = parsed.query.get("options")
        options = options if isinstance(options, str) else None
        schema = None
        if options:
            env["PGOPTIONS"] = options
            found = re.search(r"search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)", options)
            schema = found.group(1) if found and found.group(1) != "public" else None
        return cls(env, schema)

    @staticmethod
    def available() -> bool:
        return bool(shutil.which("pg_dump") and shutil.which("pg_restore"))

    def _run(self, args: list[str], *, code: str) -> str:
        result = subprocess.run(
            args, env={**os.environ, **self.env}, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            # pg_dump's messages name objects and connection problems, not row contents.
            raise BackupProblem(code, detail=result.stderr.strip()[-500:])
        return result.stdout

    def dump(self, dest: Path) -> None:
        args = ["pg_dump", "--format=custom", "--no-owner", "--file", str(dest)]
        if self.schema:
            args += ["--schema", self.schema]
        self._run(args, code="pg_dump_failed")

    def _table_data(self, dump: Path, table: str) -> list[list[str]]:
        out = self._run(
            ["pg_restore", "--data-only", "--table", table, "--file", "-", str(dump)],
            code="not_tsunagi",
        )
        rows, inside = [], False
        for line in out.splitlines():
            if line.startswith("COPY "):
                inside = True
            elif inside and line == "\\.":
                inside = False
            elif inside:
                rows.append(line.split("\t"))
        return rows

    def inspect(self, dump: Path) -> Summary:
        if not dump.is_file():
            raise BackupProblem("not_found", path=dump)
        listing = self._run(["pg_restore", "--list", str(dump)], code="not_pg_dump")
        for marker in (*MARKERS, "alembic_version"):
            if not re.search(rf"TABLE DATA \S+ {re.escape(marker)} ", listing):
                raise BackupProblem("not_tsunagi")
        versions = self._table_data(dump, "alembic_version")
        summary = Summary(revision=versions[0][0] if versions else None)
        for key, value, *_ in self._table_data(dump, "orgsetting"):
            if key == "key_check":
                summary.key_proof = value.strip('"')
        for name in ("case", "auditentry"):  # what the summary line shows
            summary.counts[name] = len(self._table_data(dump, name))
        if not _known_revision(summary.revision):
            raise BackupProblem("unknown_revision", revision=summary.revision)
        return summary

    def restore(self, dump: Path) -> None:
        self._run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                self.env.get("PGDATABASE", ""),
                str(dump),
            ],
            code="pg_restore_failed",
        )


def backup_postgres(url: str, dest: Path) -> Summary:
    tools = PostgresTools.from_url(url)

    def write(part: Path) -> Summary:
        tools.dump(part)
        return tools.inspect(part)

    return _written(dest, write)


def mark_unsent_for_verification(engine: Engine) -> int:
    """After a restore: what the backup had not sent may have gone out after it was taken.
    Every such notice — and every notice a restored reminder queues again — is looked for in
    Slack before it is sent; a click the backup holds undone is done again without a second
    answer (models/queues/clicks.py). Returns how many rows were marked."""
    return (
        outbox.mark_restored(engine)
        + reminder_rows.mark_restored(engine)
        + clicks.mark_restored(engine)
    )
