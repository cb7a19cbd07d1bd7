"""`tsunagi keys rotate`: re-encrypt every personal field under the current key."""

from __future__ import annotations

from bot.cli.common import OK, PROBLEM, Stop, command, configure_keys, open_database
from bot.settings import Settings
from handlers.common.texts import t
from models.base.clock import system_clock
from models.base.db import transaction
from models.ops import audit
from models.ops.keys import TableRotation, UnreadableValue, key_opens, rotate_all


def register_rotate(keys) -> None:
    rotate = keys.add_parser(
        "rotate",
        help="個人情報を新しい鍵で暗号化し直す（TSUNAGI_ENCRYPTION_KEY=新しい鍵、"
        "TSUNAGI_OLD_ENCRYPTION_KEYS=古い鍵）",
    )
    rotate.add_argument("--batch-size", type=int, default=500, help="1回にまとめて処理する行数")
    rotate.set_defaults(func=cmd_rotate)


@command
def cmd_rotate(args, settings: Settings) -> int:
    if args.batch_size < 1:
        raise Stop(t("ops.keys.bad_batch"))
    configure_keys(settings)
    engine = open_database(settings)
    try:
        with transaction(engine) as session:
            opens = key_opens(session)
        if opens is False:
            raise Stop(t("ops.keys.keys_do_not_open"))
        if len(settings.encryption_keys) == 1:
            print(t("ops.keys.no_old_keys"))

        def progress(done: TableRotation) -> None:
            print(
                t("ops.keys.table_done", table=done.table, values=done.values, rotated=done.rotated)
            )

        try:
            result = rotate_all(engine, batch=args.batch_size, progress=progress)
        except UnreadableValue as exc:
            raise Stop(
                t(
                    "ops.keys.unreadable",
                    table=exc.table_name,
                    column=exc.column_name,
                    id=exc.row_id,
                ),
                PROBLEM,
            ) from exc
        with transaction(engine) as session:
            audit.record(
                session,
                at=system_clock(),
                actor_slack_id=audit.SYSTEM_ACTOR,
                action="keys.rotate",
                allowed=True,
                detail=f"rotated={result.rotated}",
            )
    finally:
        engine.dispose()
    print(t("ops.keys.rotated", values=result.values, rotated=result.rotated))
    if len(settings.encryption_keys) > 1:
        print(t("ops.keys.next_steps"))
    return OK
