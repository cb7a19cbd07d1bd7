"""Meetings that repeat: a series, its next occurrences, and stopping it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.base.errors import DomainError
from models.meetings.tables import (
    Meeting,
    MeetingKind,
    MeetingSeries,
    MeetingState,
)


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def nth_of_month(d: date) -> int:
    """Which occurrence of its weekday `d` is in its month (1..5)."""
    return (d.day - 1) // 7 + 1


def is_last_of_month(d: date) -> bool:
    from datetime import timedelta

    return (d + timedelta(days=7)).month != d.month


def start_series(
    session: Session,
    *,
    first: Meeting,
    on: date,
    last_weekday: bool,
    member_ids: Iterable[int],
    agency_ids: Iterable[int],
) -> MeetingSeries:
    """Make `first` (a Link-net meeting) the first of a monthly series on the same weekday of
    the same week (e.g. the 2nd Tuesday), or on the last such weekday of each month."""
    if first.kind != MeetingKind.linknet:
        raise DomainError("meeting.series_only_linknet")
    local = first.starts_at.astimezone(TOKYO)
    series = MeetingSeries(
        kind=first.kind,
        weekday=on.weekday(),
        nth=-1 if last_weekday else nth_of_month(on),
        hour=local.hour,
        minute=local.minute,
        minutes_long=first.minutes_long,
        remind_before=first.remind_before,
        place=first.place,
        member_ids=sorted(set(member_ids)),
        agency_ids=sorted(set(agency_ids)),
        created_by_id=first.created_by_id,
    )
    session.add(series)
    session.flush()
    first.series_id = series.id
    first.series_month = month_index(local.date())
    session.add(first)
    session.flush()
    return series


def series_start(series: MeetingSeries, day: date) -> datetime:
    return datetime.combine(day, time(series.hour, series.minute), tzinfo=TOKYO)


def occurrence_of(session: Session, series_id: int, month: int) -> Meeting | None:
    return session.exec(
        select(Meeting).where(Meeting.series_id == series_id, Meeting.series_month == month)
    ).first()


def stop_series(session: Session, series: MeetingSeries) -> None:
    series.active = False
    session.add(series)


def future_occurrences(session: Session, series_id: int, *, now: datetime) -> list[Meeting]:
    rows = session.exec(
        select(Meeting).where(
            Meeting.series_id == series_id,
            Meeting.state == MeetingState.scheduled,
            Meeting.starts_at > now,
        )
    )
    return list(rows)


def active_series(session: Session) -> list[MeetingSeries]:
    return list(session.exec(select(MeetingSeries).where(MeetingSeries.active)))


def next_meeting_of(session: Session, kind: MeetingKind, *, now: datetime) -> Meeting | None:
    """The next scheduled meeting of `kind` that has not started."""
    return session.exec(
        select(Meeting)
        .where(
            Meeting.kind == kind, Meeting.state == MeetingState.scheduled, Meeting.starts_at > now
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).first()
