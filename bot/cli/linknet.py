"""`tsunagi linknet post [--period YYYY-MM] [--again]` and
`tsunagi report fy 2026 --format csv|xlsx [--output FILE] [--official --as U…]`.

The post goes through the outbox (the same publication and notices as the monthly job) and is
delivered right away. The report (the publication, by default) is written with the same
disclosure control as the posts and recorded in the same ledger, so neither can be subtracted
from the other; `--official` — the return to the prefecture: exact counts, not recorded — needs
an admin or a coordinator of the org file named with --as, is written to the audit log with
that name, and says so on the sheet. Meeting counts are exact in both (meetings are not people).
The CSV and the xlsx hold the same rows: numbers as numbers, "—" before the first record.
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
from handlers.linknet.views import fiscal_year_label, period_label, report_rows, source_label
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
    fy.add_argument(
        "--official",
        "--internal",  # its earlier name
        dest="official",
        action="store_true",
        help="県への報告用（開示制御なしの正確な数。管理者・多機関協働担当者のみ、監査ログに記録）",
    )
    fy.add_argument(
        "--as", dest="as_user", metavar="U…", help="--official を実行する職員の Slack ID"
    )
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
    if args.official and not args.as_user:
        return fail(t("linknet.cli.official_needs_as"))
    if args.format == "xlsx" and args.output is None:
        args.output = Path(_file_name(args.year, clock(), official=args.official))
    engine, problem = free_output_then_database(args, settings)
    if engine is None:
        return fail(problem)
    now = clock()
    operator = denied = pub = None
    try:
        with transaction(engine) as session:
            if args.official:
                slack_id = args.as_user.strip()[:32]
                member = member_by_slack_id(session, slack_id)
                allowed = member is not None and (
                    member.has(Role.admin) or member.has(Role.coordinator)
                )
                audit.record(
                    session,
                    at=now,
                    actor_slack_id=slack_id,
                    actor_member_id=member.id if member else None,
                    action="linknet.report_official",
                    allowed=allowed,
                    detail=f"fy{args.year} {args.format}",
                )
                if allowed:
                    operator = member
                    pub = exact(session, report_layout(args.year, now=now), now=now)
                else:
                    denied = t("linknet.cli.official_not_allowed", slack_id=slack_id)
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
    over = pub.period.last == Period.fiscal_year(args.year).last
    heading = _heading(pub, args.year, now, operator, over=over)
    table = report_rows(pub, over=over)
    if args.format == "csv":
        text = _csv(heading, table)
        if args.output is None:
            sys.stdout.write(text)
            return 0
        data: str | bytes = text
    else:
        data = _xlsx(heading, table, official=operator is not None)
    try:
        write_private(args.output, data, force=args.force, encoding="utf-8-sig")
    except OutputExists as exc:
        return fail(exc.text)
    except OSError as exc:
        return fail(t("ops.file_problem", path=args.output, detail=exc.strerror))
    print(t("linknet.cli.report_written", year=fiscal_year_label(args.year), path=args.output))
    return 0


def _file_name(fy: int, now: datetime, *, official: bool) -> str:
    """実績報告_令和8年度（2026年度）_4月〜10月分.xlsx (months only while the year runs)."""
    year = Period.fiscal_year(fy)
    last = last_complete_month(now)
    part = (
        t("linknet.report.file_part", first=year.first.month, last=last.month)
        if year.first <= last < year.last
        else ""
    )
    kind = t("linknet.report.file_official") if official else ""
    return t("linknet.report.filename", year=fiscal_year_label(fy), part=part, kind=kind)


def _heading(pub, fy: int, now: datetime, operator, *, over: bool) -> list[str]:
    current, previous = pub.layout.columns
    when = now.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    title = (
        t("linknet.report.title", year=fiscal_year_label(fy))
        if over
        else t(
            "linknet.report.title_part",
            year=fiscal_year_label(fy),
            first=current.first.month,
            last=current.last.month,
        )
    )
    lines = [
        title,
        t(
            "linknet.report.period",
            current=period_label(current),
            previous=fiscal_year_label(previous.first.fiscal_year),
        ),
    ]
    if operator is not None:
        lines.append(
            t("linknet.report.official", name=operator.name, slack_id=operator.slack_id, when=when)
        )
    else:
        lines.append(t("linknet.report.controlled", k=pub.k))
    lines.append(t("linknet.report.units"))
    if pub.start is not None:
        start = Month.from_index(pub.start)
        lines.append(t("linknet.report.before_start", month=period_label(Period.month(start))))
    lines.append(t("linknet.report.made", when=when))
    return lines


def _layout(heading: list[str], table: list[list[str | int]]) -> list[list[str | int]]:
    """The sheet, row by row, the same in the CSV and the xlsx: the title, the table (its header
    on the second row, so it can stay in view), a blank row, then the notes."""
    title, *notes = heading
    return [[title], *table, [], *([line] for line in notes)]


def _csv(heading: list[str], table: list[list[str | int]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(csv_row(row) for row in _layout(heading, table))
    return out.getvalue()


def _width(value: str | int) -> int:
    """Display width: a Japanese character takes two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(value))


def _xlsx(heading: list[str], table: list[list[str | int]], *, official: bool) -> bytes:
    # openpyxl is imported here: only this command writes a workbook.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = t("linknet.report.sheet")
    rows = _layout(heading, table)
    notes = len(table) + 2  # the first note's row index (0-based) in `rows`
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # names come from the org file: never a formula
            if r == 1:
                cell.font = Font(bold=True, size=14)
            elif r == 2:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDEBF7")
                cell.alignment = Alignment(horizontal="center", wrap_text=True)
            elif r <= len(table) + 1 and c >= 3:
                cell.alignment = Alignment(horizontal="right")
            elif r == notes + 2 and official:
                cell.font = Font(bold=True, color="C00000")  # 県への報告用: exact counts
    for c in range(1, 5):
        widest = max((_width(row[c - 1]) for row in table if len(row) >= c), default=8)
        sheet.column_dimensions["ABCD"[c - 1]].width = min(max(widest + 2, 10), 60)
    sheet.freeze_panes = "A3"  # the title and the table's header stay in view
    sheet.print_title_rows = "1:2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
