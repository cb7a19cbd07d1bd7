"""`tsunagi linknet post [--period YYYY-MM] [--again]` and
`tsunagi report fy 2026 --format csv|xlsx [--output FILE] [--internal --as U…]`.

The post goes through the outbox (the same publication and notices as the monthly job) and is
delivered right away. The report is written with the same disclosure control as the posts and
recorded in the same ledger, so neither can be subtracted from the other; `--internal` (exact
counts, not recorded) needs an admin of the org file named with --as, is written to the audit
log, and says so on the sheet.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from datetime import datetime
from pathlib import Path

from sqlmodel import select

from bot.cli.common import fail, free_output_then_database, prepared_database
from bot.cli.files import OutputExists, add_force, csv_row, write_private
from bot.delivery import Delivery
from bot.settings import Settings
from bot.slack import make_client
from handlers.common.texts import t
from handlers.linknet.views import period_label, report_rows, source_label
from models.base.clock import TOKYO, FrozenClock, system_clock
from models.base.db import transaction
from models.base.errors import DomainError
from models.linknet.figures import exact, published, report_layout
from models.linknet.periods import Month, Period, last_complete_month
from models.linknet.posting import chart_key, post, post_key, report
from models.ops import audit
from models.org.roster import member_by_slack_id
from models.org.tables import Role
from models.queues.tables import Notice, NoticeState
from reminders.linknet_job import ack_deadline_function


def register(sub) -> None:
    group = sub.add_parser("linknet", help="リンクネット会議の集計（投稿）")
    cmds = group.add_subparsers(dest="linknet_command", required=True)
    post_cmd = cmds.add_parser("post", help="月次集計をリンクネットのチャンネルに投稿する")
    post_cmd.add_argument("--period", help="集計する月（YYYY-MM、省略時は前月）")
    post_cmd.add_argument("--again", action="store_true", help="投稿済みの月をもう一度投稿する")
    post_cmd.add_argument("--at", help=argparse_hidden())
    post_cmd.set_defaults(func=cmd_post)

    report_cmd = sub.add_parser("report", help="年次の実績報告")
    kinds = report_cmd.add_subparsers(dest="report_command", required=True)
    fy = kinds.add_parser("fy", help="年度の実績表（国への報告用）を書き出す")
    fy.add_argument("year", type=int, help="年度（例 2026 = 令和8年度：2026年4月〜2027年3月）")
    fy.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="形式（既定 csv）")
    fy.add_argument("--output", type=Path, help="出力ファイル（csv は省略時に画面へ）")
    add_force(fy)
    fy.add_argument("--internal", action="store_true", help="開示制御なし（管理者のみ・内部用）")
    fy.add_argument("--as", dest="as_user", help="--internal を使う管理者の Slack ID（U…）")
    fy.add_argument("--at", help=argparse_hidden())
    fy.set_defaults(func=cmd_report)


def argparse_hidden() -> str:
    return argparse.SUPPRESS  # --at: "now" for tests and back-dated runs (ISO 8601, JST)


def _clock(args):
    if not args.at:
        return system_clock
    at = datetime.fromisoformat(args.at.strip())
    return FrozenClock(at if at.tzinfo else at.replace(tzinfo=TOKYO))


def cmd_post(args, settings: Settings) -> int:
    if not settings.bot_token:
        return fail(t("reminder.cli.missing_token"))
    try:
        clock = _clock(args)
    except ValueError:
        return fail(t("reminder.cli.bad_at"))
    engine, problem = prepared_database(settings)
    if engine is None:
        return fail(problem)
    now = clock()
    try:
        try:
            month = Month.parse(args.period) if args.period else last_complete_month(now)
            with transaction(engine) as session:
                result = post(
                    session,
                    month=month,
                    now=now,
                    deadline=ack_deadline_function(session),
                    again=args.again,
                )
        except DomainError as exc:
            return fail(t(exc.code, **exc.params))
        label = period_label(Period.month(month))
        if not result.created:
            print(t("linknet.cli.already", period=label))
            return 0
        delivery = Delivery(
            engine,
            make_client(settings.bot_token, settings.slack_api_url, retries=False),
            clock,
            channel_interval=settings.channel_interval,
        )
        delivery.run_once()
        with transaction(engine) as session:
            sent = _all_sent(session, result.publication_id)
    finally:
        engine.dispose()
    if result.withheld:
        names = "、".join(source_label(s) for s in sorted(result.withheld))
        print(t("linknet.cli.withheld", sources=names))
    print(
        t(
            "linknet.cli.posted" if sent else "linknet.cli.queued",
            period=label,
            channel=result.channel,
        )
    )
    return 0


def _all_sent(session, publication_id: int) -> bool:
    keys = [post_key(publication_id), chart_key(publication_id)]
    rows = session.exec(select(Notice).where(Notice.key.in_(keys))).all()
    return len(rows) == 2 and all(n.state == NoticeState.sent for n in rows)


def cmd_report(args, settings: Settings) -> int:
    try:
        clock = _clock(args)
    except ValueError:
        return fail(t("reminder.cli.bad_at"))
    if args.internal and not args.as_user:
        return fail(t("linknet.cli.internal_needs_admin"))
    if args.format == "xlsx" and args.output is None:
        args.output = Path(f"tsunagi-report-fy{args.year}.xlsx")
    engine, problem = free_output_then_database(args, settings)
    if engine is None:
        return fail(problem)
    now = clock()
    admin = denied = pub = None
    try:
        with transaction(engine) as session:
            if args.internal:
                slack_id = args.as_user.strip()[:32]
                member = member_by_slack_id(session, slack_id)
                allowed = member is not None and member.has(Role.admin)
                audit.record(
                    session,
                    at=now,
                    actor_slack_id=slack_id,
                    actor_member_id=member.id if member else None,
                    action="linknet.report_internal",
                    allowed=allowed,
                    detail=f"fy{args.year}",
                )
                if allowed:
                    admin = member
                    pub = exact(session, report_layout(args.year, now=now), now=now)
                else:
                    denied = t("linknet.cli.internal_not_admin", slack_id=slack_id)
            else:
                publication_id = report(
                    session, fy=args.year, now=now, deadline=ack_deadline_function(session)
                )
                pub = published(session, publication_id)
    except DomainError as exc:
        return fail(t(exc.code, **exc.params))
    finally:
        engine.dispose()
    if denied:
        return fail(denied)
    heading = _heading(pub, args.year, now, admin)
    table = report_rows(pub)
    if args.format == "csv":
        text = _csv(heading, table)
        if args.output is None:
            sys.stdout.write(text)
            return 0
        data: str | bytes = text
    else:
        data = _xlsx(heading, table, internal=admin is not None)
    try:
        write_private(args.output, data, force=args.force, encoding="utf-8-sig")
    except OutputExists as exc:
        return fail(exc.text)
    except OSError as exc:
        return fail(t("ops.file_problem", path=args.output, detail=exc.strerror))
    print(t("linknet.cli.report_written", fy=args.year, path=args.output))
    return 0


def _heading(pub, fy: int, now: datetime, admin) -> list[str]:
    current, previous = pub.layout.columns
    when = now.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    lines = [
        t("linknet.report.title", fy=fy),
        t("linknet.report.period", current=period_label(current), previous=period_label(previous)),
    ]
    if admin is not None:
        lines.append(
            t("linknet.report.internal", name=admin.name, slack_id=admin.slack_id, when=when)
        )
    else:
        lines.append(t("linknet.report.controlled", k=pub.k))
    lines.append(t("linknet.report.made", when=when))
    return lines


def _csv(heading: list[str], table: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in heading:
        writer.writerow(csv_row([line]))
    writer.writerow([])
    writer.writerows(csv_row(row) for row in table)
    return out.getvalue()


def _xlsx(heading: list[str], table: list[list[str]], *, internal: bool) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = t("linknet.report.sheet")
    for i, line in enumerate(heading, start=1):
        cell = sheet.cell(row=i, column=1, value=line)
        cell.data_type = "s"  # the admin's name comes from the org file: never a formula
        cell.font = Font(
            bold=i == 1, size=14 if i == 1 else 11, color="C00000" if internal and i == 3 else None
        )
    start = len(heading) + 2
    for r, row in enumerate(table):
        for c, value in enumerate(row, start=1):
            number = value.isdigit() and c >= 3
            cell = sheet.cell(row=start + r, column=c, value=int(value) if number else value)
            if not number:
                cell.data_type = "s"  # openpyxl would store a leading "=" as a formula
            if r == 0:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDEBF7")
            if c >= 3:
                cell.alignment = Alignment(horizontal="right")
    for column, width in zip("ABCD", (40, 28, 26, 16), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = sheet.cell(row=start + 1, column=1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
