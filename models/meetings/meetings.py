"""The three meetings and the legal rules on who may attend and which cases may be discussed.

- さぽネット会議 (支援会議, art. 106-6): personal information may be shared WITHOUT consent, but
  only among registered members who acknowledged the confidentiality duty (守秘義務).
- たつのまるごと会議 (重層的支援会議): every case on the agenda needs the person's current consent.
- リンクネット会議: departments only share figures; no case, no personal data at all.

The rules are checked when a meeting is scheduled (`schedule`, refusing with a reason) and again
whenever someone looks at it (models/cases/access.py: an attendee whose 守秘義務 lapsed, a case
whose consent was withdrawn, is not shown anything more).

A recurring Link-net meeting is a `MeetingSeries` (e.g. the 2nd Tuesday of every month at 13:30);
its occurrences are ordinary meetings, one per month (`series_month`), generated ahead by
reminders/meetings.py following the business calendar.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.base.clock import TOKYO
from models.base.crypto import EncryptedJSON, EncryptedText
from models.base.db import UTCDateTime
from models.base.errors import DomainError
from models.cases.lifecycle import CaseState
from models.cases.records import case_by_id
from models.cases.tables import Case
from models.org.roster import active_members_of
from models.org.tables import Agency, Member

PLACE_LIMIT = 200
TOPIC_LIMIT = 200
TOPICS_MAX = 10
REMIND_BEFORE_CHOICES = (0, 30, 60, 120)  # minutes before the start; 0: no such reminder
LENGTH_CHOICES = (30, 60, 90, 120)


class MeetingKind(StrEnum):
    linknet = "linknet"
    saponet = "saponet"
    marugoto = "marugoto"


CASE_MEETINGS = (MeetingKind.saponet, MeetingKind.marugoto)
# A memo still waiting or held by one window is not for the meetings: the window escalates it
# to the coordinator first (重層推進室へつなぐ).
NOT_YET_FOR_MEETINGS = (CaseState.received, CaseState.window)


class MeetingState(StrEnum):
    scheduled = "scheduled"
    held = "held"  # its outcomes or minutes have been recorded
    cancelled = "cancelled"


class Meeting(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("series_id", "series_month"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=12, index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    minutes_long: int = 60
    place: str | None = Field(default=None, max_length=PLACE_LIMIT)  # a room or an online link
    state: str = Field(default=MeetingState.scheduled, max_length=12)
    series_id: int | None = Field(default=None, foreign_key="meetingseries.id")
    series_month: int | None = None  # year*12 + month-1 of a series occurrence (one per month)
    remind_before: int = 60  # minutes; 0: only the business day before
    created_by_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1  # bumped when moved or changed, so reminders and notices follow


class MeetingSeries(SQLModel, table=True):
    """A recurring Link-net meeting, e.g. the 2nd Tuesday of every month at 13:30."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=MeetingKind.linknet, max_length=12)
    weekday: int  # Monday = 0
    nth: int  # 1..5, or -1 for the last
    hour: int
    minute: int
    minutes_long: int = 60
    remind_before: int = 60
    place: str | None = Field(default=None, max_length=PLACE_LIMIT)
    member_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    agency_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    active: bool = True


class MeetingAttendee(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    via_agency_id: int | None = Field(default=None, foreign_key="agency.id")


class AgendaItem(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    position: int = 0


class AgendaTopic(SQLModel, table=True):
    """A Link-net topic: words about the system, never about a person."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    position: int = 0


class MeetingMinutes(SQLModel, table=True):
    """The minutes (議事録) as rendered from the template, kept encrypted; `version` counts
    re-renderings (an outcome recorded later; an erasure blanking them, models.retention),
    `shared_version` the one attendees were sent."""

    __tablename__ = "meeting_minutes"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", unique=True)
    text: str = Field(sa_column=Column(EncryptedText, nullable=False))
    notes: list = Field(default_factory=list, sa_column=Column(EncryptedJSON, nullable=False))
    version: int = 1
    shared_version: int | None = None
    recorded_by_id: int = Field(foreign_key="member.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)


ConsentCheck = Callable[[Session, int], bool]


def bound_by_confidentiality(member: Member) -> bool:
    return member.active and member.confidentiality_ack is not None


def expand_attendees(
    session: Session, *, member_ids: Iterable[int], agency_ids: Iterable[int]
) -> list[tuple[Member, int | None]]:
    """Members invited by name, plus every active member of each invited agency."""
    chosen: dict[int, tuple[Member, int | None]] = {}
    for agency_id in agency_ids:
        agency = session.get(Agency, agency_id)
        if agency is None or not agency.active:
            raise DomainError("meeting.unknown_agency")
        for member in active_members_of(session, agency_id):
            chosen.setdefault(member.id, (member, agency_id))
    for member_id in member_ids:
        member = session.get(Member, member_id)
        if member is None or not member.active:
            raise DomainError("meeting.unknown_member")
        chosen[member_id] = (member, None)
    return list(chosen.values())


def check_rules(
    session: Session,
    *,
    kind: MeetingKind,
    attendees: list[Member],
    cases: list[Case],
    has_consent: ConsentCheck,
) -> None:
    """Refuse what the law does not allow, with a reason the coordinator sees."""
    if not attendees:
        raise DomainError("meeting.no_attendees")
    if kind is MeetingKind.linknet:
        if cases:
            raise DomainError("meeting.linknet_no_cases")
        return
    closed = [c for c in cases if c.state == CaseState.closed]
    if closed:
        raise DomainError("meeting.case_closed", numbers="、".join(c.number for c in closed))
    at_window = [c for c in cases if c.state in NOT_YET_FOR_MEETINGS]
    if at_window:
        raise DomainError("meeting.case_at_window", numbers="、".join(c.number for c in at_window))
    if kind is MeetingKind.marugoto:
        missing = [c for c in cases if not has_consent(session, c.id)]
        if missing:
            raise DomainError(
                "meeting.marugoto_needs_consent", numbers="、".join(c.number for c in missing)
            )
    check_attendees(session, kind=kind, attendees=attendees, cases=cases)


def check_attendees(
    session: Session, *, kind: MeetingKind, attendees: list[Member], cases: list[Case]
) -> None:
    """The rules on who may attend, given the cases on the agenda (at scheduling, when a case
    is added, when the attendees change)."""
    if not attendees:
        raise DomainError("meeting.no_attendees")
    unbound = [m for m in attendees if not bound_by_confidentiality(m)]
    if kind is MeetingKind.saponet and unbound:
        raise DomainError(
            "meeting.saponet_unbound",
            users=" ".join(f"<@{m.slack_id}>" for m in unbound),
            names="、".join(f"{m.name}さん" for m in unbound),
            member_ids=[m.id for m in unbound],
        )
    if kind is MeetingKind.marugoto:
        outside = not_covered(session, attendees=attendees, cases=cases)
        if outside:
            raise DomainError(
                "meeting.marugoto_not_covered",
                agencies="、".join(
                    f"{name}（{'、'.join(numbers)}）" for name, numbers in outside.items()
                ),
                member_ids=sorted(
                    m.id for m in attendees if session.get(Agency, m.agency_id).name in outside
                ),
            )


def entitled_to_case(session: Session, member: Member, case: Case) -> bool:
    """Whether `member` may hear a case discussed at a たつのまるごと会議: the agency is named in
    the person's current consent, or the member already handles the case (routed window, lead),
    or is the coordinator — the same people models/cases/access.py lets open the case from the
    agenda, so nobody is invited to hear what they could not read."""
    from models.cases.access import HANDLER, relations
    from models.cases.consent import covers
    from models.org.tables import Role

    return (
        member.has(Role.coordinator)
        or covers(session, case.id, member.agency_id)
        or bool(relations(session, member, case) & HANDLER)
    )


def not_covered(
    session: Session, *, attendees: list[Member], cases: list[Case]
) -> dict[str, list[str]]:
    """Agency name -> receipt numbers whose consent does not cover an attendee of that agency
    (no personal data: the refusal names only the agency and the receipt number)."""
    outside: dict[int, list[str]] = {}
    for case in cases:
        for member in attendees:
            if entitled_to_case(session, member, case):
                continue
            numbers = outside.setdefault(member.agency_id, [])
            if case.number not in numbers:
                numbers.append(case.number)
    return {session.get(Agency, a).name: numbers for a, numbers in outside.items()}


# --- Link-net topics: about the system, never about a person -----------------------------------

_RECEIPT = re.compile(r"R\d{1,2}-\d{3,}", re.IGNORECASE)
_OUTREACH = re.compile(r"(?<![A-Z])OT-\d{3,}", re.IGNORECASE)  # an outreach target's label
_PHONE = re.compile(r"(?<!\d)0\d{1,4}-?\d{1,4}-?\d{3,4}(?!\d)")
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−ーｰ"})


def looks_personal(text: str) -> bool:
    """A receipt number, an outreach label or a phone number: what a Link-net text must never
    carry (each points at a person)."""
    normal = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return bool(_RECEIPT.search(normal) or _OUTREACH.search(normal) or _PHONE.search(normal))


def clean_lines(lines: Iterable[str], *, field: str = "topics") -> list[str]:
    """Link-net topics or notes, one per line: short, few, and with nothing personal."""
    found = [line.strip() for line in lines if line and line.strip()]
    if len(found) > TOPICS_MAX:
        raise DomainError("meeting.too_many_topics", most=TOPICS_MAX, field=field)
    if any(len(line) > TOPIC_LIMIT for line in found):
        raise DomainError("meeting.topic_too_long", most=TOPIC_LIMIT, field=field)
    if any(looks_personal(line) for line in found):
        raise DomainError("meeting.topic_personal", field=field)
    return found


def _place(place: str | None) -> str | None:
    place = (place or "").strip() or None
    if place is not None and len(place) > PLACE_LIMIT:
        raise DomainError("meeting.place_too_long", most=PLACE_LIMIT)
    return place


def schedule(
    session: Session,
    *,
    kind: MeetingKind,
    starts_at: datetime,
    place: str | None,
    member_ids: Iterable[int],
    agency_ids: Iterable[int],
    case_ids: Iterable[int],
    created_by: Member,
    at: datetime,
    has_consent: ConsentCheck,
    minutes_long: int = 60,
    series_id: int | None = None,
    series_month: int | None = None,
    topics: Iterable[str] = (),
    remind_before: int = 60,
) -> Meeting:
    kind = MeetingKind(kind)
    if starts_at <= at:
        raise DomainError("meeting.in_the_past")
    if remind_before not in REMIND_BEFORE_CHOICES:
        raise DomainError("meeting.bad_reminder")
    topics = clean_lines(topics)
    if topics and kind is not MeetingKind.linknet:
        raise DomainError("meeting.topics_only_linknet")
    invited = expand_attendees(session, member_ids=member_ids, agency_ids=agency_ids)
    cases = [case_by_id(session, cid) for cid in dict.fromkeys(case_ids)]
    check_rules(
        session,
        kind=kind,
        attendees=[m for m, _ in invited],
        cases=cases,
        has_consent=has_consent,
    )
    meeting = Meeting(
        kind=kind,
        starts_at=starts_at,
        minutes_long=minutes_long,
        place=_place(place),
        created_by_id=created_by.id,
        created_at=at,
        series_id=series_id,
        series_month=series_month,
        remind_before=remind_before,
    )
    session.add(meeting)
    session.flush()
    for member, via in invited:
        session.add(MeetingAttendee(meeting_id=meeting.id, member_id=member.id, via_agency_id=via))
    for position, case in enumerate(cases):
        session.add(AgendaItem(meeting_id=meeting.id, case_id=case.id, position=position))
    for position, text in enumerate(topics):
        session.add(AgendaTopic(meeting_id=meeting.id, text=text, position=position))
    session.flush()
    return meeting


def meeting_by_id(session: Session, meeting_id: int | None) -> Meeting:
    meeting = session.get(Meeting, meeting_id) if meeting_id else None
    if meeting is None:
        raise DomainError("meeting.not_found")
    return meeting


def attendees(session: Session, meeting_id: int) -> list[Member]:
    rows = session.exec(
        select(Member)
        .join(MeetingAttendee, MeetingAttendee.member_id == Member.id)
        .where(MeetingAttendee.meeting_id == meeting_id)
        .order_by(Member.id)
    )
    return list(rows)


def agenda_cases(session: Session, meeting_id: int) -> list[Case]:
    rows = session.exec(
        select(Case)
        .join(AgendaItem, AgendaItem.case_id == Case.id)
        .where(AgendaItem.meeting_id == meeting_id)
        .order_by(AgendaItem.position)
    )
    return list(rows)


def topics_of(session: Session, meeting_id: int) -> list[str]:
    rows = session.exec(
        select(AgendaTopic)
        .where(AgendaTopic.meeting_id == meeting_id)
        .order_by(AgendaTopic.position, AgendaTopic.id)
    )
    return [row.text for row in rows]


def replace_topics(session: Session, meeting: Meeting, topics: list[str]) -> None:
    """A Link-net meeting's topics as recorded after it: the new list replaces the old."""
    for row in session.exec(select(AgendaTopic).where(AgendaTopic.meeting_id == meeting.id)):
        session.delete(row)
    session.flush()
    for i, text in enumerate(topics):
        session.add(AgendaTopic(meeting_id=meeting.id, text=text, position=i))
    session.flush()


def is_attendee(session: Session, meeting_id: int, member: Member) -> bool:
    row = session.exec(
        select(MeetingAttendee).where(
            MeetingAttendee.meeting_id == meeting_id, MeetingAttendee.member_id == member.id
        )
    ).first()
    return row is not None


def on_agenda(session: Session, meeting_id: int, case_id: int) -> bool:
    row = session.exec(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id, AgendaItem.case_id == case_id)
    ).first()
    return row is not None


def reschedule(
    session: Session,
    meeting: Meeting,
    *,
    starts_at: datetime,
    at: datetime,
    place: str | None = None,
    keep_place: bool = True,
) -> None:
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    if starts_at <= at:
        raise DomainError("meeting.in_the_past")
    new_place = meeting.place if keep_place else _place(place)
    if starts_at == meeting.starts_at and new_place == meeting.place:
        raise DomainError("meeting.nothing_changed")
    meeting.starts_at = starts_at
    meeting.place = new_place
    meeting.version += 1
    session.add(meeting)


def change_attendees(
    session: Session,
    meeting: Meeting,
    *,
    member_ids: Iterable[int],
    agency_ids: Iterable[int],
    at: datetime,
    has_consent: ConsentCheck,
) -> tuple[list[Member], list[Member]]:
    """Replace who attends a scheduled meeting that has not begun, under the same rules as
    schedule(); returns (added, removed). Only the attendee rules are checked again, against
    the cases the meeting may still discuss (a case whose consent was withdrawn has left a
    たつのまるごと会議 already, see handlers/meetings/documents.lawful_agenda)."""
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    if meeting.starts_at <= at:
        raise DomainError("meeting.already_started")
    kind = MeetingKind(meeting.kind)
    invited = expand_attendees(session, member_ids=member_ids, agency_ids=agency_ids)
    cases = agenda_cases(session, meeting.id)
    if kind is MeetingKind.marugoto:
        cases = [c for c in cases if has_consent(session, c.id)]
    check_attendees(session, kind=kind, attendees=[m for m, _ in invited], cases=cases)
    rows = {
        row.member_id: row
        for row in session.exec(
            select(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id)
        )
    }
    wanted = {m.id: (m, via) for m, via in invited}
    if set(wanted) == set(rows):
        raise DomainError("meeting.attendees_unchanged")
    removed = [session.get(Member, mid) for mid in sorted(set(rows) - set(wanted))]
    added = [wanted[mid][0] for mid in sorted(set(wanted) - set(rows))]
    for mid in set(rows) - set(wanted):
        session.delete(rows[mid])
    for member in added:
        session.add(
            MeetingAttendee(
                meeting_id=meeting.id, member_id=member.id, via_agency_id=wanted[member.id][1]
            )
        )
    meeting.version += 1
    session.add(meeting)
    session.flush()
    return added, removed


def cancel(session: Session, meeting: Meeting) -> None:
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    meeting.state = MeetingState.cancelled
    meeting.version += 1
    session.add(meeting)


def require_started(meeting: Meeting, *, at: datetime) -> None:
    """Outcomes and minutes are recorded once a meeting has begun, never for a cancelled one."""
    if meeting.state == MeetingState.cancelled:
        raise DomainError("meeting.cancelled")
    if meeting.starts_at > at:
        raise DomainError("meeting.not_yet_held")


def mark_held(session: Session, meeting: Meeting, *, at: datetime) -> None:
    if meeting.state == MeetingState.scheduled:
        meeting.state = MeetingState.held
        meeting.held_at = at
        meeting.version += 1
        session.add(meeting)


def next_meetings(session: Session, *, now: datetime, limit: int = 5) -> list[Meeting]:
    rows = session.exec(
        select(Meeting)
        .where(Meeting.state == MeetingState.scheduled, Meeting.starts_at >= now)
        .order_by(Meeting.starts_at)
        .limit(limit)
    )
    return list(rows)


def meetings_of(
    session: Session, member: Member, *, since: datetime, limit: int = 10
) -> list[Meeting]:
    """Meetings this member is invited to that start at or after `since` (not cancelled)."""
    rows = session.exec(
        select(Meeting)
        .join(MeetingAttendee, MeetingAttendee.meeting_id == Meeting.id)
        .where(
            MeetingAttendee.member_id == member.id,
            Meeting.state != MeetingState.cancelled,
            Meeting.starts_at >= since,
        )
        .order_by(Meeting.starts_at)
        .limit(limit)
    )
    return list(rows)


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


# --- minutes ------------------------------------------------------------------------------------


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


# --- recurring Link-net meetings ------------------------------------------------------------------


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


# --- outreach (issue 6): a case that just got consent, onto the next meeting's agenda ------------


def next_meeting_of(session: Session, kind: MeetingKind, *, now: datetime) -> Meeting | None:
    """The next scheduled meeting of `kind` that has not started."""
    return session.exec(
        select(Meeting)
        .where(
            Meeting.kind == kind, Meeting.state == MeetingState.scheduled, Meeting.starts_at > now
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).first()


def add_case_to_agenda(
    session: Session, *, meeting: Meeting, case: Case, has_consent: ConsentCheck, at: datetime
) -> bool:
    """Put a case last on a scheduled meeting's agenda, under the same legal rules as schedule().

    Returns False when it is already there (nothing changes).
    """
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    if meeting.starts_at <= at:
        raise DomainError("meeting.in_the_past")
    if on_agenda(session, meeting.id, case.id):
        return False
    check_rules(
        session,
        kind=MeetingKind(meeting.kind),
        attendees=attendees(session, meeting.id),
        cases=[case],
        has_consent=has_consent,
    )
    from sqlalchemy import func

    last = session.exec(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    ).one()
    position = 0 if last is None else last + 1
    session.add(AgendaItem(meeting_id=meeting.id, case_id=case.id, position=position))
    session.flush()
    return True
