"""Minutes of a meeting: stored encrypted, rendered again after an outcome, blanked on erasure."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from models.meetings.schedule import mark_held
from models.meetings.tables import (
    Meeting,
    MeetingMinutes,
    MeetingState,
)
from models.org.tables import Member


def awaiting_record(
    session: Session, *, now: datetime, within_days: int = 30, limit: int = 5
) -> list[Meeting]:
    """Meetings that began (in the last `within_days`) and have no outcomes or minutes yet."""
    from datetime import timedelta

    rows = session.exec(
        select(Meeting)
        .where(
            Meeting.state == MeetingState.scheduled,
            Meeting.starts_at < now,
            Meeting.starts_at >= now - timedelta(days=within_days),
        )
        .order_by(Meeting.starts_at)
        .limit(limit)
    )
    return list(rows)


def minutes_of(session: Session, meeting_id: int) -> MeetingMinutes | None:
    return session.exec(
        select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting_id)
    ).first()


def store_minutes(
    session: Session,
    meeting: Meeting,
    *,
    text: str,
    by: Member,
    at: datetime,
    notes: list[str] | None = None,
) -> MeetingMinutes:
    """Keep the rendered minutes (encrypted); a meeting with minutes has been held."""
    minutes = minutes_of(session, meeting.id)
    if minutes is None:
        minutes = MeetingMinutes(
            meeting_id=meeting.id, text=text, recorded_by_id=by.id, recorded_at=at
        )
    else:
        minutes.version += 1
        minutes.text = text
        minutes.recorded_by_id = by.id
        minutes.recorded_at = at
    if notes is not None:
        minutes.notes = list(notes)
    session.add(minutes)
    mark_held(session, meeting, at=at)
    session.flush()
    return minutes


def blank(minutes: MeetingMinutes) -> bool:
    """Minutes blanked by an erasure (models.retention): a rendering always has a heading."""
    return not minutes.text


def store_rendered_again(session: Session, minutes: MeetingMinutes, *, text: str) -> None:
    """Keep blanked minutes rendered again from the outcomes as they are now. Nothing new was
    recorded: the version (already counted by the erasure), recorder and time stay."""
    minutes.text = text
    session.add(minutes)
    session.flush()
