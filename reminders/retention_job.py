"""The monthly retention run (models/ops/retention.py) as a periodic job of the scheduler: closed
cases, and closed outreach targets without a case; and the finished clicks' rows
(models/queues/clicks.py).

On the 1st of each month at 03:00 JST, and once when the bot starts (a missed month is caught
up). Erasing is idempotent and one transaction per case, so two processes or a late run do no
harm. It logs counts only, never receipt numbers with data.
"""

from __future__ import annotations

import logging

from models.ops import retention
from reminders.jobs import JobContext, periodic

log = logging.getLogger("tsunagi.retention")


@periodic("retention_monthly", cron="0 3 1 * *")
def run_retention(ctx: JobContext) -> None:
    result = retention.run(ctx.engine, now=ctx.now)
    if result.erased or result.targets_erased:
        log.info(
            "retention: erased the personal data of %s closed case(s) and %s closed outreach"
            " target(s) without a case",
            result.erased,
            result.targets_erased,
        )
    if result.clicks_purged:
        log.info("retention: deleted %s finished click(s)", result.clicks_purged)
