"""Core commands: run, manifest, org load, db upgrade, keys generate."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from bot import failures, runtime
from bot.cli.common import (
    Stop,
    command,
    current_database,
    fail,
    key_problem,
    open_database,
    refused_file,
)
from bot.cli.ops_backup import take_backup
from bot.cli.ops_keys import register_rotate
from bot.cli.partners import warn_after_load
from bot.health import probe
from bot.logging_safety import configure as configure_logging
from bot.manifest import manifest
from bot.processes.memo_store import MemoStoreProcess, serve
from bot.processes.worker import WorkerProcess, listen_for_kicks
from bot.server import make_server
from bot.settings import Settings
from bot.slack import TokenRefused, check_tokens
from bot.socket_mode import start_socket_mode
from handlers.common import deferred
from handlers.common.services import Services
from handlers.common.texts import t
from handlers.intake.writer import store_elsewhere
from handlers.partners import identity
from models.base import crypto, offload
from models.base.clock import system_clock
from models.base.db import transaction
from models.ops import migrate
from models.ops.backup import holds_data, sqlite_file
from models.org.orgfile import OrgFileError, load_file
from models.org.roster import ORG_FILE_RECORD, put_setting

# Seconds a thread may hold the interpreter while others wait (Python's default: 5 ms).
SWITCH_INTERVAL = 0.001

WORKER_NICENESS = 5  # the worker's CPU priority below the door's (see cmd_worker)


def register(sub) -> None:
    run = sub.add_parser("run", help="ボットを起動する（Socket Mode / --http）")
    run.add_argument("--http", action="store_true", help="HTTP で /slack/events を受ける")
    run.add_argument(
        "--host", default="0.0.0.0", help="HTTP モードで待ち受けるアドレス（既定 0.0.0.0）"
    )
    run.add_argument("--port", type=int, default=3000, help="HTTP モードのポート（既定 3000）")
    # waitress's default. More threads only add requests fighting over one GIL and one SQLite
    # writer: with 8, `tsunagi bench` measured memo answers twice as slow (8 clients).
    run.add_argument(
        "--threads", type=int, default=4, help="HTTP モードで同時に処理する数（既定 4）"
    )
    run.set_defaults(func=cmd_run)

    # Started by `run` (bot/processes/). argparse cannot hide a subcommand: its help says so.
    worker = sub.add_parser(
        "worker", help="配信とリマインダーの処理（run が自動で起動します。直接は使いません）"
    )
    worker.add_argument("--kick-fd", type=int, required=True, help="run から起こされるためのパイプ")
    worker.set_defaults(func=cmd_worker)
    store = sub.add_parser(
        "store", help="つなぎメモの保存（run が自動で起動します。直接は使いません）"
    )
    store.add_argument("--fd", type=int, required=True, help="run とつながるソケット")
    store.set_defaults(func=cmd_store)

    man = sub.add_parser("manifest", help="Slack アプリのマニフェスト（YAML）を表示する")
    man.add_argument("--http-url", help="HTTP モードの公開URL（例 https://tsunagi.example.jp）")
    man.set_defaults(func=cmd_manifest, settings_needed=False)

    org = sub.add_parser("org", help="組織ファイル").add_subparsers(
        dest="org_command", required=True
    )
    load = org.add_parser("load", help="組織ファイル（TOML）を読み込む")
    load.add_argument("file", type=Path, help="組織ファイル（例 tatsuno.toml）")
    load.set_defaults(func=cmd_org_load)

    db = sub.add_parser("db", help="データベース").add_subparsers(dest="db_command", required=True)
    upgrade = db.add_parser(
        "upgrade",
        help="スキーマを作成・更新する（データがあれば、先にバックアップを取ります）",
    )
    upgrade.add_argument(
        "--backup-dir",
        type=Path,
        help="更新前のバックアップの保存先（既定：SQLite のファイルと同じフォルダの backups）",
    )
    upgrade.add_argument(
        "--no-backup",
        action="store_true",
        help="バックアップを取らずに更新する（自分で取ってある場合だけ）",
    )
    upgrade.set_defaults(func=cmd_db_upgrade)

    keys = sub.add_parser("keys", help="暗号鍵").add_subparsers(dest="keys_command", required=True)
    keys.add_parser("generate", help="新しい暗号鍵を表示する").set_defaults(
        func=cmd_keys_generate, settings_needed=False
    )
    register_rotate(keys)


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt  # leaves the server loop; `finally` stops the worker


def cmd_run(args, settings: Settings) -> int:
    missing = settings.missing_for_run(http=args.http)
    if missing:
        return fail(t("cli.missing_settings", names="\n".join(f"  {n}" for n in missing)))
    configure_logging(logging.INFO)  # every logger's lines made safe (bot/logging_safety.py)
    try:
        runtime.prepare_database(settings).dispose()  # the schema and the key: here, offline
    except crypto.KeyProblem as exc:
        return fail(key_problem(exc))
    except runtime.NotReady as exc:
        return fail(t(str(exc)))
    # A refused token stops here, in words (Bolt would end in an English traceback).
    app_token = None if args.http else settings.app_token
    try:
        check_tokens(settings.bot_token, app_token, settings.slack_api_url)
    except TokenRefused as exc:
        return fail(t("cli.token_refused", name=exc.variable, error=exc.error))
    except Exception as exc:  # the network: systemd starts the bot again a little later
        return fail(t("cli.slack_unreachable", kind=type(exc).__name__), 1)
    socket_mode = None
    worker = WorkerProcess()  # delivery and reminders in their own process (bot/processes/)
    memo_store = MemoStoreProcess()  # memos stored on the other core (bot/processes/)
    rt = runtime.build(settings, kick_delivery=worker.kick)
    rt.worker, rt.memo_store = worker, memo_store
    offload.isolate()  # numpy, scipy and matplotlib only in short-lived children: RSS stays low
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # systemd/docker stop: shut down cleanly
    worker.start()
    memo_store.start()
    store_elsewhere(memo_store.store)
    # Everything built so far (Bolt, SQLAlchemy, slack_sdk, the app) lives as long as the process:
    # left to the collector, each full collection walked it all and stopped every request for
    # about 60 ms; frozen, one takes about 6 ms (`tsunagi bench`, README).
    gc.collect()
    gc.freeze()
    # A request waiting for the interpreter gets it within 1 ms, not 5: the acknowledgement of a
    # click no longer waits behind the work after earlier clicks' acknowledgements (`tsunagi
    # bench`: the 引き受ける button's p99 from 1.6x to 1.1x a bare Bolt app).
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        if args.http:
            server = make_server(
                rt.app,
                host=args.host,
                port=args.port,
                threads=args.threads,
                health=probe(rt.engine, scheduler=worker, memo_store=memo_store),
            )
            logging.getLogger("tsunagi").info("HTTP mode on port %s", server.effective_port)
            server.run()
        else:
            # the size cap (bot/door.py), a prompt reconnect and /healthz: bot/socket_mode.py
            socket_mode = start_socket_mode(
                rt,
                settings.app_token,
                health_port=settings.health_port,
                alert_after=settings.socket_alert_after,
            )
            socket_mode.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if socket_mode is not None:
            socket_mode.close()
        deferred.flush(timeout=5)  # clicks already answered are stored before the worker goes
        identity.flush(timeout=5)  # refusals answered are audited
        failures.flush(timeout=5)  # and failures answered are told
        store_elsewhere(None)
        memo_store.stop()
        worker.stop()
    return 0


def cmd_worker(args, settings: Settings) -> int:
    """The delivery loop and the scheduler, until `tsunagi run` stops or leaves
    (bot/processes/worker.py)."""
    configure_logging(logging.INFO)
    try:
        rt = runtime.build(settings, verify_token=False)  # the server has just checked it
    except (crypto.KeyProblem, runtime.NotReady):
        return 2  # the server refused the same settings a moment ago and said why
    offload.isolate()
    with contextlib.suppress(OSError):
        # The door answers Slack within its 3 seconds; the worker's work (clicks, answers,
        # deliveries) can wait a moment. On a busy machine the door goes first.
        os.nice(WORKER_NICENESS)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    listen_for_kicks(args.kick_fd, rt.delivery.kick, done.set)
    rt.delivery.start()
    rt.scheduler.start()  # reminders due while the bot was down are dispatched now
    try:
        done.wait()
    finally:
        rt.scheduler.stop()
        rt.delivery.stop()
    return 0


def cmd_store(args, settings: Settings) -> int:
    """The memo store, until `tsunagi run` stops or leaves (bot/processes/memo_store.py)."""
    configure_logging(logging.INFO)
    try:
        engine = runtime.prepare_database(settings)
    except (crypto.KeyProblem, runtime.NotReady):
        return 2  # the server refused the same settings a moment ago and said why
    signal.signal(signal.SIGTERM, lambda *_: os.close(args.fd))  # recv ends: serve returns
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    gc.collect()
    gc.freeze()  # as in the server: what lives for good is not walked at every collection
    services = Services(engine=engine, clock=system_clock, kick_delivery=lambda: None)
    serve(args.fd, services.for_requests)
    return 0


def cmd_manifest(args, settings: Settings) -> int:
    print(manifest(args.http_url), end="")
    return 0


def cmd_org_load(args, settings: Settings) -> int:
    engine = current_database(settings)
    if engine is None:
        return fail(t("cli.db_not_current"))
    try:
        with transaction(engine) as session:
            result = load_file(session, args.file)
            # for `tsunagi check`: which file is in force, and since when
            record = {"path": str(args.file.resolve()), "loaded_at": datetime.now(UTC).isoformat()}
            put_setting(session, ORG_FILE_RECORD, record)
    except OrgFileError as exc:
        return fail(refused_file(args.file, t("orgfile.refused"), exc.problems, "orgfile."))
    except OSError as exc:
        return fail(f"{args.file}: {exc.strerror}")
    print(t("orgfile.loaded", **result.__dict__))
    warn_after_load(settings, engine)  # a case channel shared with another organisation
    return 0


@command
def cmd_db_upgrade(args, settings: Settings) -> int:
    """Nothing to do on a current schema; a database holding data is backed up first (and the
    upgrade refused when no backup can be made, unless --no-backup says one exists)."""
    engine = open_database(settings, current=False, create=True)
    try:
        if migrate.is_current(engine):
            print(t("cli.db_already_current", revision=migrate.current_revision(engine)))
            return 0
        if holds_data(engine):
            if args.no_backup:
                print(t("cli.db_upgrade_without_backup"))
            else:
                dest = args.backup_dir or _default_backup_dir(settings)
                try:
                    dest.mkdir(mode=0o700, parents=True, exist_ok=True)  # a folder: dated files
                except OSError as exc:
                    raise Stop(t("ops.file_problem", path=dest, detail=exc.strerror), 2) from exc
                path, _ = take_backup(settings, engine, dest)
                print(t("cli.db_backup_before_upgrade", path=path))
        before = migrate.current_revision(engine) or "-"
    finally:
        engine.dispose()
    migrate.upgrade(settings.database_url)
    print(t("cli.db_upgraded", before=before, after=migrate.head_revision(settings.database_url)))
    return 0


def _default_backup_dir(settings: Settings) -> Path:
    """SQLite: a `backups` folder beside the database file. PostgreSQL: it must be named."""
    file = sqlite_file(settings.database_url)
    if file is None:
        raise Stop(t("cli.db_backup_dir_needed"), 2)
    return file.resolve().parent / "backups"


def cmd_keys_generate(args, settings: Settings) -> int:
    print(crypto.generate_key())
    return 0
