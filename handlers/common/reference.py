"""What every failure answer shares: its short reference code (e.g. E-7K3Q), said to the person
and written in the log line that holds the traceback, so a staff member who reads it out leads
to the right line; and whether the failure was only a busy database."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import OperationalError

from models.base.errors import Busy

_CODE_LETTERS = "ACDEFHJKLMNPQRTUVWXY34679"  # no 0/O, 1/I, 2/Z, 5/S, 8/B: easy to read out


def reference_code() -> str:
    return "E-" + "".join(secrets.choice(_CODE_LETTERS) for _ in range(4))


def is_busy(error: BaseException) -> bool:
    """The database stayed locked past the request path's bound."""
    if isinstance(error, Busy):  # models/base/db.py: the request path's lock wait ran out
        return True
    if isinstance(error, OperationalError):
        return "locked" in str(error.orig).lower() or "lock timeout" in str(error.orig).lower()
    return False


class FailedElsewhere(Exception):
    """The work failed in another process of the bot (the memo store), which logged the
    traceback under `reference`: the person is told that same code."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference
