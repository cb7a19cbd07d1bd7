"""`tsunagi audit verify` (the hash chain holds) and `tsunagi audit export` (CSV for auditors)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from bot.cli.common import OK, PROBLEM, Stop, command, day, open_database, tokyo_midnight
from bot.cli.files import OutputExists, add_force, check_free, csv_row, private_file
from bot.settings import Settings
from handlers.common.texts import t
from models.base.clock import TOKYO
from models.base.db import transaction
from models.ops import audit


def register(sub) -> None:
    group = sub.add_parser("audit", help="監査ログ（改ざんの確認・CSV 出力）")
    cmds = group.add_subparsers(dest="audit_command", required=True)
    verify = cmds.add_parser("verify", help="監査ログのハッシュの連なりを確認する")
    verify.add_argument(
        "--expect",
        metavar="番号:ハッシュ",
        help="以前に控えた「番号:ハッシュ」が今も同じか確認する（例 120:3fa2…）",
    )
    verify.set_defaults(func=cmd_verify)
    export = cmds.add_parser("export", help="監査ログを CSV で書き出す")
    export.add_argument("--since", type=day, required=True, help="この日（日本時間）から")
    export.add_argument("--until", type=day, help="この日（日本時間）の前日まで")
    export.add_argument("--output", type=Path, help="出力ファイル（省略すると画面に表示）")
    add_force(export)
    export.set_defaults(func=cmd_export)


def _anchor(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    seq, _, digest = value.partition(":")
    digest = digest.strip().lower()
    if (
        not seq.strip().isdigit()
        or len(digest) != 64
        or not all(c in "0123456789abcdef" for c in digest)
    ):
        raise Stop(t("ops.audit.bad_expect", value=value))
    return int(seq), digest


@command
def cmd_verify(args, settings: Settings) -> int:
    anchor = _anchor(args.expect)
    engine = open_database(settings)
    try:
        result = audit.verify(engine, anchor=anchor)
    finally:
        engine.dispose()
    if result.ok:
        print(t("ops.audit.verified", count=result.checked))
        print(t("ops.audit.head", seq=result.head_seq, hash=result.head_hash))
        return OK
    lines = [t("ops.audit.broken", count=len(result.problems))]
    for problem in result.problems[:50]:
        when = problem.at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") if problem.at else "-"
        lines.append(
            "  "
            + t(
                f"ops.audit.problem.{problem.kind}",
                seq=problem.seq if problem.seq is not None else "-",
                id=problem.entry_id if problem.entry_id is not None else "-",
                at=when,
            )
        )
    if len(result.problems) > 50:
        lines.append("  " + t("ops.audit.more", count=len(result.problems) - 50))
    lines.append(t("ops.audit.what_to_do"))
    print("\n".join(lines), file=sys.stderr)
    return PROBLEM


HEADER_CODES = ("seq", "at", "slack_id", "name", "action", "case", "result", "detail")


def _write(rows, out) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_row(t(f"ops.audit.column.{c}") for c in HEADER_CODES))
    count = 0
    for row in rows:
        writer.writerow(
            csv_row(
                [
                    row.seq,
                    row.at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S"),
                    row.actor_slack_id,
                    row.actor_name or "",
                    row.action,
                    row.case_number or "",
                    t("ops.audit.allowed") if row.allowed else t("ops.audit.refused"),
                    row.detail or "",
                ]
            )
        )
        count += 1
    return count


@command
def cmd_export(args, settings: Settings) -> int:
    if args.until is not None and args.until <= args.since:
        raise Stop(t("ops.audit.bad_range"))
    if args.output is not None:
        try:
            check_free(args.output, force=args.force)
        except OutputExists as exc:
            raise Stop(exc.text) from None
    engine = open_database(settings)
    since = tokyo_midnight(args.since)
    until = tokyo_midnight(args.until) if args.until else None
    try:
        with transaction(engine, write=False) as session:
            rows = audit.export_rows(session, since=since, until=until)
            if args.output is None:
                _write(rows, sys.stdout)
                return OK
            target = args.output
            # utf-8-sig: Excel, which most town offices open CSV files with, then reads Japanese.
            with private_file(target, force=args.force, encoding="utf-8-sig", newline="") as out:
                count = _write(rows, out)
    except OutputExists as exc:
        raise Stop(exc.text) from None
    except OSError as exc:
        raise Stop(t("ops.file_problem", path=args.output, detail=exc.strerror)) from exc
    finally:
        engine.dispose()
    print(t("ops.audit.exported", count=count, path=target))
    return OK
