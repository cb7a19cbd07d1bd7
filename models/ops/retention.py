"""Retention and erasure of personal data.

A closed case keeps its personal data for the town's retention period (org file
`[retention] years = 5`), counted like the town's documents: from April 1 of the fiscal year
after the one in which the case closed (the CaseEvent that moved it to `closed`). From April 1
after those years, `run` erases it. `erase` does the same for one case on request.

Erasing means: every encrypted column (found from the table definitions, so tables added
later are covered) of every row that belongs to the case — directly by `case_id`, or through a
chain of foreign keys such as contact → outreachtarget → case — is set to NULL, or where the
column cannot be NULL to an empty value of its kind. Coarse, unencrypted facts stay (state,
domains, urgency, age band, concerns, agencies, dates, the event history without its notes),
so anonymous figures keep adding up. The case's receipt number and audit entries stay too.

Outreach targets without a case (アウトリーチ: the person never consented, so no case was
made) hold personal data of their own: who the person is, the reason, the contact notes, the
reasons of pauses and closing. They follow the same rule, counted from the target's end: a
closed target is erased from April 1 of the fiscal year after its last event or contact (its
closing, in practice), plus the same `years`. Erased are the encrypted columns of the target
and of every row that reaches it by foreign keys (contacts, state events); its label, state,
dates and coarse facts stay, so the Link-net stock of targets keeps adding up. An open target
(active, paused) is kept like an open case; `erase_target` erases one on request (`--force`
for an open one). A target with a case is the case's: it goes with the case. The erasure is
recorded as the target's event of kind `erased` (no reason text), and in the audit log.

Link-net meetings (リンクネット会議) are left out by design, not by omission: the meeting
takes no case, and its topics and notes (AgendaTopic, its minutes) are about the system, never
about a person — every line is checked on entry (models.meetings.clean_lines refuses receipt
numbers, outreach labels and phone numbers). They belong to no case or target, so there is
nothing to count a period from, and they stay as the town's record of the meeting (stored
encrypted all the same, like every free text).

The minutes of a さぽネット・まるごと meeting are different: they are stored rendered
(MeetingMinutes.text, one text for all the cases of the meeting), so they repeat the case's
outcome — its support direction, plan goals and tasks. They belong to the meeting, not to the
case, so the chains of foreign keys above do not reach them. Erasing a case therefore blanks
the stored text of every meeting's minutes that hold an outcome of the case (and counts a new
version of them); the domain cannot render them again (that is the handlers' templates), so
whoever reads blank minutes next renders them from the outcomes as they are now — the erased
case's outcome then shows as erased, the other cases' outcomes as recorded — and stores them
again (handlers.views.documents.minutes_now).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models.base.clock import TOKYO
from models.base.db import transaction
from models.base.numbering import fiscal_year
from models.cases.lifecycle import CaseState
from models.cases.tables import Case, CaseEvent
from models.ops import audit
from models.ops.erasure import (
    TARGET_ERASED,
    _utc,
    erase_personal_data,
    erase_target_data,
    erasure_of,
    mark_target_erased,
    scrub,
    target_erased,
)
from models.ops.tables import DEFAULT_YEARS, Erasure, ErasureKind
from models.org.roster import setting
from models.outreach.tables import (
    Contact,
    OutreachEvent,
    OutreachTarget,
    TargetState,
)
from models.queues import clicks


def retention_years(session: Session) -> int:
    value = (setting(session, "retention", {}) or {}).get("years", DEFAULT_YEARS)
    return value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_YEARS


def erasable_from(closed_at: datetime, years: int) -> date:
    """The first day the data may go: April 1, `years` full fiscal years after the closing one."""
    return date(fiscal_year(closed_at.astimezone(TOKYO).date()) + 1 + years, 4, 1)


def closed_at(session: Session, case_id: int) -> datetime | None:
    return session.execute(
        select(func.max(CaseEvent.at)).where(
            CaseEvent.case_id == case_id, CaseEvent.to_state == CaseState.closed
        )
    ).scalar()


@dataclass(frozen=True)
class Due:
    case_id: int
    number: str
    closed_at: datetime
    erasable_from: date


def due(session: Session, *, today: date) -> list[Due]:
    """Closed, not yet erased cases whose retention period is over on `today` (JST)."""
    years = retention_years(session)
    closing = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("closed_at"))
        .where(CaseEvent.to_state == CaseState.closed)
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    rows = session.execute(
        select(Case.id, Case.number, closing.c.closed_at)
        .join(closing, closing.c.case_id == Case.id)
        .where(
            Case.state == CaseState.closed,
            Case.id.not_in(select(Erasure.case_id)),
        )
        .order_by(closing.c.closed_at, Case.id)
    ).all()
    out = []
    for case_id, number, closed in rows:
        closed = closed if closed.tzinfo else closed.replace(tzinfo=UTC)
        until = erasable_from(closed, years)
        if until <= today:
            out.append(Due(case_id, number, closed, until))
    return out


# --------------------------------------------------------------------------- outreach targets


@dataclass(frozen=True)
class TargetDue:
    target_id: int
    label: str
    ended_at: datetime  # its last event or contact: the closing, in practice
    erasable_from: date


def targets_due(session: Session, *, today: date) -> list[TargetDue]:
    """Closed outreach targets without a case, not yet erased, whose period is over on `today`."""
    years = retention_years(session)
    last_event = (
        select(OutreachEvent.target_id, func.max(OutreachEvent.at).label("at"))
        .group_by(OutreachEvent.target_id)
        .subquery()
    )
    last_contact = (
        select(Contact.target_id, func.max(Contact.at).label("at"))
        .group_by(Contact.target_id)
        .subquery()
    )
    erased = select(OutreachEvent.target_id).where(OutreachEvent.kind == TARGET_ERASED)
    rows = session.execute(
        select(
            OutreachTarget.id,
            OutreachTarget.label,
            OutreachTarget.created_at,
            last_event.c.at,
            last_contact.c.at,
        )
        .outerjoin(last_event, last_event.c.target_id == OutreachTarget.id)
        .outerjoin(last_contact, last_contact.c.target_id == OutreachTarget.id)
        .where(
            OutreachTarget.case_id.is_(None),
            OutreachTarget.state == TargetState.closed,
            OutreachTarget.id.not_in(erased),
        )
    ).all()
    out = []
    for target_id, label, created, event_at, contact_at in rows:
        ended = max(_utc(at) for at in (created, event_at, contact_at) if at is not None)
        until = erasable_from(ended, years)
        if until <= today:
            out.append(TargetDue(target_id, label, ended, until))
    return sorted(out, key=lambda d: (d.ended_at, d.target_id))


# --------------------------------------------------------------------------- erasing


@dataclass(frozen=True)
class RunResult:
    years: int
    due: list[Due]
    erased: int  # cases erased now (0 on a dry run)
    targets: list[TargetDue] = field(default_factory=list)  # outreach targets without a case
    targets_erased: int = 0
    clicks_purged: int = 0  # finished clicks older than clicks.KEEP_FOR, deleted (ids only)


def run(engine: Engine, *, now: datetime, dry_run: bool = False) -> RunResult:
    """Erase every case and caseless outreach target whose retention period is over: one
    transaction each, so a run that stops half-way is simply continued by the next one."""
    today = now.astimezone(TOKYO).date()
    with transaction(engine, write=False) as session:
        years = retention_years(session)
        todo = due(session, today=today)
        targets = targets_due(session, today=today)
    if dry_run:
        return RunResult(years, todo, 0, targets, 0)
    erased = 0
    for item in todo:
        # IntegrityError: another process erased it at the same moment (Erasure.case_id unique).
        with contextlib.suppress(IntegrityError):
            erased += _erase_due(engine, item, years=years, now=now)
    targets_erased = sum(_erase_target_due(engine, item, years=years, now=now) for item in targets)
    with transaction(engine) as session:
        purged = clicks.purge(session, before=now - clicks.KEEP_FOR)
    if erased or targets_erased:
        checkpoint(engine)
    return RunResult(years, todo, erased, targets, targets_erased, purged)


def _erase_due(engine: Engine, item: Due, *, years: int, now: datetime) -> bool:
    with transaction(engine) as session:
        if erasure_of(session, item.case_id) is not None:
            return False  # another process got there first
        scrub(session)
        values = erase_personal_data(session, item.case_id)
        session.add(
            Erasure(
                case_id=item.case_id,
                at=now,
                kind=ErasureKind.retention,
                reason=f"years={years}",
                values=values,
            )
        )
        audit.record(
            session,
            at=now,
            actor_slack_id=audit.SYSTEM_ACTOR,
            action="retention.erase",
            case_id=item.case_id,
            allowed=True,
            detail=f"years={years}",
        )
    return True


def _erase_target_due(engine: Engine, item: TargetDue, *, years: int, now: datetime) -> bool:
    with transaction(engine) as session:
        # Locked (PostgreSQL; SQLite has one writer): two runs cannot both erase and record it.
        target = session.execute(
            select(OutreachTarget).where(OutreachTarget.id == item.target_id).with_for_update()
        ).scalar()
        if (
            target is None
            or target.case_id is not None  # consent was obtained meanwhile: the case's now
            or target.state != TargetState.closed
            or target_erased(session, target.id)  # another process got there first
        ):
            return False
        scrub(session)
        erase_target_data(session, target.id)
        mark_target_erased(session, target.id, at=now, by=None)
        audit.record(
            session,
            at=now,
            actor_slack_id=audit.SYSTEM_ACTOR,
            action="retention.erase_outreach",
            allowed=True,
            detail=f"outreach:{target.id}:years={years}",
        )
    return True


def checkpoint(engine: Engine) -> None:
    """SQLite: move the WAL into the database file and empty it (old pages gone from there)."""
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL: old row versions go with (auto)VACUUM
    raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run in one
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception:  # best effort: a busy reader only delays it to the next checkpoint
        pass
    finally:
        raw.close()
