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
"""

from __future__ import annotations

import contextlib
import typing
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Column, Engine, Table, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel
from sqlmodel.main import default_registry

from models import audit
from models.cases import Case, CaseEvent
from models.clock import TOKYO
from models.crypto import EncryptedJSON, encrypted_columns
from models.db import UTCDateTime, transaction
from models.errors import DomainError
from models.lifecycle import OPEN_STATES, CaseState
from models.numbering import fiscal_year
from models.org import Member, Role, setting

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


# --------------------------------------------------------------------------- erasing


def _path_to_case(tbl: Table) -> list[Column] | None:
    """Foreign-key columns leading from `tbl` to case.id, shortest first (None: not a case's).

    Never through a table the case itself points at (members, agencies …): those rows are
    shared by many cases and belong to none.
    """
    target = Case.__table__
    shared = _referenced_by(target)
    queue: list[tuple[Table, list[Column]]] = [(tbl, [])]
    seen = {tbl}
    while queue:
        current, path = queue.pop(0)
        for fk in sorted(current.foreign_keys, key=lambda f: f.parent.name):
            parent = fk.column.table
            if parent is target:
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


def _rows_of_case(tbl: Table, path: list[Column], case_id: int):
    """A WHERE clause selecting the rows of `tbl` that belong to the case."""
    # path[0] is a column of tbl; each next column belongs to the table the previous points at.
    condition = path[-1] == case_id
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


def personal_places() -> list[tuple[Table, list[Column], list[Column] | None]]:
    """Every table with encrypted columns, with its way to the case (None: not a case's)."""
    return [(tbl, cols, _path_to_case(tbl)) for tbl, cols in encrypted_columns().items()]


def erase_personal_data(session: Session, case_id: int) -> int:
    """Blank every encrypted value of the case's rows; the number of values erased."""
    erased = 0
    for tbl, cols, path in personal_places():
        if path is None:
            continue
        where = _rows_of_case(tbl, path, case_id)
        for col in cols:
            result = session.execute(
                update(tbl)
                .where(where, col.is_not(None))
                .values({col.name: _empty_value(tbl, col)})
            )
            erased += max(result.rowcount or 0, 0)
    return erased


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


@dataclass(frozen=True)
class RunResult:
    years: int
    due: list[Due]
    erased: int  # cases erased now (0 on a dry run)


def run(engine: Engine, *, now: datetime, dry_run: bool = False) -> RunResult:
    """Erase every case whose retention period is over: one transaction per case, so a run
    that stops half-way is simply continued by the next one."""
    today = now.astimezone(TOKYO).date()
    with transaction(engine, write=False) as session:
        years = retention_years(session)
        todo = due(session, today=today)
    if dry_run:
        return RunResult(years, todo, 0)
    erased = 0
    for item in todo:
        # IntegrityError: another process erased it at the same moment (Erasure.case_id unique).
        with contextlib.suppress(IntegrityError):
            erased += _erase_due(engine, item, years=years, now=now)
    if erased:
        checkpoint(engine)
    return RunResult(years, todo, erased)


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
