"""A meeting's agenda and minutes: read from the database, then rendered from the templates
(handlers/meetings/documents.py). For the listeners, the plan's listeners and `tsunagi minutes`."""

from __future__ import annotations

from sqlmodel import Session, select

from handlers.meetings import documents
from models.linknet.figures import Published, published
from models.linknet.ledger import LinknetPublication
from models.meetings.minutes import blank, store_rendered_again
from models.meetings.rules import attendees
from models.meetings.schedule import lawful_agenda, topics_of
from models.meetings.tables import Meeting, MeetingKind, MeetingMinutes
from models.org.tables import Member
from models.plans.minutes import outcome_entries


def latest_figures(session: Session) -> Published | None:
    """The last monthly Link-net post, as it was published."""
    row = session.exec(
        select(LinknetPublication)
        .where(LinknetPublication.kind == "post")
        .order_by(LinknetPublication.last.desc(), LinknetPublication.id.desc())
    ).first()
    return published(session, row.id) if row is not None else None


def agenda_text(session: Session, meeting: Meeting) -> str:
    cases, _ = lawful_agenda(session, meeting)
    linknet = meeting.kind == MeetingKind.linknet
    return documents.agenda_text(
        meeting,
        attendee_count=len(attendees(session, meeting.id)),
        cases=cases,
        topics=topics_of(session, meeting.id) if linknet else [],
        figures=latest_figures(session) if linknet else None,
    )


def minutes_text(session: Session, meeting: Meeting, *, by, notes: list[str] | None = None) -> str:
    """The minutes as they stand: a case meeting's recorded outcomes, or a Link-net meeting's
    topics, notes and published figures (nothing about a person)."""
    count = len(attendees(session, meeting.id))
    if meeting.kind == MeetingKind.linknet:
        return documents.linknet_minutes_text(
            meeting,
            attendee_count=count,
            topics=topics_of(session, meeting.id),
            notes=list(notes or []),
            figures=latest_figures(session),
        )
    return documents.case_minutes_text(
        meeting,
        attendee_count=count,
        recorded_by=f"{by.name}",
        outcomes=outcome_entries(session, meeting.id),
    )


def minutes_now(session: Session, meeting: Meeting, stored: MeetingMinutes) -> str:
    """The text of the stored minutes `stored` to show or export. Minutes blanked by an erasure
    (models/ops/erasure) are rendered again from the outcomes as they are now — the erased case's
    marked as erased — by their recorder, and stored again so they are rendered once."""
    if not blank(stored):
        return stored.text
    text = minutes_text(
        session,
        meeting,
        by=session.get(Member, stored.recorded_by_id),
        notes=list(stored.notes or []),
    )
    store_rendered_again(session, stored, text=text)
    return text
