"""The APScheduler wiring: one in-memory scheduler per process that only ticks."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from apscheduler.jobstores.memory import MemoryJobStore

from bot.scheduler import TICK, TICK_JOB, Scheduler
from models.base.db import transaction
from models.queues.tables import Recipient, Subject, SubjectKind
from reminders.jobs import JobContext, PeriodicJob, periodic, registered_jobs
from reminders.schedule import schedule_reminder


def test_the_tick_and_periodic_jobs_are_configured_sensibly(engine, clock):
    calls: list = []
    jobs = [
        PeriodicJob("monthly", run=calls.append, cron="30 8 * * *"),
        PeriodicJob("hourly", run=calls.append, every=timedelta(hours=1), run_on_start=False),
    ]
    s = Scheduler(engine, clock, kick_delivery=lambda: None, jobs=jobs)
    assert sorted(s.job_ids()) == ["hourly", "monthly", TICK_JOB]
    tick = s.aps_job(TICK_JOB)
    assert tick.coalesce and tick.max_instances == 1
    assert tick.misfire_grace_time == int(TICK.total_seconds())
    assert tick.args == () and tick.kwargs == {}  # nothing personal, nothing pickled
    monthly = s.aps_job("monthly")
    assert monthly.coalesce and monthly.max_instances == 1 and monthly.misfire_grace_time == 3600
    s.start()
    try:
        assert s.aps_job("hourly").next_run_time is not None  # scheduled, not paused
    finally:
        s.stop()
    stores = s._aps._jobstores
    assert list(stores) == ["default"] and isinstance(stores["default"], MemoryJobStore)
    assert str(s._aps.timezone) == "Asia/Tokyo"


def test_a_job_needs_exactly_one_schedule():
    with pytest.raises(ValueError):
        PeriodicJob("x", run=print)
    with pytest.raises(ValueError):
        PeriodicJob("x", run=print, every=timedelta(hours=1), cron="0 0 * * *")
    with pytest.raises(ValueError):
        PeriodicJob("x", run=print, every=timedelta(0))


def test_periodic_registers_a_job_once(monkeypatch):
    from reminders import jobs

    monkeypatch.setattr(jobs, "PERIODIC_JOBS", {})

    @periodic("test_job", every=timedelta(days=1))
    def job(ctx: JobContext) -> None:
        pass

    assert [j.name for j in registered_jobs()] == ["test_job"]
    with pytest.raises(ValueError):
        periodic("test_job", every=timedelta(days=1))(job)


def test_a_started_scheduler_dispatches_at_once_and_delivery_sends(bot, clock):
    with transaction(bot.rt.engine) as session:
        schedule_reminder(
            session,
            key="meeting:1:eve",
            subject=Subject(SubjectKind.meeting, 1),
            rule="follow_up",
            recipient=Recipient.channel("C0COORD"),
            due_at=clock() - timedelta(hours=1),
            at=clock(),
        )
    bot.rt.delivery.start()
    bot.rt.scheduler.start()
    try:
        bot.slack.wait_for(lambda: bot.slack.messages("C0COORD"))
    finally:
        bot.rt.scheduler.stop()
        bot.rt.delivery.stop()
    assert not bot.rt.scheduler.running
    assert len(bot.slack.messages("C0COORD")) == 1


def test_periodic_jobs_get_the_injected_clock_and_run_on_start(engine, clock):
    seen: list[JobContext] = []
    ran = threading.Event()

    def job(ctx: JobContext) -> None:
        seen.append(ctx)
        ran.set()

    s = Scheduler(
        engine,
        clock,
        kick_delivery=lambda: None,
        jobs=[PeriodicJob("probe", run=job, every=timedelta(days=1))],
    )
    s.start()
    try:
        assert ran.wait(timeout=10)
    finally:
        s.stop()
    assert seen[0].now == clock() and seen[0].engine is engine


def test_a_failing_job_is_logged_without_its_message(engine, clock, caplog):
    def job(ctx: JobContext) -> None:
        raise RuntimeError("辰野 試験子 0266-00-0000")

    s = Scheduler(
        engine, clock, kick_delivery=lambda: None, jobs=[PeriodicJob("bad", job, every=TICK)]
    )
    with caplog.at_level(logging.ERROR, logger="tsunagi.scheduler"):
        s._safe("bad", lambda: s.run_job(s.jobs[0]))()
    assert "RuntimeError" in caplog.text and "試験子" not in caplog.text


def test_the_tick_kicks_delivery_only_when_something_was_queued(org, clock):
    kicks: list[int] = []
    s = Scheduler(org, clock, kick_delivery=lambda: kicks.append(1), jobs=[])
    s.tick()
    assert kicks == []
    with transaction(org) as session:
        schedule_reminder(
            session,
            key="k",
            subject=Subject(SubjectKind.meeting, 1),
            rule="follow_up",
            recipient=Recipient.channel("C0COORD"),
            due_at=clock(),
            at=clock(),
        )
    assert s.tick().notices == 1 and kicks == [1]
