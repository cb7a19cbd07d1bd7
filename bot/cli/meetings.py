"""`tsunagi minutes export MEETING_ID [--output FILE]` and `tsunagi resources load FILE`.

The minutes are the stored rendering (Markdown), decrypted with the configured key (rendered
again first when an erasure blanked them, see models.retention); each export
is written to the audit log (by "system": the command line has no Slack user). A Link-net
meeting's minutes never contain personal data; a case meeting's are 要配慮個人情報 — keep the
file where the town keeps such records.

The resource file is validated whole and applied in one go, like the organisation file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.cli.common import (
    current_database,
    fail,
    free_output_then_database,
    refused_file,
)
from bot.cli.files import OutputExists, add_force, write_private
from bot.settings import Settings
from handlers.common.texts import t
from handlers.meetings.papers import minutes_now
from models.base.clock import system_clock
from models.base.db import transaction
from models.meetings.minutes import minutes_of
from models.meetings.tables import Meeting
from models.ops import audit
from models.plans.resources import ResourceFileError, load_file


def register(sub) -> None:
    minutes = sub.add_parser("minutes", help="会議の議事録")
    mcmds = minutes.add_subparsers(dest="minutes_command", required=True)
    export = mcmds.add_parser("export", help="議事録を Markdown で書き出す")
    export.add_argument("meeting_id", type=int, help="会議の番号（ホームタブ・会議の画面に表示）")
    export.add_argument("--output", type=Path, help="出力ファイル（省略時は画面へ）")
    add_force(export)
    export.set_defaults(func=cmd_minutes_export)

    resources = sub.add_parser("resources", help="参加支援の資源")
    rcmds = resources.add_subparsers(dest="resources_command", required=True)
    load = rcmds.add_parser("load", help="参加支援の資源ファイル（TOML）を読み込む")
    load.add_argument("file", type=Path, help="参加支援の資源のファイル（TOML）")
    load.set_defaults(func=cmd_resources_load)


def cmd_minutes_export(args, settings: Settings) -> int:
    engine, problem = free_output_then_database(args, settings)
    if engine is None:
        return fail(problem)
    with transaction(engine) as session:
        meeting = session.get(Meeting, args.meeting_id)
        if meeting is None:
            return fail(t("meeting.cli.not_found", id=args.meeting_id))
        minutes = minutes_of(session, meeting.id)
        if minutes is None:
            return fail(t("meeting.cli.no_minutes", id=meeting.id))
        text = minutes_now(session, meeting, minutes)
        audit.record(
            session,
            at=system_clock(),
            actor_slack_id=audit.SYSTEM_ACTOR,
            action="export_minutes",
            allowed=True,
            detail=f"meeting:{meeting.id}:minutes:v{minutes.version}",
        )
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        write_private(args.output, text, force=args.force)
    except OutputExists as exc:
        return fail(exc.text)
    except OSError as exc:
        return fail(f"{args.output}: {exc.strerror}")
    print(t("meeting.cli.exported", id=args.meeting_id, path=args.output))
    return 0


def cmd_resources_load(args, settings: Settings) -> int:
    engine = current_database(settings)
    if engine is None:
        return fail(t("cli.db_not_current"))
    try:
        with transaction(engine) as session:
            result = load_file(session, args.file)
    except ResourceFileError as exc:
        heading = t("resource.file.refused")
        return fail(refused_file(args.file, heading, exc.problems, "resource.file."))
    except OSError as exc:
        return fail(f"{args.file}: {exc.strerror}")
    except UnicodeDecodeError:
        return fail(t("resource.file.not_utf8", path=args.file))
    print(t("resource.file.loaded", **result.__dict__))
    return 0
