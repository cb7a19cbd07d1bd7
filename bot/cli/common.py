"""What the command groups of bot/cli/ share: exit codes, `fail`, the Stop skeleton of a command,
opening the database and the key, and argument types.

Exit codes: 0 done / all well, 1 a problem was found (tamper, unhealthy), 2 usage or settings.
"""

from __future__ import annotations

import argparse
import functools
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, time

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot import runtime
from bot.cli.files import OutputExists, check_free
from bot.settings import Settings
from handlers.common.texts import t
from models.base import crypto
from models.base.clock import TOKYO
from models.base.db import make_engine, missing_sqlite_file
from models.ops import migrate

OK, PROBLEM, CONFIG = 0, 1, 2


# models/base/crypto.py's KeyProblem says what is wrong in English (for logs); people read this.
_KEY_PROBLEMS = {
    "TSUNAGI_ENCRYPTION_KEY is not set": "cli.key.not_set",
    "TSUNAGI_ENCRYPTION_KEY is not a Fernet key": "cli.key.not_fernet",
    "stored data cannot be decrypted with the configured key": "cli.key.wrong",
    "encryption is not configured": "cli.key.not_set",
}


def key_problem(exc: Exception) -> str:
    """The text telling the person the encryption key is missing, malformed or wrong."""
    code = _KEY_PROBLEMS.get(str(exc))
    return t("cli.key_problem", detail=t(code) if code else type(exc).__name__)


def fail(text: str, code: int = 2) -> int:
    print(text, file=sys.stderr)
    return code


class Stop(Exception):
    """Stop the command with this text on stderr and this exit code."""

    def __init__(self, text: str, code: int = CONFIG) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


def command(func: Callable[[object, Settings], int]) -> Callable[[object, Settings], int]:
    """Turn a Stop raised anywhere in a command into its message and exit code."""

    @functools.wraps(func)
    def run(args, settings: Settings) -> int:
        try:
            return func(args, settings)
        except Stop as stop:
            return fail(stop.text, stop.code)

    return run


def open_database(settings: Settings, *, current: bool = True, create: bool = False) -> Engine:
    """The configured database, reachable and (unless `current=False`) at the latest schema.
    A SQLite file that does not exist is made only with `create` (`tsunagi db upgrade`): any
    other command would leave an empty file behind a mistyped URL."""
    try:
        missing = None if create else missing_sqlite_file(settings.database_url)
    except Exception as exc:  # an unusable URL: a settings problem
        raise Stop(t("ops.db_url_invalid"), CONFIG) from exc
    if missing is not None:
        raise Stop(t("ops.db_file_missing", path=missing), PROBLEM)
    try:
        engine = make_engine(settings.database_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise Stop(t("ops.db_unreachable", kind=type(exc).__name__), PROBLEM) from exc
    except Exception as exc:  # an unusable URL: a settings problem
        raise Stop(t("ops.db_url_invalid"), CONFIG) from exc
    if current and not migrate.is_current(engine):
        engine.dispose()
        raise Stop(t("cli.db_not_current"), CONFIG)
    return engine


def current_database(settings: Settings) -> Engine | None:
    """The configured database if its schema is current (None: upgrade it first; a SQLite
    file that is not there is not made here)."""
    if missing_sqlite_file(settings.database_url) is not None:
        return None
    engine = make_engine(settings.database_url)
    return engine if migrate.is_current(engine) else None


def free_output_then_database(args, settings: Settings) -> tuple[Engine | None, str | None]:
    """For a command writing `args.output`: refused before any work if the file exists (no
    --force); then the prepared database, or what is wrong with either, in words."""
    if args.output is not None:
        try:
            check_free(args.output, force=args.force)
        except OutputExists as exc:
            return None, exc.text
    return prepared_database(settings)


def prepared_database(settings: Settings) -> tuple[Engine | None, str | None]:
    """The database ready for the bot's work (schema current, key proved), or what is wrong."""
    try:
        return runtime.prepare_database(settings), None
    except crypto.KeyProblem as exc:
        return None, key_problem(exc)
    except runtime.NotReady as exc:
        return None, t(str(exc))


def _columns(text: str) -> int:
    """How wide `text` shows on a terminal (Japanese characters count double)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def print_table(header: list[str], table: list[list[str]]) -> None:
    """Rows under a header, each column as wide as its widest cell."""
    widths = [max(_columns(x) for x in column) for column in zip(header, *table, strict=True)]
    for line in [header, *table]:
        cells = (
            cell + " " * max(w - _columns(cell), 0) for cell, w in zip(line, widths, strict=True)
        )
        print("  ".join(cells).rstrip())


def refused_file(path, heading: str, problems, prefix: str) -> str:
    """A loaded file's problems, one line each with its line number, under `heading`."""
    lines = [heading]
    for p in problems:
        where = t("orgfile.line", line=p.line) if p.line else ""
        lines.append(f"  {path}:{where}{t(prefix + p.code, **p.params)}")
    return "\n".join(lines)


def configure_keys(settings: Settings) -> None:
    try:
        crypto.configure(settings.encryption_keys)
    except crypto.KeyProblem as exc:
        raise Stop(key_problem(exc), CONFIG) from exc


def day(value: str) -> date:
    """An argparse type: YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(t("ops.bad_date", value=value)) from None


def tokyo_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=TOKYO).astimezone(UTC)
