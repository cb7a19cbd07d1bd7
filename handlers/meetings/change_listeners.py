"""Changing a scheduled meeting, the coordinator only: move it (日時・場所を変える), change its
attendees (出席者を変える) or cancel it (中止する, with the rest of its series if asked).
A form opened before another change is refused (the meeting's version is in the form)."""

from __future__ import annotations

from datetime import datetime

from slack_bolt import Ack
from slack_sdk import WebClient

from handlers.common import forms
from handlers.common.blocks import notice_modal
from handlers.common.replies import (
    allowed,
    button_value,
    int_or_none,
    message_for,
    open_modal,
    submit,
)
from handlers.common.texts import t
from handlers.meetings.documents import meeting_when
from handlers.meetings.lookup import active_agencies, managed, registered, stale
from handlers.meetings.schedule_listeners import errors_on
from handlers.meetings.schedule_views import attendees_modal, cancel_modal, reschedule_modal
from handlers.meetings.views import kind_name
from models.base.clock import TOKYO
from models.base.errors import DomainError
from models.cases.access import Action
from models.cases.tables import has_consent
from models.meetings import schedule as domain
from models.meetings.rules import attendees
from models.meetings.series import future_occurrences, stop_series
from models.meetings.tables import Meeting, MeetingSeries, MeetingState
from reminders import meetings as meeting_reminders


def _scheduled(session, *, at, user: str, meeting_id: int | None) -> tuple:
    """The coordinator and a meeting still to be held."""
    member, meeting = managed(session, at=at, user=user, meeting_id=meeting_id)
    if meeting.state != MeetingState.scheduled:
        raise DomainError("meeting.not_scheduled")
    return member, meeting


def _done(code: str, meeting: Meeting, **values) -> str:
    return t(code, kind=kind_name(meeting.kind), when=meeting_when(meeting), **values)


def _meeting_id(view: dict):
    return forms.read_metadata(view.get("private_metadata")).get("meeting_id")


# --- move ----------------------------------------------------------------------------------------


def open_reschedule(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, meeting = _scheduled(session, at=now, user=user, meeting_id=meeting_id)
        return reschedule_modal(meeting)

    open_modal(client, context, body, build)


def _date_or_place(exc: DomainError) -> dict[str, str]:
    field = "place" if exc.code == "meeting.place_too_long" else "date"
    return {field: message_for(exc)}


def submit_reschedule(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    meeting_id = _meeting_id(view)
    day, at_time = forms.date_value(view, "date"), forms.time_value(view, "time")
    if day is None or at_time is None:
        ack(response_action="errors", errors={"date": t("meeting.error.date_required")})
        return

    def work(session, user, now):
        member, meeting = managed(session, at=now, user=user, meeting_id=meeting_id)
        if stale(meeting, view):
            raise DomainError("meeting.changed_meanwhile")
        was = meeting.starts_at
        domain.reschedule(
            session,
            meeting,
            starts_at=datetime.combine(day, at_time, tzinfo=TOKYO),
            place=forms.value(view, "place"),
            keep_place=False,
            at=now,
        )
        meeting_reminders.after_rescheduled(
            session, meeting, at=now, was=was, by_member_id=member.id
        )
        detail = f"meeting:{meeting.id}:moved:v{meeting.version}"
        allowed(session, at=now, member=member, action=Action.manage_meeting, detail=detail)
        return notice_modal(t("meeting.title.done"), _done("meeting.done.rescheduled", meeting))

    submit(
        ack, client, context, body, work, title=t("meeting.title.reschedule"), field=_date_or_place
    )


# --- attendees -----------------------------------------------------------------------------------


def open_attendees(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """出席者を変える: the coordinator, before the meeting begins."""
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, meeting = _scheduled(session, at=now, user=user, meeting_id=meeting_id)
        if meeting.starts_at <= now:
            raise DomainError("meeting.already_started")
        current = [m.slack_id for m in attendees(session, meeting.id) if m.active]
        return attendees_modal(meeting, current=current, agencies=active_agencies(session))

    open_modal(client, context, body, build)


def submit_attendees(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    """The new attendee list, under the meeting's legal rules: those added are invited and
    reminded, those taken off are told and get no more reminders."""
    meeting_id = _meeting_id(view)
    slack_ids = forms.value(view, "members") or []
    agency_ids = forms.int_values(view, "agencies")
    member_ids: set[int] = set()

    def work(session, user, now):
        member, meeting = managed(session, at=now, user=user, meeting_id=meeting_id)
        if stale(meeting, view):
            raise DomainError("meeting.changed_meanwhile")
        member_ids.update(m.id for m in registered(session, slack_ids))
        added, removed = domain.change_attendees(
            session,
            meeting,
            member_ids=sorted(member_ids),
            agency_ids=agency_ids,
            at=now,
            has_consent=has_consent,
        )
        meeting_reminders.after_attendees_changed(
            session, meeting, added=added, removed=removed, at=now
        )
        detail = f"meeting:{meeting.id}:attendees:+{len(added)}-{len(removed)}"
        allowed(session, at=now, member=member, action=Action.manage_meeting, detail=detail)
        done = _done("meeting.done.attendees", meeting, added=len(added), removed=len(removed))
        return notice_modal(t("meeting.title.done"), done)

    title = t("meeting.title.attendees")
    submit(ack, client, context, body, work, title=title, field=errors_on(view, member_ids))


# --- cancel --------------------------------------------------------------------------------------


def open_cancel(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, meeting = _scheduled(session, at=now, user=user, meeting_id=meeting_id)
        series = session.get(MeetingSeries, meeting.series_id) if meeting.series_id else None
        return cancel_modal(meeting, series_active=bool(series and series.active))

    open_modal(client, context, body, build)


def _cancel_later(session, meeting: Meeting, *, at, by_member_id: int | None = None) -> int:
    """The series stopped, and its later meetings cancelled: how many."""
    series = session.get(MeetingSeries, meeting.series_id)
    stop_series(session, series)
    later = 0
    for other in future_occurrences(session, series.id, now=at):
        domain.cancel(session, other)
        meeting_reminders.after_cancelled(session, other, at=at, by_member_id=by_member_id)
        later += 1
    return later


def submit_cancel(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    meeting_id = _meeting_id(view)
    stop = "stop" in (forms.value(view, "series") or [])

    def work(session, user, now):
        member, meeting = managed(session, at=now, user=user, meeting_id=meeting_id)
        domain.cancel(session, meeting)
        meeting_reminders.after_cancelled(session, meeting, at=now, by_member_id=member.id)
        later = (
            _cancel_later(session, meeting, at=now, by_member_id=member.id)
            if stop and meeting.series_id
            else 0
        )
        detail = f"meeting:{meeting.id}:cancelled"
        allowed(session, at=now, member=member, action=Action.manage_meeting, detail=detail)
        done = _done("meeting.done.cancelled", meeting)
        if stop:
            done += "\n" + t("meeting.done.series_stopped", n=later)
        return notice_modal(t("meeting.title.done"), done)

    submit(ack, client, context, body, work, title=t("meeting.title.cancel"))
