"""Slack retries an event up to three times; each event_id is handled once, across processes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, Session, SQLModel

from models.base.db import UTCDateTime
from models.base.upsert import insert_if_absent


class ProcessedEvent(SQLModel, table=True):
    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_type=UTCDateTime)


def first_delivery(session: Session, event_id: str, at: datetime) -> bool:
    return insert_if_absent(session, ProcessedEvent, event_id=event_id, received_at=at)
