"""The scheduler: one APScheduler 3 BackgroundScheduler per bot process. It only ticks.

- The reminder tick (every TICK seconds, and once at start): the dispatcher claims due
  reminder rows and queues their notices; then the delivery loop is woken to send them.
  Reminders live in the database, not here, so a restart loses nothing.
- The periodic jobs features register in reminders/jobs.py (Link-net post, retention …).

The reminder engine keeps two registries (reminders/rules.py: what each kind of reminder means;
reminders/jobs.py: the periodic jobs), which the modules of the features fill when they are
imported. They are imported here, at start-up, and nowhere below: REMINDER_MODULES lists them.
Whatever dispatches reminders or runs jobs — the Scheduler, `tsunagi reminders send-due`, the
tests (tests/conftest.py) — calls load_reminders() first.

Jobs live in the in-memory job store only: a job store is never shared between processes,
nothing is pickled, and job arguments carry no personal data (there are none: each job gets
a JobContext built at run time). Every job is coalesced (a backlog of missed runs runs once)
and has max_instances=1 (a slow run is never overlapped by the next).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from models.base.clock import TOKYO, Clock
from reminders import linknet_job, meetings, memo, outreach, plans, retention_job, rules
from reminders.dispatcher import DispatchResult, dispatch_due, worker_id
from reminders.jobs import JobContext, PeriodicJob, registered_jobs

log = logging.getLogger("tsunagi.scheduler")

TICK = timedelta(seconds=20)  # how soon after its time a reminder is queued
TICK_JOB = "reminders_tick"

# Every module that registers reminder rules (reminders/rules.py) or periodic jobs
# (reminders/jobs.py): importing one registers what it defines. A new one is added here.
REMINDER_MODULES = (
    rules,  # follow_up
    memo,  # memo_ack, memo_ack_escalation; the job memo_ack_ensure
    meetings,  # meeting_eve, meeting_soon; the job meeting_series
    outreach,  # outreach_contact, outreach_overdue
    plans,  # task_due, task_overdue, plan_review, outcome_review
    linknet_job,  # the job linknet_monthly
    retention_job,  # the job retention_monthly
)


def load_reminders() -> tuple[list[str], list[str]]:
    """Every reminder rule and periodic job, registered: their names.

    The imports of this module (REMINDER_MODULES) have registered them; call this where
    reminders are dispatched or jobs run, so that the reason for those imports is in sight."""
    return sorted(rules.RULES), [job.name for job in registered_jobs()]


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        kick_delivery: Callable[[], None],
        tick: timedelta = TICK,
        jobs: list[PeriodicJob] | None = None,
        extra_jobs: Sequence[PeriodicJob] = (),
    ) -> None:
        """`extra_jobs`: jobs of the wiring that talk to Slack, which reminders/ may not
        (bot/partners/door_job.py), run beside the registered ones."""
        self.engine = engine
        self.clock = clock
        self.kick_delivery = kick_delivery
        self.tick_every = tick
        load_reminders()
        self.jobs = [*(registered_jobs() if jobs is None else jobs), *extra_jobs]
        self.worker = worker_id()
        self._aps = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            timezone=TOKYO,
        )
        self._configure()

    # --- jobs ---------------------------------------------------------------------------------
    def _configure(self) -> None:
        started = datetime.now(TOKYO)  # APScheduler runs on wall time; jobs get the clock
        self._aps.add_job(
            self._safe(TICK_JOB, self.tick),
            IntervalTrigger(seconds=self.tick_every.total_seconds(), timezone=TOKYO),
            id=TICK_JOB,
            name=TICK_JOB,
            next_run_time=started,  # at start: what fell due while the bot was down goes now
            coalesce=True,
            max_instances=1,
            # A tick later than one interval is skipped: the next one dispatches everything due.
            misfire_grace_time=max(1, int(self.tick_every.total_seconds())),
        )
        for job in self.jobs:
            trigger = (
                CronTrigger.from_crontab(job.cron, timezone=TOKYO)
                if job.cron
                else IntervalTrigger(seconds=job.every.total_seconds(), timezone=TOKYO)
            )
            # next_run_time=None would add the job paused: leave it out to keep the trigger's.
            first = {"next_run_time": started} if job.run_on_start else {}
            self._aps.add_job(
                self._safe(job.name, lambda job=job: self.run_job(job)),
                trigger,
                id=job.name,
                name=job.name,
                misfire_grace_time=max(1, int(job.misfire_grace.total_seconds())),
                coalesce=True,
                max_instances=1,
                **first,
            )
        log.info("scheduler: %s periodic job(s) besides the reminder tick", len(self.jobs))

    @staticmethod
    def _safe(name: str, fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception as exc:  # only the type: messages may carry data
                log.error("job %s failed: %s", name, type(exc).__name__)

        run.__name__ = f"tsunagi_{name}"
        return run

    def tick(self) -> DispatchResult:
        """Dispatch what is due now, then wake the delivery loop if anything was queued."""
        result = dispatch_due(self.engine, now=self.clock(), worker=self.worker)
        if result.notices or result.failed:
            self.kick_delivery()
        return result

    def run_job(self, job: PeriodicJob) -> None:
        job.run(JobContext(engine=self.engine, now=self.clock(), kick_delivery=self.kick_delivery))

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._aps.running

    def job_ids(self) -> list[str]:
        return [job.id for job in self._aps.get_jobs()]

    def aps_job(self, job_id: str):
        return self._aps.get_job(job_id)

    def start(self) -> None:
        if not self._aps.running:
            self._aps.start()

    def stop(self) -> None:
        """Stop ticking; waits for a running job to finish (a dispatch is short)."""
        if self._aps.running:
            self._aps.shutdown(wait=True)
