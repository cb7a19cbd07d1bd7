"""Files the command line writes: private (0600) from the first byte, never overwritten by chance.

One helper for every `--output`: the file is created with O_CREAT|O_EXCL and mode 0600 (no chmod
afterwards, so there is no moment when others can read it), written beside the target and moved
into place whole, so a half-written file never looks finished. An existing file is kept unless
the operator passes `--force`. CSV cells that a spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from handlers.common.texts import t

# Excel, LibreOffice and Google Sheets treat a cell starting with these as a formula (OWASP CSV
# injection); tab and CR are included because some of them strip those before deciding.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class OutputExists(Exception):
    """The target is there already and `--force` was not given."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.text = t("cli.output_exists", path=path)


def add_force(parser) -> None:
    parser.add_argument("--force", action="store_true", help="出力ファイルがあれば上書きする")


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading formula character gets a `'`."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(values: Iterable[object]) -> list[str]:
    return [csv_cell(v) for v in values]


def check_free(path: Path, *, force: bool) -> None:
    """Refuse early (before any work) when the target exists; `publish` checks again at the end."""
    if not force and os.path.lexists(path):
        raise OutputExists(path)


def _create(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def _publish(tmp: Path, target: Path, *, force: bool) -> None:
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if the target appeared meanwhile: never overwrites
    except FileExistsError:
        raise OutputExists(target) from None
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def private_file(
    path: Path, *, force: bool, binary: bool = False, encoding: str = "utf-8", newline=None
) -> Iterator[IO]:
    """Open a new 0600 file for writing; it appears at `path` only when the block succeeds."""
    check_free(path, force=force)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    fd = _create(tmp)
    try:
        if binary:
            out = os.fdopen(fd, "wb")
        else:
            out = os.fdopen(fd, "w", encoding=encoding, newline=newline)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    try:
        with out:
            yield out
        _publish(tmp, path, force=force)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_private(path: Path, data: str | bytes, *, force: bool, encoding: str = "utf-8") -> None:
    binary = isinstance(data, bytes)
    with private_file(path, force=force, binary=binary, encoding=encoding, newline="") as out:
        out.write(data)
