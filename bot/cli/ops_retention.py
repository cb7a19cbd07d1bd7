"""`tsunagi retention run [--dry-run]` and `tsunagi erase R8-0001 --as U… --reason …`
(or `tsunagi erase OT-0007 …` for an outreach target without a case)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from sqlmodel import Session

from bot.cli.common import OK, PROBLEM, Stop, command, configure_keys, open_database
from bot.settings import Settings
from handlers.common.texts import t
from models.base.clock import TOKYO, system_clock
from models.base.db import transaction
from models.base.errors import DomainError
from models.cases.records import case_by_number
from models.cases.tables import Case
from models.ops import audit, retention
from models.ops.erasure import (
    erase,
    erase_target,
    is_target_label,
    may_erase,
    may_erase_target,
    target_by_label,
)
from models.ops.tables import ERASE_REASONS
from models.org.roster import member_by_slack_id
from models.outreach.tables import OutreachTarget


def register(sub) -> None:
    group = sub.add_parser("retention", help="保存期間を過ぎたケースの個人情報を消去する")
    cmds = group.add_subparsers(dest="retention_command", required=True)
    run = cmds.add_parser(
        "run", help="保存期間を過ぎたケースの個人情報を消去する（毎月自動でも実行）"
    )
    run.add_argument("--dry-run", action="store_true", help="対象の受付番号を表示するだけにする")
    run.set_defaults(func=cmd_retention_run)

    erase = sub.add_parser(
        "erase",
        help="1件のケース（またはケースのないアウトリーチ）の個人情報を、請求などにより消去する",
    )
    erase.add_argument(
        "number", help="受付番号（例 R8-0001）、またはケースのないアウトリーチの番号（例 OT-0007）"
    )
    erase.add_argument(
        "--as", dest="actor", required=True, metavar="U…", help="実行する職員の Slack ユーザーID"
    )
    erase.add_argument(
        "--reason",
        required=True,
        choices=ERASE_REASONS,
        help="request=本人の請求、withdrawn=同意の撤回、mistake=誤登録、duplicate=重複、other=その他",
    )
    erase.add_argument(
        "--force", action="store_true", help="対応中のケース・アウトリーチでも消去する"
    )
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
    print(t("ops.retention.rule_outreach"))
    if not result.due:
        print(t("ops.retention.none_due"))
    else:
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
    if not result.targets:
        print(t("ops.retention.none_due_targets"))
    else:
        head = (
            "ops.retention.would_erase_targets" if args.dry_run else "ops.retention.erased_targets"
        )
        print(t(head, count=len(result.targets)))
        for target in result.targets:
            print(
                t(
                    "ops.retention.target_line",
                    label=target.label,
                    ended=_day(target.ended_at),
                    erasable=target.erasable_from.isoformat(),
                )
            )
    if not args.dry_run and (result.due or result.targets):
        print(t("ops.retention.backups_note"))
    return OK


def _confirm(args, number: str, *, code: str = "ops.erase.confirm") -> None:
    """Erasing cannot be undone: `--yes`, or the number typed again at the terminal."""
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise Stop(t("ops.erase.needs_yes"))
    print(t(code, number=number), end="", flush=True)
    if sys.stdin.readline().strip().upper() != number:
        raise Stop(t("ops.erase.not_confirmed"), PROBLEM)


@command
def cmd_erase(args, settings: Settings) -> int:
    if is_target_label(args.number):
        return _erase_target(args, settings)
    configure_keys(settings)
    engine = open_database(settings)
    now = system_clock()
    try:
        with transaction(engine) as session:
            try:
                case = case_by_number(session, args.number)
            except DomainError as exc:
                raise Stop(t("ops.erase.case_not_found", number=args.number), PROBLEM) from exc
            member = member_by_slack_id(session, args.actor.strip())
            refusal = may_erase(session, case=case, member=member, force=args.force)
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
        _confirm(args, number)
        done = _erase_now(
            engine,
            lambda session: erase(
                session,
                case=case_by_number(session, number),
                member=member_by_slack_id(session, args.actor.strip()),
                reason=args.reason,
                at=now,
                force=args.force,
            ),
        )
    finally:
        engine.dispose()
    return _erased(t("ops.erase.done", number=number, values=done.values))


def _erase_target(args, settings: Settings) -> int:
    """`tsunagi erase OT-0007 …`: an outreach target without a case (one with a case goes with
    its case). The same checks, confirmation and audit as for a case."""
    configure_keys(settings)
    engine = open_database(settings)
    now = system_clock()
    actor = args.actor.strip()
    try:
        with transaction(engine) as session:
            try:
                target = target_by_label(session, args.number)
            except DomainError as exc:
                raise Stop(t(exc.code, **exc.params), PROBLEM) from exc
            member = member_by_slack_id(session, actor)
            refusal = may_erase_target(session, target=target, member=member, force=args.force)
            if refusal is not None:
                audit.record(
                    session,
                    at=now,
                    actor_slack_id=actor[:32],
                    actor_member_id=member.id if member else None,
                    action="outreach.erase",
                    allowed=False,
                    detail=f"outreach:{target.id}:{refusal}",
                )
            label, target_id = target.label, target.id
            case = session.get(Case, target.case_id) if target.case_id else None
        if refusal is not None:
            raise Stop(t(refusal, number=label, case=case.number if case else ""), PROBLEM)
        _confirm(args, label, code="ops.erase.confirm_target")
        values = _erase_now(
            engine,
            lambda session: erase_target(
                session,
                target=session.get(OutreachTarget, target_id),
                member=member_by_slack_id(session, actor),
                reason=args.reason,
                at=now,
                force=args.force,
            ),
        )
    finally:
        engine.dispose()
    return _erased(t("ops.erase.done_target", number=label, values=values))


def _erase_now(engine, erasure: Callable[[Session], object]):
    """The confirmed erasure in its own transaction; a change meanwhile (e.g. erased by another
    run) stops the command with its reason. The database file keeps no copy afterwards."""
    with transaction(engine) as session:
        try:
            done = erasure(session)
        except DomainError as exc:
            raise Stop(t(exc.code, **exc.params), PROBLEM) from exc
    retention.checkpoint(engine)
    return done


def _erased(text: str) -> int:
    print(text)
    print(t("ops.retention.backups_note"))
    return OK
