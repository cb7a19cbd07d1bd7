"""The doors kept up to date by the worker (bot/processes/worker.py), with nobody running a command:

- when the worker starts (every `tsunagi run`, every restart);
- soon after an org load changes what a door should say, or where (a read of the database every
  minute finds a door whose record differs from its text; no Slack call unless one does);
- once a day in full, which also finds a door someone deleted in Slack and posts it again.

The same idempotent sync as `tsunagi door post` (handlers/partners/doors.py): an unchanged door is
left alone, a changed one edited in place, a deleted one posted anew. Its lease in the database
lets one process keep the doors at a time, so a second worker or a restart never posts a second
door; the one that finds the lease taken tries again a minute later.

The job lives here, not in reminders/: it talks to Slack, which the reminder floor never does.
bot/runtime.py hands it to the scheduler beside the registered jobs.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from slack_sdk import WebClient

from handlers.partners.doors import DoorsBusy, stale_doors, sync_doors
from reminders.jobs import JobContext, PeriodicJob

log = logging.getLogger("tsunagi.partners")

JOB = "partner_doors"
CHECK_EVERY = timedelta(minutes=1)
FULL_EVERY = timedelta(days=1)


class DoorKeeper:
    """The job's state in this process: when the last full sync was, and which stale doors were
    last tried (a door Slack refuses is not tried again every minute: the next day's full sync,
    or a change of its text or channel, tries it again)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self.full_at: datetime | None = None
        self.tried: frozenset = frozenset()
        self._lock = threading.Lock()

    def __call__(self, ctx: JobContext) -> None:
        with self._lock:
            full = self.full_at is None or ctx.now - self.full_at >= FULL_EVERY
            stale = frozenset() if full else stale_doors(ctx.engine)
            if not full and (not stale or stale == self.tried):
                return
            try:
                outcomes = sync_doors(ctx.engine, self.client)
            except DoorsBusy:
                log.info("the doors are being kept by another process; again in a minute")
                return
            if full:
                self.full_at = ctx.now
            self.tried = stale_doors(ctx.engine)  # what is still stale: failed, not retried
        for o in outcomes:
            if o.result != "unchanged":
                log.info("door of agency %s: %s %s", o.agency, o.result, o.error or "")


def door_job(client: WebClient) -> PeriodicJob:
    return PeriodicJob(JOB, run=DoorKeeper(client), every=CHECK_EVERY, run_on_start=True)
