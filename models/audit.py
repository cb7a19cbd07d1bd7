"""The audit log: every view of personal details and every refused action."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, Session, SQLModel

from models.db import UTCDateTime


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_slack_id: str = Field(max_length=32)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    action: str = Field(max_length=64)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    allowed: bool
    detail: str | None = Field(default=None, max_length=200)  # a code, never personal data


def record(
    session: Session,
    *,
    at: datetime,
    actor_slack_id: str,
    action: str,
    allowed: bool,
    actor_member_id: int | None = None,
    case_id: int | None = None,
    detail: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        actor_slack_id=actor_slack_id,
        actor_member_id=actor_member_id,
        action=action,
        case_id=case_id,
        allowed=allowed,
        detail=detail,
    )
    session.add(entry)
    return entry
