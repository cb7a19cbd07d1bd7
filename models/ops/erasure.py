"""Erasing a person's data: every personal field of a case (or an outreach target) is blanked;
what the figures need stays; the erasure itself is recorded."""

from __future__ import annotations

import re
import typing
import unicodedata
from datetime import UTC, datetime

from sqlalchemy import Column, Table, select, text, update
from sqlmodel import Session
from sqlmodel.main import default_registry

from models.base.crypto import EncryptedJSON
from models.base.errors import DomainError
from models.cases.lifecycle import OPEN_STATES, CaseState
from models.cases.tables import Case
from models.meetings.tables import MeetingMinutes
from models.ops import audit
from models.ops.keys import encrypted_columns
from models.ops.tables import ERASE_REASONS, Erasure, ErasureKind
from models.org.tables import Member, Role
from models.outreach.tables import (
    OPEN_TARGET_STATES,
    OutreachEvent,
    OutreachTarget,
)
from models.plans.tables import Outcome


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


def scrub(session: Session) -> None:
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
    scrub(session)
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


def mark_target_erased(session: Session, target_id: int, *, at: datetime, by: int | None):
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
    scrub(session)
    values = erase_target_data(session, target.id)
    mark_target_erased(session, target.id, at=at, by=member.id)
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


def erasure_of(session: Session, case_id: int) -> Erasure | None:
    return session.execute(select(Erasure).where(Erasure.case_id == case_id)).scalar()


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
