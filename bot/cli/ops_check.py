"""`tsunagi check`: is everything the bot needs in order? For people and for monitoring.

Exit codes: 0 all well (notes may be printed), 1 a problem, 2 settings missing or malformed.
"""

from __future__ import annotations

from bot import health
from bot.cli import partners
from bot.settings import Settings
from handlers.common.texts import t
from models.base.clock import TOKYO, system_clock

MARK = {
    health.Level.ok: "ops.check.mark.ok",
    health.Level.warn: "ops.check.mark.warn",
    health.Level.problem: "ops.check.mark.problem",
    health.Level.config: "ops.check.mark.config",
}


def register(sub) -> None:
    check = sub.add_parser(
        "check",
        help="データベース・スキーマ・暗号鍵・Slack・チャンネルを点検する（監視用の終了コード）",
    )
    check.add_argument("--quiet", action="store_true", help="問題と注意だけを表示する")
    check.set_defaults(func=cmd_check, settings_needed=False)  # lists the settings' problems


def cmd_check(args, settings: Settings) -> int:
    now = system_clock()
    report = health.run_checks(
        settings, now=now, setting_problems=getattr(args, "setting_problems", ())
    )
    print(t("ops.check.title", at=now.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")))
    order = [*health.SECTIONS, "other"]
    for section in sorted({f.section for f in report.findings}, key=order.index):
        shown = [
            f
            for f in report.findings
            if f.section == section and not (args.quiet and f.level is health.Level.ok)
        ]
        if not shown:
            continue
        print(t("ops.check.heading", section=t(f"ops.check.section.{section}")))
        for finding in shown:
            text = t("ops.check." + finding.code, **finding.params)
            print(f"  {t(MARK[finding.level])} {text}")
    problems = sum(f.level in (health.Level.problem, health.Level.config) for f in report.findings)
    problems += partners.check_settings(settings, quiet=args.quiet)  # other organisations
    notes = sum(f.level is health.Level.warn for f in report.findings)
    if problems == 0:
        print(t("ops.check.all_well", notes=notes))
    else:
        print(t("ops.check.summary", problems=problems, notes=notes))
    return report.exit_code or (1 if problems else 0)
