"""Minutes (議事録): attendees and the coordinator read them (a case meeting's are audited when
read); the coordinator records a Link-net meeting's topics and notes, and sends the minutes to
the attendees. A case meeting's minutes follow its outcomes (handlers/plans/)."""

from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlmodel import Session

from handlers.common import forms
from handlers.common.blocks import notice_modal
from handlers.common.replies import (
    allowed,
    answer,
    attempt,
    button_value,
    int_or_none,
    message_for,
    open_modal,
    submit,
)
from handlers.common.services import services
from handlers.common.texts import t
from handlers.meetings.lookup import attended, managed
from handlers.meetings.papers import minutes_now, minutes_text
from handlers.meetings.schedule_views import linknet_record_modal
from handlers.meetings.views import minutes_modal
from models.base.errors import DomainError
from models.cases.access import Action
from models.meetings import schedule as domain
from models.meetings.minutes import minutes_of, store_minutes
from models.meetings.rules import attendees, clean_lines
from models.meetings.tables import Meeting, MeetingKind
from models.queues import outbox
from reminders import meetings as meeting_reminders


def open_minutes(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """議事録: attendees and the coordinator; a case meeting's minutes are audited when read."""
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        member, meeting = attended(session, at=now, user=user, meeting_id=meeting_id)
        minutes = minutes_of(session, meeting.id)
        if minutes is None:
            raise DomainError("meeting.no_minutes")
        allowed(
            session,
            at=now,
            member=member,
            action=Action.view_meeting,
            detail=f"meeting:{meeting.id}:minutes:v{minutes.version}",
        )
        return minutes_modal(meeting.id, minutes_now(session, meeting, minutes))

    open_modal(client, context, body, build)


# --- a Link-net meeting's minutes ----------------------------------------------------------------


def _linknet_held(session, *, at, user: str, meeting_id: int | None) -> tuple:
    """The coordinator and a Link-net meeting that has begun (its minutes can be recorded)."""
    member, meeting = managed(session, at=at, user=user, meeting_id=meeting_id)
    if meeting.kind != MeetingKind.linknet:
        raise DomainError("meeting.not_linknet")
    domain.require_started(meeting, at=at)
    return member, meeting


def open_linknet_record(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, meeting = _linknet_held(session, at=now, user=user, meeting_id=meeting_id)
        minutes = minutes_of(session, meeting.id)
        return linknet_record_modal(
            meeting,
            topics=domain.topics_of(session, meeting.id),
            notes=list(minutes.notes) if minutes else [],
        )

    open_modal(client, context, body, build)


def _lines(view: dict, field: str, errors: dict[str, str]) -> list[str]:
    """A field's lines, cleaned (a refusal goes to `errors`)."""
    try:
        return clean_lines((forms.value(view, field) or "").splitlines(), field=field)
    except DomainError as exc:
        errors[field] = message_for(exc)
        return []


def submit_linknet_record(
    ack: Ack, body: dict, client: WebClient, view: dict, context: dict
) -> None:
    meeting_id = forms.read_metadata(view.get("private_metadata")).get("meeting_id")
    errors: dict[str, str] = {}
    topics, notes = _lines(view, "topics", errors), _lines(view, "notes", errors)
    if errors:
        ack(response_action="errors", errors=errors)
        return

    def work(session, user, now):
        member, meeting = _linknet_held(session, at=now, user=user, meeting_id=meeting_id)
        domain.replace_topics(session, meeting, topics)
        text = minutes_text(session, meeting, by=member, notes=notes)
        store_minutes(session, meeting, text=text, by=member, at=now, notes=notes)
        meeting_reminders.after_held(session, meeting, at=now, by_member_id=member.id)
        detail = f"meeting:{meeting.id}:minutes"
        allowed(session, at=now, member=member, action=Action.manage_meeting, detail=detail)
        return notice_modal(t("meeting.title.done"), t("meeting.done.minutes"))

    submit(ack, client, context, body, work, title=t("meeting.title.record"))


# --- sending the minutes to the attendees --------------------------------------------------------


def share_minutes(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """議事録を出席者に送る: each attendee gets a message with 議事録を見る (once per version)."""
    ack()
    meeting_id = int_or_none(button_value(body))

    def work(session, user, now):
        member, meeting = managed(session, at=now, user=user, meeting_id=meeting_id)
        text = t("meeting.done.shared", n=share(session, meeting, at=now))
        detail = f"meeting:{meeting.id}:shared"
        allowed(session, at=now, member=member, action=Action.manage_meeting, detail=detail)
        return text

    text = attempt(client, context, body, work)
    if text is not None:
        services(context).kick_delivery()
        answer(client, body, text)


def share(session: Session, meeting: Meeting, *, at) -> int:
    minutes = minutes_of(session, meeting.id)
    if minutes is None:
        raise DomainError("meeting.no_minutes")
    sent = 0
    for person in attendees(session, meeting.id):
        if not person.active:
            continue
        sent += outbox.enqueue(
            session,
            key=f"meeting:{meeting.id}:minutes:v{minutes.version}:{person.id}",
            kind="minutes_ready",
            target=person.slack_id,
            payload={"meeting_id": meeting.id},
            at=at,
        )
    minutes.shared_version = minutes.version
    session.add(minutes)
    return sent
