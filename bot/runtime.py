"""Everything a running bot is made of, built in one place (used by `tsunagi run` and the tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.app import create_app
from bot.delivery import Delivery
from bot.partners.door_job import door_job
from bot.processes.memo_store import MemoStoreProcess
from bot.processes.worker import WorkerProcess
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.slack import make_client
from handlers.common.services import Services
from models.base import crypto
from models.base.clock import Clock, system_clock
from models.base.db import make_engine, missing_sqlite_file, transaction
from models.ops import migrate
from models.ops.keys import check_key


class NotReady(RuntimeError):
    """The database or the key is not in a state the bot may run on."""


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    client: WebClient
    delivery: Delivery
    app: App
    services: Services
    scheduler: Scheduler | None = None  # started by `tsunagi worker`; tests call .tick()
    worker: WorkerProcess | None = None  # `tsunagi run`: the process running both of them
    memo_store: MemoStoreProcess | None = None  # `tsunagi run`: where memos are stored


def prepare_database(settings: Settings) -> Engine:
    """Open the database, refuse an old schema, and prove the encryption key."""
    crypto.configure(settings.encryption_keys)
    if missing_sqlite_file(settings.database_url) is not None:  # not made empty by a start
        raise NotReady("cli.db_not_current")
    engine = make_engine(settings.database_url)
    if not migrate.is_current(engine):
        raise NotReady("cli.db_not_current")
    with transaction(engine) as session:
        check_key(session)
    return engine


def build(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    verify_token: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    kick_delivery: Callable[[], None] | None = None,
) -> Runtime:
    """`kick_delivery`: how a listener wakes the delivery loop (default: this process's loop;
    `tsunagi run` passes the worker process's, bot/processes/worker.py)."""
    engine = prepare_database(settings)
    client = make_client(settings.bot_token, settings.slack_api_url)
    delivery = Delivery(
        engine,
        make_client(settings.bot_token, settings.slack_api_url, retries=False),
        clock,
        channel_interval=settings.channel_interval,
        sleep=sleep,
    )
    services = Services(engine=engine, clock=clock, kick_delivery=kick_delivery or delivery.kick)
    app = create_app(
        services=services,
        client=client,
        signing_secret=settings.signing_secret or "",
        verify_token=verify_token,
    )
    # The doors in partner channels, kept up to date at start, after an org load and daily; a
    # client without retries: a post is never sent twice (the sync finds a lost one again).
    doors = door_job(make_client(settings.bot_token, settings.slack_api_url, retries=False))
    scheduler = Scheduler(engine, clock, kick_delivery=delivery.kick, extra_jobs=[doors])
    return Runtime(settings, engine, client, delivery, app, services, scheduler)
