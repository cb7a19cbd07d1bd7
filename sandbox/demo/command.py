"""`tsunagi demo [--output FILE.html] [--force] [--open-days N]`: try the bot without Slack.

Plays a synthetic week through the real bot and a local Slack stand-in (nothing leaves this
computer; no Slack token, database or key of yours is used) and writes one HTML page showing,
per person, what they saw in Slack.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.cli.common import fail
from bot.cli.files import OutputExists, add_force, check_free, write_private
from bot.settings import Settings
from handlers.common.texts import t
from sandbox.demo.run import PrivacyLeak, run_demo
from sandbox.demo.stage import StageError
from sandbox.demo.story import DAYS

DEFAULT_OUTPUT = Path("tsunagi-demo.html")


def register(sub) -> None:

    demo = sub.add_parser("demo", help="Slack なしで試す（架空の1週間を再生して HTML に書き出す）")
    demo.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"出力する HTML（既定 {DEFAULT_OUTPUT}）",
    )
    demo.add_argument(
        "--open-days",
        type=int,
        default=len(DAYS),
        help=f"再生する開庁日の数（1〜{len(DAYS)}、既定 {len(DAYS)}：月曜から金曜まで）",
    )
    add_force(demo)
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args, settings: Settings) -> int:

    if not 1 <= args.open_days <= len(DAYS):
        return fail(t("demo.cli.bad_days", max=len(DAYS)))
    try:
        check_free(args.output, force=args.force)  # before the week is played, not after
    except OutputExists as exc:
        return fail(exc.text)
    logging.basicConfig(level=logging.WARNING)
    print(t("demo.cli.playing", days=args.open_days), flush=True)
    try:
        result = run_demo(days=args.open_days)
    except PrivacyLeak as exc:
        return fail(t("demo.cli.privacy_failed", where="; ".join(exc.places[:5])), 1)
    except StageError as exc:  # ids and receipt numbers only
        return fail(t("demo.cli.failed", kind=f"{type(exc).__name__}: {exc}"), 1)
    except Exception as exc:  # the type only: a message could carry (synthetic) form input
        return fail(t("demo.cli.failed", kind=type(exc).__name__), 1)
    try:
        write_private(args.output, result.html, force=args.force)  # 0600, never half-written
    except OutputExists as exc:
        return fail(exc.text)
    except OSError as exc:
        return fail(t("demo.cli.cannot_write", path=args.output, detail=exc.strerror or exc))
    seen = sum(1 for p in result.recording.people for e in result.recording.entries if e.seen_by(p))
    print(
        t(
            "demo.cli.written",
            path=args.output,
            people=len(result.recording.people),
            entries=seen,
        )
    )
    return 0
