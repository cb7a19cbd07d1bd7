"""`tsunagi backup DEST` and `tsunagi restore SRC [--force]`."""

from __future__ import annotations

from pathlib import Path

from bot.cli.common import OK, PROBLEM, Stop, command, configure_keys, open_database
from bot.settings import Settings
from handlers.common.texts import t
from models.base.clock import system_clock
from models.base.db import transaction
from models.ops import audit, backup, migrate


def register(sub) -> None:
    b = sub.add_parser("backup", help="稼働中のままデータベースのバックアップを作る")
    b.add_argument("dest", type=Path, help="保存先のファイル、またはフォルダ（日時の名前で作成）")
    b.set_defaults(func=cmd_backup)
    r = sub.add_parser("restore", help="バックアップからデータベースを復元する")
    r.add_argument("src", type=Path, help="tsunagi backup で作ったファイル")
    r.add_argument(
        "--force", action="store_true", help="データが入っているデータベースでも上書きする"
    )
    r.set_defaults(func=cmd_restore)


def _problem(exc: backup.BackupProblem, code: int = PROBLEM) -> Stop:
    return Stop(t(f"ops.backup.{exc.code}", **exc.params), code)


def _describe(summary: backup.Summary) -> str:
    return t(
        "ops.backup.contents",
        cases=summary.count("case"),
        entries=summary.count("auditentry"),
        revision=summary.revision,
    )


def take_backup(settings: Settings, engine, dest: Path) -> tuple[Path, backup.Summary]:
    """A checked backup of the configured database at `dest` (a file, or a folder for a dated
    one), or Stop saying why not. Used by `tsunagi backup` and before `tsunagi db upgrade`."""
    try:
        file = backup.sqlite_file(settings.database_url)
        suffix = ".db" if file is not None else ".dump"
        target = backup.target_path(dest, at=system_clock(), suffix=suffix)
        if file is not None:
            return target, backup.backup_sqlite(engine, target)
        if not backup.PostgresTools.available():
            raise Stop(t("ops.backup.pg_tools_missing", dest=target), 2)
        return target, backup.backup_postgres(settings.database_url, target)
    except backup.BackupProblem as exc:
        usage = exc.code in ("exists", "no_folder", "memory_database")
        raise _problem(exc, 2 if usage else PROBLEM) from exc
    except OSError as exc:
        raise Stop(t("ops.file_problem", path=dest, detail=exc.strerror), PROBLEM) from exc


@command
def cmd_backup(args, settings: Settings) -> int:
    engine = open_database(settings, current=False)
    try:
        dest, summary = take_backup(settings, engine, args.dest)
    finally:
        engine.dispose()
    print(t("ops.backup.done", path=dest))
    print(_describe(summary))
    print(t("ops.backup.key_reminder"))
    return OK


@command
def cmd_restore(args, settings: Settings) -> int:
    configure_keys(settings)
    engine = open_database(settings, current=False, create=True)  # a new server: a new file
    try:
        file = backup.sqlite_file(settings.database_url)
        if file is None and not backup.PostgresTools.available():
            raise Stop(t("ops.backup.pg_tools_missing_restore", src=args.src), 2)
        tools = None if file is not None else backup.PostgresTools.from_url(settings.database_url)
        incoming = backup.inspect_sqlite(args.src) if tools is None else tools.inspect(args.src)
        backup.check_key_proof(incoming)
        if tools is not None and incoming.revision is None:
            raise backup.BackupProblem("not_tsunagi")
        current = backup.summarise(engine)
        if any(current.counts.values()) and not args.force:
            raise Stop(
                t(
                    "ops.backup.target_not_empty",
                    cases=current.count("case"),
                    entries=current.count("auditentry"),
                    members=current.count("member"),
                ),
                2,
            )
        kept = None
        if tools is None:
            kept = backup.restore_sqlite(args.src, engine, at=system_clock())
        else:
            if any(current.counts.values()):
                kept = backup.target_path(
                    args.src.parent, at=system_clock(), suffix=".before-restore.dump"
                )
                backup.backup_postgres(settings.database_url, kept)
            tools.restore(args.src)
            engine.dispose()
        # What the backup had not sent may have gone out since: each is looked for in Slack
        # before it is sent (bot/delivery.py), never posted blindly.
        to_verify = backup.mark_unsent_for_verification(engine)
        restored = backup.summarise(engine)
        up_to_date = migrate.is_current(engine)
        if up_to_date:
            with transaction(engine) as session:
                audit.record(
                    session,
                    at=system_clock(),
                    actor_slack_id=audit.SYSTEM_ACTOR,
                    action="backup.restore",
                    allowed=True,
                    detail=f"revision={restored.revision} verify={to_verify}",
                )
    except backup.BackupProblem as exc:
        raise _problem(exc, 2 if exc.code == "key_mismatch" else PROBLEM) from exc
    finally:
        engine.dispose()
    print(t("ops.backup.restored", path=args.src))
    print(_describe(restored))
    if kept is not None:
        print(t("ops.backup.kept", path=kept))
    if not up_to_date:
        print(t("ops.backup.upgrade_needed"))
    print(t("ops.backup.restart"))
    return OK
