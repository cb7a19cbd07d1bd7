"""`tsunagi outreach list [--all]`: the outreach list for the coordinator — labels, states,
cadence, dates and the assigned agencies; never the person.

It reads only unencrypted columns (no personal field is even decrypted), so it needs no
encryption key and is safe to run while the bot runs.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from bot.cli.common import fail, print_table
from bot.settings import Settings
from handlers.common.texts import label, t
from models.base.clock import TOKYO
from models.base.db import make_engine, transaction
from models.ops import migrate
from models.org.tables import Agency
from models.outreach.tables import (
    OPEN_TARGET_STATES,
    STATE_ORDER,
    Contact,
    OutreachTarget,
    OutreachWorker,
)


def register(sub) -> None:
    group = sub.add_parser("outreach", help="アウトリーチ（一覧：個人情報なし）")
    cmds = group.add_subparsers(dest="outreach_command", required=True)
    listing = cmds.add_parser("list", help="アウトリーチの一覧を表示する（番号・状態・日付）")
    listing.add_argument("--all", action="store_true", help="同意が得られたもの・終了したものも")
    listing.set_defaults(func=cmd_list)


def _day(d: date | None) -> str:
    return d.isoformat() if d else "-"


def rows(session, *, include_ended: bool) -> list[list[str]]:
    """One row per target, as plain strings; only unencrypted columns are read."""
    T = OutreachTarget
    query = select(T.id, T.label, T.state, T.cadence_days, T.next_contact_on, T.case_id)
    if not include_ended:
        query = query.where(T.state.in_([s.value for s in OPEN_TARGET_STATES]))
    targets = sorted(
        session.exec(query).all(),
        key=lambda r: ([s.value for s in STATE_ORDER].index(r[2]), r[4], r[0]),
    )
    names = dict(session.exec(select(Agency.id, Agency.key)).all())
    workers: dict[int, list[str]] = {}
    for target_id, agency_id in session.exec(
        select(OutreachWorker.target_id, OutreachWorker.agency_id).order_by(OutreachWorker.id)
    ):
        workers.setdefault(target_id, []).append(names.get(agency_id, "?"))
    last: dict[int, tuple] = {}
    for target_id, at, outcome in session.exec(
        select(Contact.target_id, Contact.at, Contact.outcome).order_by(Contact.at, Contact.id)
    ):
        last[target_id] = (at.astimezone(TOKYO).date(), outcome)
    out = []
    for target_id, tag, state, cadence, next_on, case_id in targets:
        seen = last.get(target_id)
        out.append(
            [
                tag,
                label("outreach_state", state),
                t("outreach.cli.every", days=cadence),
                _day(next_on) if state in ("active", "paused") else "-",
                f"{_day(seen[0])} {label('outreach_outcome', seen[1])}" if seen else "-",
                ",".join(workers.get(target_id, [])) or "-",
                t("outreach.cli.case_yes" if case_id else "outreach.cli.case_no"),
            ]
        )
    return out


def cmd_list(args, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        if not migrate.is_current(engine):
            return fail(t("cli.db_not_current"))
        with transaction(engine, write=False) as session:
            table = rows(session, include_ended=args.all)
    finally:
        engine.dispose()
    if not table:
        print(t("outreach.cli.none"))
        return 0
    print_table(t("outreach.cli.header").split(), table)
    print(t("outreach.cli.count", count=len(table)))
    return 0
