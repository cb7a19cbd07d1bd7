"""Operations commands for the town's IT officer: backup, restore, retention, erasure, audit, check.

`tsunagi keys rotate` sits in the `keys` group of bot/cli/core.py (see ops_keys.py). What the
commands share (exit codes, Stop, opening the database) is in bot/cli/common.py.
Exit codes: 0 done / all well, 1 a problem was found (tamper, unhealthy), 2 usage or settings.
"""

from __future__ import annotations

from bot.cli import ops_audit, ops_backup, ops_check, ops_retention


def register(sub) -> None:
    ops_backup.register(sub)
    ops_retention.register(sub)
    ops_audit.register(sub)
    ops_check.register(sub)
