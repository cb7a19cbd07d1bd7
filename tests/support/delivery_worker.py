"""A delivering process for the fault tests: the bot's real runtime and delivery loop, without
the HTTP server, draining the outbox until it is empty (or the test kills it with -9).

Run: python -m tests.delivery_worker  (settings from the environment, as the bot reads them).
"""

from __future__ import annotations

import sys
import time

from sqlalchemy import func, select

from bot import runtime
from bot.settings import Settings
from models.base.db import transaction
from models.queues.tables import Notice, NoticeState

OPEN = [NoticeState.pending.value, NoticeState.sending.value]


def open_notices(engine) -> int:
    with transaction(engine, write=False) as session:
        return session.execute(select(func.count()).where(Notice.state.in_(OPEN))).scalar_one()


def main() -> int:
    rt = runtime.build(Settings.from_env())
    deadline = time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 60)
    while time.monotonic() < deadline:
        rt.delivery.run_once()
        if not open_notices(rt.engine):
            return 0
        time.sleep(0.05)
    return 1


if __name__ == "__main__":
    sys.exit(main())
