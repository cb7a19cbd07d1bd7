"""Test fixtures: a fresh database per test (SQLite, and PostgreSQL when configured), the strict
Slack stand-in, and the real bot serving HTTP on 127.0.0.1 with an injected clock."""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy

from bot import failures, runtime
from bot.scheduler import load_reminders
from bot.server import EVENTS_PATH, make_server, shutdown
from bot.settings import Settings
from handlers.common import deferred
from handlers.common.texts import t
from handlers.intake import writer
from handlers.partners import identity
from models.base import crypto
from models.base.clock import FrozenClock
from models.base.db import make_engine, normalise_url, transaction
from models.ops import migrate
from models.org.orgfile import load_file
from sandbox.standin import SlackStandin
from sandbox.standin.signed import SignedSlack

DATA = Path(__file__).parent / "data"
ORG_FILE = DATA / "org.toml"
TEST_KEY = "q2yGgFQ9bz8e3uGJtYHmVwJYzJ2mKcV8cM7r6-1mP7o="
SIGNING_SECRET = "test-signing-secret"
POSTGRES = os.environ.get("TSUNAGI_TEST_POSTGRES_URL")
# Friday 2026-11-27 10:00 in Tatsuno: a business day, office open.
START = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)

CHANNELS = ["C0COORD", "C0HOUKATSU", "C0KODOMO", "C0FUKUSHI", "C0LINKNET", "C0ADMIN"]
USERS = [
    "U0COORD",
    "U0WIN1",
    "U0SHOGAI1",
    "U0SHOGAI2",
    "U0KODOMO1",
    "U0FUKUSHI1",
    "U0PARTNER1",
    "U0SUPPORT1",
    "U0DEPT1",
    "U0ADMIN1",
    "U0STRANGER",
]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test (migrating every time is slow)."""
    path = tmp_path_factory.mktemp("template") / "tsunagi.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path / "tsunagi.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if not POSTGRES:
        pytest.skip("TSUNAGI_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(normalise_url(POSTGRES))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in POSTGRES else "?"
    url = f"{POSTGRES}{sep}options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def reminder_registry():
    """Every reminder rule and periodic job registered, as in the running bot: tests that call
    the dispatcher or schedule reminders without building the bot rely on this."""
    return load_reminders()


@pytest.fixture(autouse=True)
def encryption_key():
    crypto.configure([TEST_KEY])
    yield TEST_KEY


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def org(engine):
    with transaction(engine) as session:
        load_file(session, ORG_FILE)
    return engine


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture(scope="session")
def standin_server():
    server = SlackStandin().start()
    yield server
    server.stop()


@pytest.fixture
def slack(standin_server):
    standin_server.reset()
    for channel in CHANNELS:
        standin_server.add_channel(channel)
    for user in USERS:
        standin_server.add_user(user)
    return standin_server


def delivered_answers(rt, slack, user: str, before: int = 0) -> list[dict]:
    """The ephemeral answers `user` got after the first `before`, waiting for at least one.
    A click on a channel message is answered through the outbox (handlers/common/
    click_reply.py): delivered here while waiting, as the worker would."""

    def delivered() -> list[dict]:
        deferred.flush()  # the door's clicks stored (handlers/common/deferred.py), as kicked
        rt.delivery.run_once()
        return slack.ephemerals(user)[before:]

    return slack.wait_for(delivered)


@dataclass
class Bot:
    rt: runtime.Runtime
    slack: SlackStandin
    signed: SignedSlack
    url: str

    def deliver(self) -> int:
        """Run the delivery loop once, now (the background thread is not started in tests),
        after the door's writer has stored the clicks taken so far, as its kick would."""
        deferred.flush()
        return self.rt.delivery.run_once()

    def answers(self, user: str, before: int = 0) -> list[dict]:
        return delivered_answers(self.rt, self.slack, user, before)

    def open_memo(self, user: str) -> dict:
        before = len(self.slack.views_opened())
        answer = self.signed.command(user, "", trigger_id=self.slack.issue_trigger_id())
        assert answer.status == 200, answer.text
        self.slack.wait_for(lambda: len(self.slack.views_opened()) > before)
        return self.slack.views_opened()[-1]

    def send_memo(self, user: str, **values) -> dict:
        view = self.open_memo(user)
        answer = self.signed.submit(user, view, memo_values(**values))
        assert answer.status == 200, answer.text
        return self.final(answer.json(), view["id"])

    def final(self, reply: dict, view_id: str) -> dict:
        """A form's answer. On a loaded machine the work may outlast 2 s: the interim screen
        (handlers/common/timely.py) comes first, and the answer follows by views.update once the
        work is done; that answer, then (a test goes on only once the memo is stored)."""
        if t("form.working") not in json.dumps(reply, ensure_ascii=False):
            return reply

        def updated():
            calls = self.slack.calls_to("views.update")
            return [c for c in calls if c.args.get("view_id") == view_id]

        view = self.slack.wait_for(updated)[-1].args["view"]
        return {
            "response_action": "update",
            "view": json.loads(view) if isinstance(view, str) else view,
        }


def memo_values(**overrides) -> dict:
    """A valid memo about an obviously synthetic person; override fields by block id."""
    values = {
        "person_name": "辰野 試験子",
        "person_kana": "たつの しけんこ",
        "age_band": "75+",
        "district": "試験第一区",
        "contact": "0266-00-0000",
        "household": "試験用の世帯メモ（長男と同居）",
        "concerns": ["kaigo"],
        "narrative": "試験用の相談内容です。買い物に困っている様子。",
        "urgency": "normal",
        "consent_to_share": "yes",
    }
    values.update(overrides)
    return values


@dataclass
class Running:
    """A bot's HTTP server serving in a thread; close() stops it cleanly."""

    server: object
    thread: threading.Thread
    app: object | None = None  # its listeners' work after their answers is waited for

    def close(self) -> None:
        shutdown(self.server, self.thread)
        settle(self.app)


def settle(app) -> None:
    """After a bot stopped taking requests (HTTP or Socket Mode), wait for the work after its
    answers (a late form's answer, a reply, the Home tab, stored clicks and memos): it may still
    be reading, and the test's database goes away next (a PostgreSQL schema being dropped
    deadlocked with it once; a memo still waiting for a lock slowed the next test's memo)."""
    runner = getattr(app, "_listener_runner", None)
    pool = getattr(runner, "listener_executor", None)
    if pool is not None:
        pool.shutdown(wait=True)
    deferred.flush(timeout=5)
    writer.flush(timeout=5)
    identity.flush(timeout=5)  # a refusal's audit row is written after its answer
    failures.flush(timeout=5)  # a failure's note, sent after its answer


def make_bot(db_url: str, slack: SlackStandin, clock) -> tuple[Bot, Running]:
    settings = Settings(
        bot_token=slack.token,
        signing_secret=SIGNING_SECRET,
        slack_api_url=slack.base_url,
        database_url=db_url,
        encryption_keys=[TEST_KEY],
        channel_interval=0.0,
    )
    rt = runtime.build(settings, clock=clock)
    server = make_server(rt.app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}{EVENTS_PATH}"
    return Bot(rt, slack, SignedSlack(url, SIGNING_SECRET), url), Running(server, thread, rt.app)


@pytest.fixture
def bot(db_url, org, slack, clock):
    harness, server = make_bot(db_url, slack, clock)
    yield harness
    server.close()
    harness.rt.engine.dispose()
