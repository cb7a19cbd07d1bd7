"""The messages a meeting sends its attendees — the invitation, a change (moved, cancelled,
taken off the list), minutes ready — and its reminders (the eve, an hour before).

Each names the kind, the time and the place, never a person or a case. What they show is read
at send time by handlers/meetings/notices.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from handlers.common import ids
from handlers.common.blocks import context, section
from handlers.common.texts import t
from handlers.desk.case_views import when as when_short
from handlers.meetings.documents import meeting_when, when_text
from handlers.meetings.views import button, kind_name, place_text
from handlers.notices.views import Rendered
from handlers.reminders.views import ReminderContent
from models.meetings.tables import Meeting


def _values(meeting: Meeting, *, place: bool = True) -> dict:
    values = {"kind": kind_name(meeting.kind), "when": meeting_when(meeting)}
    if place:
        values["place"] = place_text(meeting.place)
    return values


def _agenda_button(meeting: Meeting) -> ButtonElement:
    return button("meeting.button.agenda", ids.ACTION_MEETING_AGENDA, str(meeting.id), "primary")


def _message(text: str, blocks: list) -> Rendered:
    return Rendered(text=text, blocks=[b.to_dict() for b in blocks])


def invitation(meeting: Meeting) -> Rendered:
    values = _values(meeting)
    blocks = [
        section(t("meeting.invite.body", **values)),
        context(t(f"meeting.invite.note_{meeting.kind}")),
        ActionsBlock(
            block_id=f"{ids.BLOCK_MEETING}{meeting.id}",
            elements=[
                _agenda_button(meeting),
                button("meeting.button.open", ids.ACTION_MEETING_OPEN, str(meeting.id)),
            ],
        ),
    ]
    return _message(t("meeting.invite.text", **values), blocks)


def change(meeting: Meeting, event: str | None) -> Rendered:
    """`event`: "cancelled", "uninvited" (this attendee taken off), else moved."""
    values = _values(meeting)
    if event in ("cancelled", "uninvited"):
        blocks = [section(t(f"meeting.changed.{event}_body", **values))]
        return _message(t(f"meeting.changed.{event}_text", **values), blocks)
    blocks = [
        section(t("meeting.changed.moved_body", **values)),
        ActionsBlock(
            block_id=f"{ids.BLOCK_MEETING}{meeting.id}", elements=[_agenda_button(meeting)]
        ),
    ]
    return _message(t("meeting.changed.moved_text", **values), blocks)


def minutes_ready(meeting: Meeting) -> Rendered:
    values = _values(meeting, place=False)
    blocks = [
        section(t("meeting.minutes_ready.body", **values)),
        ActionsBlock(
            block_id=f"{ids.BLOCK_MINUTES}{meeting.id}",
            elements=[
                button(
                    "meeting.button.minutes",
                    ids.ACTION_MEETING_MINUTES,
                    str(meeting.id),
                    style="primary",
                )
            ],
        ),
    ]
    return _message(t("meeting.minutes_ready.text", **values), blocks)


@dataclass(frozen=True)
class Moved:
    """A posted reminder's meeting moved: the time it announced, the new one, by whom, when."""

    announced: datetime
    to: datetime
    by: str | None  # Slack user id
    at: datetime


def reminder(meeting: Meeting, key: str, *, moved: Moved | None = None) -> ReminderContent:
    """The eve ("eve") or the hour before ("soon"); once the meeting moved, what it announced
    and where it went instead (one text, no button)."""
    values = _values(meeting)
    if moved is not None:
        values["when"] = when_text(moved.announced, meeting.minutes_long)
    subject = t("reminder.subject_of.meeting", **values)
    outcome = None
    if moved is not None:
        outcome = t(
            "reminder.outcome.meeting_moved",
            subject=subject,
            when=when_short(moved.at),
            who=t("reminder.outcome.who", user=moved.by) if moved.by else "",
            to=when_text(moved.to, meeting.minutes_long),
        )
    return ReminderContent(
        text=t(f"meeting.reminder.{key}_text", **values),
        body=t(f"meeting.reminder.{key}_body", **values),
        facts=t(f"meeting.invite.note_{meeting.kind}"),
        buttons=(_agenda_button(meeting),),
        subject=subject,
        outcome=outcome,
    )
