"""`tsunagi retention run [--dry-run]` and `tsunagi erase R8-0001 --as U… --reason …`."""

from __future__ import annotations

import sys

from bot.commands.ops import OK, PROBLEM, Stop, command, configure_keys, open_database
from bot.settings import Settings
from handlers.texts import t
from models import audit, retention
from models.cases import case_by_number
from models.clock import TOKYO, system_clock
from models.db import transaction
from models.errors import DomainError
from models.org import member_by_slack_id


def register(sub) -> None:
    group = sub.add_parser("retention", help="保存期間を過ぎたケースの個人情報を消去する")
    cmds = group.add_subparsers(dest="retention_command", required=True)
    run = cmds.add_parser(
        "run", help="保存期間を過ぎたケースの個人情報を消去する（毎月自動でも実行）"
    )
    run.add_argument("--dry-run", action="store_true", help="対象の受付番号を表示するだけにする")
    run.set_defaults(func=cmd_retention_run)

    erase = sub.add_parser("erase", help="1件のケースの個人情報を、請求などにより消去する")
    erase.add_argument("number", help="受付番号（例 R8-0001）")
    erase.add_argument(
        "--as", dest="actor", required=True, metavar="U…", help="実行する職員の Slack ユーザーID"
    )
    erase.add_argument(
        "--reason",
        required=True,
        choices=retention.ERASE_REASONS,
        help="request=本人の請求、withdrawn=同意の撤回、mistake=誤登録、duplicate=重複、other=その他",
    )
    erase.add_argument("--force", action="store_true", help="対応中のケースでも消去する")
    erase.add_argument("--yes", action="store_true", help="確認の入力を省く（スクリプト用）")
    erase.set_defaults(func=cmd_erase)


def _day(at) -> str:
    return at.astimezone(TOKYO).strftime("%Y-%m-%d")


@command
def cmd_retention_run(args, settings: Settings) -> int:
    configure_keys(settings)  # erased values that may not be NULL are stored encrypted
    engine = open_database(settings)
    try:
        result = retention.run(engine, now=system_clock(), dry_run=args.dry_run)
    finally:
        engine.dispose()
    print(t("ops.retention.rule", years=result.years))
    if not result.due:
        print(t("ops.retention.none_due"))
        return OK
    head = "ops.retention.would_erase" if args.dry_run else "ops.retention.erased"
    print(t(head, count=len(result.due)))
    for item in result.due:
        print(
            t(
                "ops.retention.line",
                number=item.number,
                closed=_day(item.closed_at),
                erasable=item.erasable_from.isoformat(),
            )
        )
    if not args.dry_run:
        print(t("ops.retention.backups_note"))
    return OK


def _confirmed(number: str) -> bool:
    print(t("ops.erase.confirm", number=number), end="", flush=True)
    answer = sys.stdin.readline().strip().upper()
    return answer == number


@command
def cmd_erase(args, settings: Settings) -> int:
    configure_keys(settings)
    engine = open_database(settings)
    now = system_clock()
    try:
        with transaction(engine) as session:
            try:
                case = case_by_number(session, args.number)
            except DomainError as exc:
                raise Stop(t(exc.code, **exc.params), PROBLEM) from exc
            member = member_by_slack_id(session, args.actor.strip())
            refusal = retention.may_erase(session, case=case, member=member, force=args.force)
            if refusal is not None:
                audit.record(
                    session,
                    at=now,
                    actor_slack_id=args.actor.strip()[:32],
                    actor_member_id=member.id if member else None,
                    action="case.erase",
                    case_id=case.id,
                    allowed=False,
                    detail=refusal,
                )
            number = case.number
        if refusal is not None:
            raise Stop(t(refusal, number=number), PROBLEM)
        if not args.yes:
            if not sys.stdin.isatty():
                raise Stop(t("ops.erase.needs_yes"))
            if not _confirmed(number):
                raise Stop(t("ops.erase.not_confirmed"), PROBLEM)
        with transaction(engine) as session:
            try:
                done = retention.erase(
                    session,
                    case=case_by_number(session, number),
                    member=member_by_slack_id(session, args.actor.strip()),
                    reason=args.reason,
                    at=now,
                    force=args.force,
                )
            except DomainError as exc:  # changed meanwhile (e.g. erased by another run)
                raise Stop(t(exc.code, **exc.params), PROBLEM) from exc
        retention.checkpoint(engine)
    finally:
        engine.dispose()
    print(t("ops.erase.done", number=number, values=done.values))
    print(t("ops.retention.backups_note"))
    return OK
