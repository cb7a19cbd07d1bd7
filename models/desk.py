"""What waits for a member (the App Home's figures)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from models.cases import Case
from models.lifecycle import CaseState
from models.org import Member, Role


def waiting_count(session: Session, member: Member) -> int | None:
    """Memos not yet taken that this member could take; None for roles that take none."""
    query = select(func.count()).select_from(Case).where(Case.state == CaseState.received)
    if member.has(Role.coordinator):
        return session.exec(query).one()
    if member.has(Role.window):
        return session.exec(query.where(Case.routed_agency_id == member.agency_id)).one()
    return None
