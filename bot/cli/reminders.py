"""`tsunagi reminders list [--all]` and `tsunagi reminders send-due [--at ISO-8601]`.

Both are safe while the bot runs: send-due claims reminders and notices with the same row locks
as the bot, so two of them at once (or one beside the bot) still send each reminder once.
The listing shows ids, kinds, receipt numbers, times and states — never personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import runtime
from bot.cli.common import fail, key_problem, print_table
from bot.delivery import Delivery
from bot.scheduler import load_reminders
from bot.settings import Settings
from bot.slack import make_client
from handlers.common.texts import t
from models.base import crypto
from models.base.clock import TOKYO, FrozenClock, system_clock
from models.base.db import make_engine, transaction
from models.cases.tables import Case
from models.ops import migrate
from models.org.tables import Agency, Member
from models.queues.reminders import listing
from models.queues.tables import RecipientKind, SubjectKind
from reminders.dispatcher import dispatch_due


def register(sub) -> None:
    group = sub.add_parser("reminders", help="リマインダー（一覧・期限の来たものの送信）")
    cmds = group.add_subparsers(dest="reminders_command", required=True)
    list_cmd = cmds.add_parser("list", help="送信待ちのリマインダーを表示する（個人情報なし）")
    list_cmd.add_argument("--all", action="store_true", help="送信済み・取り消し・失敗も表示する")
    list_cmd.set_defaults(func=cmd_list)
    send = cmds.add_parser("send-due", help="その時刻までに期限の来たリマインダーを今すぐ送る")
    send.add_argument("--at", help="この時刻として処理する（ISO 8601、省略時は現在）")
    send.set_defaults(func=cmd_send_due)


def parse_at(value: str) -> datetime:
    """ISO 8601; without a zone it is Japan time."""
    at = datetime.fromisoformat(value.strip())
    return at if at.tzinfo is not None else at.replace(tzinfo=TOKYO)


PAST_SLACK = timedelta(minutes=5)  # a few minutes behind the clock: a typo, not a mistake
WARN_AHEAD = timedelta(days=7)
MAX_AHEAD = timedelta(days=366)


def check_at(at: datetime, *, now: datetime) -> tuple[str | None, str | None]:
    """(refusal, warning) for `--at`. Over a year ahead is refused: it would send a year of
    reminders at once. A past time only warns: it sends less than a run without --at (what
    was due by then), and another process's claims are never touched by it (models/queues/lease.py).
    """
    if at - now > MAX_AHEAD:
        return t("reminder.cli.at_too_far", at=_jst(at)), None
    if at < now - PAST_SLACK:
        return None, t("reminder.cli.at_in_past", at=_jst(at), now=_jst(now))
    if at - now > WARN_AHEAD:
        return None, t("reminder.cli.at_far_ahead", at=_jst(at))
    return None, None


def _jst(at: datetime | None) -> str:
    return at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") if at else "-"


def _open(settings: Settings):
    engine = make_engine(settings.database_url)
    if not migrate.is_current(engine):
        return None
    return engine


def rows(session, *, include_closed: bool) -> list[list[str]]:
    out = []
    for r in listing(session, include_closed=include_closed):
        number = "-"
        if r.subject_kind == SubjectKind.case and r.subject_id.isdigit():
            case = session.get(Case, int(r.subject_id))
            number = case.number if case else "-"
        recipient = f"{r.recipient_kind}:{r.recipient}"
        if r.recipient_kind == RecipientKind.agency and r.recipient.isdigit():
            agency = session.get(Agency, int(r.recipient))
            recipient = f"agency:{agency.key}" if agency else recipient
        elif r.recipient_kind == RecipientKind.member and r.recipient.isdigit():
            member = session.get(Member, int(r.recipient))
            recipient = f"member:{member.slack_id}" if member else recipient
        state = t(f"reminder.state.{r.state}")
        if r.late:
            state += t("reminder.cli.late")
        if r.attempts > 1 or r.last_error:
            state += f" [{r.attempts}:{r.last_error or ''}]"
        shown = r.sent_at if r.sent_at else r.next_attempt_at
        out.append(
            [
                str(r.id),
                f"{r.subject_kind}:{r.subject_id}",
                number,
                r.rule,
                recipient,
                _jst(r.due_at),
                _jst(shown),
                state,
            ]
        )
    return out


def cmd_list(args, settings: Settings) -> int:
    engine = _open(settings)
    if engine is None:
        return fail(t("cli.db_not_current"))
    with transaction(engine, write=False) as session:
        table = rows(session, include_closed=args.all)
    engine.dispose()
    if not table:
        print(t("reminder.cli.none_at_all" if args.all else "reminder.cli.none"))
        return 0
    print_table(t("reminder.cli.header").split(), table)
    print(t("reminder.cli.count", count=len(table)))
    return 0


def cmd_send_due(args, settings: Settings) -> int:
    load_reminders()  # every reminder rule registered before any is dispatched (bot/scheduler.py)
    try:
        clock = FrozenClock(parse_at(args.at)) if args.at else system_clock
    except (ValueError, OverflowError):
        return fail(t("reminder.cli.bad_at"))
    if args.at:
        refusal, warning = check_at(clock(), now=system_clock())
        if refusal:
            return fail(refusal)
        if warning:
            print(warning)
    if not settings.bot_token:
        return fail(t("reminder.cli.missing_token"))
    try:
        engine = runtime.prepare_database(settings)  # current schema, and the right key
    except crypto.KeyProblem as exc:
        return fail(key_problem(exc))
    except runtime.NotReady as exc:
        return fail(t(str(exc)))
    try:
        now = clock()
        result = dispatch_due(engine, now=now)
        delivery = Delivery(
            engine,
            make_client(settings.bot_token, settings.slack_api_url, retries=False),
            clock,
            channel_interval=settings.channel_interval,
        )
        delivered = delivery.run_once()
    finally:
        engine.dispose()
    print(
        t(
            "reminder.cli.dispatched",
            at=_jst(now),
            sent=len(result.sent),
            cancelled=len(result.cancelled),
            deferred=len(result.deferred),
            retried=len(result.retried),
            failed=len(result.failed),
        )
    )
    print(t("reminder.cli.delivered", count=delivered))
    return 0
