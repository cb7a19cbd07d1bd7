"""Operations as tables: the audit log with its chain head, and the erasures done."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event
from sqlmodel import Field, SQLModel

from models.base.db import UTCDateTime

GENESIS = "0" * 64  # the "previous hash" of the first entry


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    seq: int | None = Field(default=None, unique=True, nullable=False)  # position in the chain
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_slack_id: str = Field(max_length=32)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    action: str = Field(max_length=64)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    allowed: bool
    detail: str | None = Field(default=None, max_length=200)  # a code, never personal data
    prev_hash: str | None = Field(default=None, max_length=64, nullable=False)
    hash: str | None = Field(default=None, max_length=64, nullable=False)


class AuditChainHead(SQLModel, table=True):
    """The end of the chain: lock target for writers, and proof that no tail was cut off."""

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default=GENESIS, max_length=64)


class AppendOnly(RuntimeError):
    """Audit entries are never updated or deleted."""


@event.listens_for(AuditEntry, "before_update")
def _no_update(_mapper, _connection, _target) -> None:
    raise AppendOnly("audit entries cannot be changed")


@event.listens_for(AuditEntry, "before_delete")
def _no_delete(_mapper, _connection, _target) -> None:
    raise AppendOnly("audit entries cannot be deleted")


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
