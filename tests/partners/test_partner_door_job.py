"""The doors kept by the worker's job (bot/partners/door_job.py): posted when it starts, left
alone when nothing changed, edited in place soon after an org load changes them, posted again
by the daily full sync when deleted in Slack; and two processes at once never post two doors
(the lease in the database)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.cli.main import main
from bot.partners.door_job import JOB, DoorKeeper
from handlers.partners.doors import DoorsBusy, stale_doors, sync_doors
from models.base.db import make_engine, transaction
from models.org.doors import DOORS_LEASE
from models.org.tables import Agency, OrgSetting
from models.queues.lease import claim_named
from reminders.jobs import JobContext
from tests.conftest import make_bot
from tests.partners.conftest import PARTNER_CHANNEL, door


@pytest.fixture
def wbot(db_url, partner_org, connect_slack, clock):
    """The town's bot before any door was posted (pbot posts them in its fixture)."""
    harness, server = make_bot(db_url, connect_slack, clock)
    yield harness
    server.close()
    harness.rt.engine.dispose()


def run_job(rt, keeper: DoorKeeper, now) -> None:
    keeper(JobContext(engine=rt.engine, now=now, kick_delivery=lambda: None))


def door_messages(slack) -> list[dict]:
    return [m for m in slack.messages(PARTNER_CHANNEL) if m["thread_ts"] in (None, m["ts"])]


def test_the_worker_posts_the_door_when_it_starts(wbot):
    """The scheduler the worker starts runs the job at once (run_on_start)."""
    slack = wbot.slack
    assert JOB in wbot.rt.scheduler.job_ids()
    wbot.rt.scheduler.start()
    try:
        slack.wait_for(lambda: door_messages(slack))
        slack.wait_for(lambda: slack.calls_to("pins.add"))
    finally:
        wbot.rt.scheduler.stop()
    assert len(door_messages(slack)) == 1
    assert not stale_doors(wbot.rt.engine)


def test_the_job_leaves_an_unchanged_door_edits_a_changed_one_and_reposts_a_deleted_one(
    wbot, clock
):
    slack, rt = wbot.slack, wbot.rt
    keeper = DoorKeeper(rt.client)
    run_job(rt, keeper, clock())  # at start: a full sync
    first = door(slack)
    before = len(slack.calls)
    run_job(rt, keeper, clock() + timedelta(minutes=1))  # nothing stale: a read, no Slack call
    assert len(slack.calls) == before
    with transaction(rt.engine) as s:  # what an org load does: the agency's name changes
        s.exec(select(Agency).where(Agency.key == "byoin")).one().name = "試験病院（地域連携室）"
    assert stale_doors(rt.engine)
    run_job(rt, keeper, clock() + timedelta(minutes=2))
    assert [m["ts"] for m in door_messages(slack)] == [first["ts"]]  # edited in place
    assert "地域連携室" in json.dumps(door(slack)["blocks"], ensure_ascii=False)
    assert not stale_doors(rt.engine)
    slack.reset()  # deleted in Slack: the minute's check cannot see it, the daily sync does
    run_job(rt, keeper, clock() + timedelta(minutes=3))
    assert slack.calls == []
    run_job(rt, keeper, clock() + timedelta(days=1, minutes=3))
    [again] = door_messages(slack)
    assert "地域連携室" in json.dumps(again["blocks"], ensure_ascii=False)


def test_a_door_slack_refuses_is_not_tried_every_minute(wbot, clock):
    slack, rt = wbot.slack, wbot.rt
    slack.add_channel(PARTNER_CHANNEL, member=False, shared_with=["T0HOSP"])  # bot not invited
    keeper = DoorKeeper(rt.client)
    run_job(rt, keeper, clock())
    assert any(c.error == "not_in_channel" for c in slack.calls)  # tried, refused
    before = len(slack.calls)
    run_job(rt, keeper, clock() + timedelta(minutes=1))
    assert len(slack.calls) == before
    slack.add_channel(PARTNER_CHANNEL, members=[], shared_with=["T0HOSP"])  # invited
    run_job(rt, keeper, clock() + timedelta(days=1))  # the daily sync tries again
    assert len(door_messages(slack)) == 1


def test_two_processes_at_once_post_one_door(wbot, db_url):
    """Two workers (each with its own engine, as two processes have) sync at the same moment,
    Slack slow to answer: one door, and the other is told the doors are busy."""
    slack = wbot.slack
    slack.set_latency("chat.postMessage", 0.5)
    engines = [make_engine(db_url), make_engine(db_url)]
    results: list[object] = []
    go = threading.Barrier(2)

    def worker(engine) -> None:
        go.wait()
        try:
            results.append(sync_doors(engine, wbot.rt.client))
        except DoorsBusy as exc:
            results.append(exc)

    threads = [threading.Thread(target=worker, args=(e,)) for e in engines]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    finally:
        slack.set_latency("chat.postMessage", 0)
        for e in engines:
            e.dispose()
    assert sorted(type(r).__name__ for r in results) == ["DoorsBusy", "list"]
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(door_messages(slack)) == 1
    sync_doors(wbot.rt.engine, wbot.rt.client)  # the lease was given back: it runs again
    assert len(door_messages(slack)) == 1


def test_a_lease_that_ran_out_can_be_taken_over(partner_org):
    def claim(s, holder: str, now: float) -> bool:
        return claim_named(s, OrgSetting, DOORS_LEASE, holder=holder, now=now, seconds=60)

    with transaction(partner_org) as s:
        assert claim(s, "a", 1000.0)
    with transaction(partner_org) as s:
        assert not claim(s, "b", 1030.0)
        assert claim(s, "a", 1030.0)  # its holder renews it
    with transaction(partner_org) as s:
        assert claim(s, "b", 1100.0)  # a died: taken over


def test_door_post_while_the_worker_keeps_the_doors_says_so(
    partner_org, connect_slack, db_url, encryption_key, monkeypatch, capsys
):
    with transaction(partner_org) as s:
        assert claim_named(s, OrgSetting, DOORS_LEASE, holder="the-worker", now=9e12, seconds=60)
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", encryption_key)
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", connect_slack.token)
    monkeypatch.setenv("SLACK_API_URL", connect_slack.base_url)
    assert main(["door", "post"]) == 1
    assert "入口を更新しています" in capsys.readouterr().err
    assert connect_slack.messages(PARTNER_CHANNEL) == []
