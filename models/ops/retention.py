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
import re
import typing
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Column, Engine, Table, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel
from sqlmodel.main import default_registry

from models.base.clock import TOKYO
from models.base.crypto import EncryptedJSON, encrypted_columns
from models.base.db import UTCDateTime, transaction
from models.base.errors import DomainError
from models.base.numbering import fiscal_year
from models.cases.lifecycle import OPEN_STATES, CaseState
from models.cases.tables import Case, CaseEvent
from models.meetings.tables import MeetingMinutes
from models.ops import audit
from models.org.roster import setting
from models.org.tables import Member, Role
from models.outreach.outreach import (
    OPEN_TARGET_STATES,
    Contact,
    OutreachEvent,
    OutreachTarget,
    TargetState,
)

DEFAULT_YEARS = 5


class ErasureKind:
    retention = "retention"  # the retention period ended
    request = "request"  # on request (the person, or a correction)


ERASE_REASONS = ("request", "withdrawn", "mistake", "duplicate", "other")  # codes only


class Erasure(SQLModel, table=True):
    """That (and when, why, by whom) a case's personal data was erased. Never personal."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", unique=True)
    at: datetime = Field(sa_type=UTCDateTime)
    kind: str = Field(max_length=16)
    reason: str = Field(max_length=32)  # a code: ERASE_REASONS, or f"years={n}"
    by_member_id: int | None = Field(default=None, foreign_key="member.id")
    values: int = 0  # how many stored values were erased


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


def erasure_of(session: Session, case_id: int) -> Erasure | None:
    return session.execute(select(Erasure).where(Erasure.case_id == case_id)).scalar()


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

TARGET_ERASED = "erased"  # the OutreachEvent kind recording that a target's data was erased


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite's MAX() may drop the zone


def target_erased(session: Session, target_id: int) -> bool:
    return (
        session.execute(
            select(OutreachEvent.id).where(
                OutreachEvent.target_id == target_id, OutreachEvent.kind == TARGET_ERASED
            )
        ).first()
        is not None
    )


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


def _path_to(tbl: Table, root: Table) -> list[Column] | None:
    """Foreign-key columns leading from `tbl` to `root`'s key, shortest first ([]: `tbl` is
    `root`; None: its rows are not `root`'s).

    Never through a table the root itself points at (members, agencies, the case of a
    target …): those rows are shared by many and belong to none.
    """
    if tbl is root:
        return []
    shared = _referenced_by(root)
    queue: list[tuple[Table, list[Column]]] = [(tbl, [])]
    seen = {tbl}
    while queue:
        current, path = queue.pop(0)
        for fk in sorted(current.foreign_keys, key=lambda f: f.parent.name):
            parent = fk.column.table
            if parent is root:
                return [*path, fk.parent]
            if parent in seen or parent in shared:
                continue
            seen.add(parent)
            queue.append((parent, [*path, fk.parent]))
    return None


def _referenced_by(tbl: Table) -> set[Table]:
    found: set[Table] = set()
    todo = [tbl]
    while todo:
        for fk in todo.pop().foreign_keys:
            if fk.column.table not in found:
                found.add(fk.column.table)
                todo.append(fk.column.table)
    return found


def _rows_of(tbl: Table, path: list[Column], root_id: int):
    """A WHERE clause selecting the rows of `tbl` that belong to the root row `root_id`."""
    if not path:  # the root table itself
        (pk,) = tbl.primary_key.columns
        return pk == root_id
    # path[0] is a column of tbl; each next column belongs to the table the previous points at.
    condition = path[-1] == root_id
    for i in range(len(path) - 2, -1, -1):
        parent_pk = next(iter(path[i].foreign_keys)).column
        condition = path[i].in_(select(parent_pk).where(condition))
    return condition


def _empty_value(tbl: Table, col: Column):
    """What a column that may not be NULL holds once erased: an empty value of its kind."""
    if col.nullable:
        return None
    if isinstance(col.type, EncryptedJSON):
        model = next((m.class_ for m in default_registry.mappers if m.local_table is tbl), None)
        fields = getattr(model, "model_fields", {})
        hint = fields[col.name].annotation if col.name in fields else list
        origin = typing.get_origin(hint) or hint
        return {} if origin is dict else []
    return ""


def personal_places(
    root: Table | None = None,
) -> list[tuple[Table, list[Column], list[Column] | None]]:
    """Every table with encrypted columns, with its way to `root` (default: the case; None:
    not the root's)."""
    root = Case.__table__ if root is None else root
    return [(tbl, cols, _path_to(tbl, root)) for tbl, cols in encrypted_columns().items()]


def _erase_rows_of(session: Session, root: Table, root_id: int) -> int:
    """Blank every encrypted value of the root row's rows; the number of values erased."""
    erased = 0
    for tbl, cols, path in personal_places(root):
        if path is None:
            continue
        where = _rows_of(tbl, path, root_id)
        for col in cols:
            result = session.execute(
                update(tbl)
                .where(where, col.is_not(None))
                .values({col.name: _empty_value(tbl, col)})
            )
            erased += max(result.rowcount or 0, 0)
    return erased


def blank_minutes_of(session: Session, case_id: int) -> int:
    """Blank the stored minutes of every meeting with an outcome of the case (the rendered text
    repeats it), as a new version; how many minutes were blanked. Readers render them again."""
    # Imported here: models.plans imports much of the domain; retention is imported by few.
    from models.plans.tables import Outcome

    table = MeetingMinutes.__table__
    result = session.execute(
        update(table)
        .where(table.c.meeting_id.in_(select(Outcome.meeting_id).where(Outcome.case_id == case_id)))
        .values({table.c.text: "", table.c.version: table.c.version + 1})
    )
    return max(result.rowcount or 0, 0)


def erase_personal_data(session: Session, case_id: int) -> int:
    """Blank every encrypted value of the case's rows, and the minutes that repeat them; the
    number of values erased."""
    return _erase_rows_of(session, Case.__table__, case_id) + blank_minutes_of(session, case_id)


def erase_target_data(session: Session, target_id: int) -> int:
    """Blank every encrypted value of an outreach target and its rows; how many were erased.

    The target's `person` cannot be NULL: it becomes an empty mapping, as for a target made
    from a case, so every view shows the person as not recorded."""
    return _erase_rows_of(session, OutreachTarget.__table__, target_id)


def _scrub(session: Session) -> None:
    """SQLite keeps old page contents in free space and the WAL: have it zero what it frees."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))


def may_erase(session: Session, *, case: Case, member: Member | None, force: bool) -> str | None:
    """Why this member may not erase this case now (a message code), or None."""
    if member is None or not (member.has(Role.coordinator) or member.has(Role.admin)):
        return "ops.erase.not_allowed"
    if erasure_of(session, case.id) is not None:
        return "ops.erase.already"
    if CaseState(case.state) in OPEN_STATES and not force:
        return "ops.erase.case_open"
    return None


def erase(
    session: Session,
    *,
    case: Case,
    member: Member,
    reason: str,
    at: datetime,
    force: bool = False,
) -> Erasure:
    """Erase one case's personal data on request (check `may_erase` first), audited."""
    refusal = may_erase(session, case=case, member=member, force=force)
    if refusal is not None:
        raise DomainError(refusal, number=case.number)
    if reason not in ERASE_REASONS:
        raise DomainError("ops.erase.bad_reason", reasons=", ".join(ERASE_REASONS))
    _scrub(session)
    done = Erasure(
        case_id=case.id,
        at=at,
        kind=ErasureKind.request,
        reason=reason,
        by_member_id=member.id,
        values=erase_personal_data(session, case.id),
    )
    session.add(done)
    audit.record(
        session,
        at=at,
        actor_slack_id=member.slack_id,
        actor_member_id=member.id,
        action="case.erase",
        case_id=case.id,
        allowed=True,
        detail=f"request:{reason}",
    )
    return done


def target_by_label(session: Session, label: str) -> OutreachTarget:
    """`OT-0007` (also typed full-width or in lower case) → the target, else DomainError."""
    normal = unicodedata.normalize("NFKC", label or "").strip().upper()
    found = re.fullmatch(r"OT-?(\d{1,9})", normal)
    target = (
        session.execute(
            select(OutreachTarget).where(OutreachTarget.label == f"OT-{int(found[1]):04d}")
        ).scalar()
        if found
        else None
    )
    if target is None:
        raise DomainError("ops.erase.target_not_found", label=label)
    return target


def is_target_label(text: str) -> bool:
    return unicodedata.normalize("NFKC", text or "").strip().upper().startswith("OT")


def may_erase_target(
    session: Session, *, target: OutreachTarget, member: Member | None, force: bool
) -> str | None:
    """Why this member may not erase this outreach target now (a message code), or None."""
    if member is None or not (member.has(Role.coordinator) or member.has(Role.admin)):
        return "ops.erase.not_allowed"
    if target.case_id is not None:
        return "ops.erase.target_of_case"  # it goes with its case: erase the case
    if target_erased(session, target.id):
        return "ops.erase.already"
    if target.state in OPEN_TARGET_STATES and not force:
        return "ops.erase.target_open"
    return None


def _mark_target_erased(session: Session, target_id: int, *, at: datetime, by: int | None):
    # An event without a state change: the Link-net stock (models.outreach
    # targets_at_month_ends) counts from_state/to_state only, so it is not disturbed.
    session.add(
        OutreachEvent(target_id=target_id, at=at, actor_id=by, kind=TARGET_ERASED, reason=None)
    )


def erase_target(
    session: Session,
    *,
    target: OutreachTarget,
    member: Member,
    reason: str,
    at: datetime,
    force: bool = False,
) -> int:
    """Erase one outreach target's personal data on request (check `may_erase_target` first),
    audited; the number of values erased."""
    refusal = may_erase_target(session, target=target, member=member, force=force)
    if refusal is not None:
        case = session.get(Case, target.case_id) if target.case_id else None
        raise DomainError(refusal, number=target.label, case=case.number if case else "")
    if reason not in ERASE_REASONS:
        raise DomainError("ops.erase.bad_reason", reasons=", ".join(ERASE_REASONS))
    _scrub(session)
    values = erase_target_data(session, target.id)
    _mark_target_erased(session, target.id, at=at, by=member.id)
    audit.record(
        session,
        at=at,
        actor_slack_id=member.slack_id,
        actor_member_id=member.id,
        action="outreach.erase",
        allowed=True,
        detail=f"outreach:{target.id}:request:{reason}",  # ids and codes only
    )
    return values


@dataclass(frozen=True)
class RunResult:
    years: int
    due: list[Due]
    erased: int  # cases erased now (0 on a dry run)
    targets: list[TargetDue] = field(default_factory=list)  # outreach targets without a case
    targets_erased: int = 0


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
    if erased or targets_erased:
        checkpoint(engine)
    return RunResult(years, todo, erased, targets, targets_erased)


def _erase_due(engine: Engine, item: Due, *, years: int, now: datetime) -> bool:
    with transaction(engine) as session:
        if erasure_of(session, item.case_id) is not None:
            return False  # another process got there first
        _scrub(session)
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
        _scrub(session)
        erase_target_data(session, target.id)
        _mark_target_erased(session, target.id, at=now, by=None)
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
