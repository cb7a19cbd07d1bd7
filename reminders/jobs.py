"""Periodic jobs other features add (monthly Link-net post, monthly retention …).

A job is a plain function of a JobContext, registered by name with a schedule:

    from reminders.jobs import JobContext, periodic

    @periodic("linknet_monthly", cron="30 8 * * *")   # every day 8:30 JST; posts once a month
    def post_linknet_figures(ctx: JobContext) -> None:
        with transaction(ctx.engine) as session:
            ...  # enqueue with an idempotency key like f"linknet:{month}"

and its module is listed in bot/scheduler.py (REMINDER_MODULES), which imports it at start-up
(importing it registers the job; this module imports none of them). bot/scheduler.py runs every
registered job in each bot process (APScheduler, in memory: nothing pickled, no personal data in
job arguments).

Write jobs so that running them twice, or in two processes at once, or a day late, does no
harm: check in the database whether the work is done (an outbox key for the month), rather
than trusting that the scheduler fires exactly once at exactly the right time. A job also runs
once when the bot starts (run_on_start), which catches up what was missed while it was down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine


@dataclass(frozen=True)
class JobContext:
    engine: Engine
    now: datetime  # from the injected clock: never call datetime.now() in a job
    kick_delivery: Callable[[], None]  # after queueing notices, so they go out now


Job = Callable[[JobContext], None]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Job
    every: timedelta | None = None  # an interval …
    cron: str | None = None  # … or a crontab line in Asia/Tokyo ("min hour day month weekday")
    run_on_start: bool = True
    misfire_grace: timedelta = timedelta(hours=1)  # run late rather than not at all

    def __post_init__(self) -> None:
        if (self.every is None) == (self.cron is None):
            raise ValueError(f"job {self.name}: give exactly one of every= or cron=")
        if self.every is not None and self.every <= timedelta(0):
            raise ValueError(f"job {self.name}: every= must be positive")


PERIODIC_JOBS: dict[str, PeriodicJob] = {}


def periodic(
    name: str,
    *,
    every: timedelta | None = None,
    cron: str | None = None,
    run_on_start: bool = True,
    misfire_grace: timedelta = timedelta(hours=1),
) -> Callable[[Job], Job]:
    def register(fn: Job) -> Job:
        if name in PERIODIC_JOBS:
            raise ValueError(f"two periodic jobs named {name}")
        PERIODIC_JOBS[name] = PeriodicJob(
            name=name,
            run=fn,
            every=every,
            cron=cron,
            run_on_start=run_on_start,
            misfire_grace=misfire_grace,
        )
        return fn

    return register


def registered_jobs() -> list[PeriodicJob]:
    """Every job registered so far, by name: the modules that define them must have been
    imported (bot/scheduler.py does, at start-up)."""
    return [PERIODIC_JOBS[name] for name in sorted(PERIODIC_JOBS)]
