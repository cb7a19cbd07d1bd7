"""The three meetings in Slack. `register(app)` wires every meeting listener:
- here: `/tsunagi meeting`, and the meeting, its agenda (次第) and a case's details from it;
- schedule_listeners.py: the scheduling form (`/tsunagi meeting` for the coordinator, and
  会議を登録する on Home);
- change_listeners.py: moving, re-inviting and cancelling a meeting;
- minutes_listeners.py: the minutes (議事録), a Link-net meeting's record, sending them.
Outcomes of case meetings and the plan: handlers/plans/.

Every listener looks the clicking user up in the database and asks `models.cases.access.decide`;
a refusal is answered only to that user, changes nothing and is audited.
"""

from __future__ import annotations

import unicodedata

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from handlers.common import commands, deferred, ids
from handlers.common.commands import Reply
from handlers.common.replies import (
    Refused,
    acting,
    allowed,
    button_value,
    int_or_none,
    message_for,
    open_modal,
    refuse,
    show,
)
from handlers.common.services import services
from handlers.common.texts import t
from handlers.desk.case_views import detail_modal
from handlers.meetings import change_listeners, minutes_listeners, schedule_listeners
from handlers.meetings.lookup import attended, meeting_info, pair
from handlers.meetings.papers import agenda_text
from handlers.meetings.schedule_listeners import schedule_view
from handlers.meetings.views import agenda_modal, meeting_modal, meetings_list
from models.base.errors import DomainError
from models.cases import casework
from models.cases.access import Action, decide, steps_for
from models.cases.records import case_or_none, detail
from models.cases.tables import Case
from models.meetings import schedule as domain
from models.meetings.tables import MeetingKind, MeetingState
from models.org.roster import member_by_slack_id

KIND_WORDS = {
    "linknet": MeetingKind.linknet,
    "リンクネット": MeetingKind.linknet,
    "saponet": MeetingKind.saponet,
    "さぽネット": MeetingKind.saponet,
    "marugoto": MeetingKind.marugoto,
    "まるごと": MeetingKind.marugoto,
}


def register(app: App) -> None:
    app.action(ids.ACTION_MEETING_NEW)(schedule_listeners.new_from_home)
    app.action(ids.ACTION_MEETING_KIND)(schedule_listeners.switch_kind)
    app.options(ids.ACTION_MEETING_CASES)(schedule_listeners.case_options)
    app.view(ids.VIEW_MEETING_SCHEDULE)(schedule_listeners.submit_schedule)
    app.action(ids.ACTION_MEETING_OPEN)(open_meeting)
    app.action(ids.ACTION_MEETING_AGENDA)(open_agenda)
    app.action(ids.ACTION_MEETING_CASE)(open_case_from_agenda)
    app.action(ids.ACTION_MEETING_MINUTES)(minutes_listeners.open_minutes)
    app.action(ids.ACTION_MEETING_RESCHEDULE)(change_listeners.open_reschedule)
    app.view(ids.VIEW_MEETING_RESCHEDULE)(change_listeners.submit_reschedule)
    app.action(ids.ACTION_MEETING_ATTENDEES)(change_listeners.open_attendees)
    app.view(ids.VIEW_MEETING_ATTENDEES)(change_listeners.submit_attendees)
    app.action(ids.ACTION_MEETING_CANCEL)(change_listeners.open_cancel)
    app.view(ids.VIEW_MEETING_CANCEL)(change_listeners.submit_cancel)
    app.action(ids.ACTION_MEETING_RECORD)(minutes_listeners.open_linknet_record)
    app.view(ids.VIEW_LINKNET_MINUTES)(minutes_listeners.submit_linknet_record)
    app.action(ids.ACTION_MEETING_SHARE)(minutes_listeners.share_minutes)
    command = LATER["meeting"]
    commands.add_slow(
        app,
        ("meeting", "meetings", "会議"),
        deferred.later("meeting", command),
        placeholder=deferred.in_words(command),
    )


# --- /tsunagi meeting ----------------------------------------------------------------------------


def meeting_command(body: dict, client: WebClient, context: dict, args: list[str]):
    """The coordinator gets the scheduling form (`/tsunagi meeting さぽネット` chooses the kind);
    `/tsunagi meeting 12` opens meeting #12; anyone else sees the meetings they are invited to.
    All after the ack (a form for most who type it: no placeholder)."""
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    view = text = blocks = None
    word = args[0] if args else ""
    with acting(svc.engine) as session:
        member = member_by_slack_id(session, user)
        manage = decide(session, member, Action.manage_meeting)
        if member is None:
            text = refuse(
                session,
                at=now,
                slack_id=user,
                member=None,
                action=Action.view_meeting,
                reason=manage.reason,
            )
        elif word.isdigit():
            try:
                view = _meeting_view(session, user=user, meeting_id=int_or_none(word), now=now)
            except (Refused, DomainError) as exc:
                text = exc.text if isinstance(exc, Refused) else message_for(exc)
        elif manage:
            kind = KIND_WORDS.get(unicodedata.normalize("NFKC", word).lower(), MeetingKind.saponet)
            view = schedule_view(session, kind, organiser=user, now=now)
        else:
            text, blocks = _listed(session, member, now)
    if view is None:
        return Reply(text, blocks or None)
    show(client, body, view)
    return None


def _listed(session: Session, member, now) -> tuple[str, list[dict]]:
    rows = [
        (m, len(domain.agenda_cases(session, m.id)))
        for m in domain.meetings_of(session, member, since=now)
    ]
    return meetings_list(rows)


def meetings_in_words(body: dict, client: WebClient | None, context: dict, args: list[str]):
    """`/tsunagi meeting` for someone the door gave no form: the meetings they are invited to,
    answered by the worker (a refusal for someone not registered)."""
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    with acting(svc.engine) as session:
        member = member_by_slack_id(session, user)
        if member is None:
            return Reply(
                refuse(
                    session,
                    at=now,
                    slack_id=user,
                    member=None,
                    action=Action.view_meeting,
                    reason="access.not_registered",
                )
            )
        text, blocks = _listed(session, member, now)
    return Reply(text, blocks)


def _meeting_keep(args: list[str], known) -> list[str] | None:
    """At the door (None): a meeting by its number, and the coordinator's scheduling form; the
    list of one's meetings is for the worker (nothing typed is kept)."""
    if (args and args[0].isdigit()) or (known is not None and known.coordinator):
        return None
    return []


# `/tsunagi meeting` in words is answered by the worker (handlers/common/deferred.py); its forms
# open at the door (a trigger lasts 3 seconds).
LATER: dict[str, deferred.Later] = {
    "meeting": deferred.Later(keep=_meeting_keep, work=meetings_in_words, door=meeting_command),
}


# --- the meeting, its agenda and its cases -------------------------------------------------------


def _meeting_view(session: Session, *, user: str, meeting_id: int | None, now):
    member, meeting = attended(session, at=now, user=user, meeting_id=meeting_id)
    manage = bool(decide(session, member, Action.manage_meeting))
    return meeting_modal(meeting_info(session, meeting, now=now), manage=manage)


def open_meeting(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    meeting_id = int_or_none(button_value(body))
    open_modal(
        client,
        context,
        body,
        lambda s, user, now: _meeting_view(s, user=user, meeting_id=meeting_id, now=now),
    )


def open_agenda(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """次第: for attendees (and the coordinator); 詳細 for the cases the viewer is entitled to."""
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        member, meeting = attended(session, at=now, user=user, meeting_id=meeting_id)
        info = meeting_info(session, meeting, now=now)
        entitled = [
            line
            for line in info.cases
            if decide(
                session,
                member,
                Action.view_meeting_case,
                session.get(Case, line.case_id),
                meeting=meeting,
            )
        ]
        note = t("meeting.cancelled_note") if meeting.state == MeetingState.cancelled else None
        return agenda_modal(info, agenda_text(session, meeting), detail_for=entitled, note=note)

    open_modal(client, context, body, build)


def open_case_from_agenda(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """A case's details from the agenda: entitled attendees only; every view is audited."""
    ack()
    meeting_id, case_id = pair(button_value(body))

    def build(session, user, now):
        case = case_or_none(session, case_id)
        member, meeting = attended(
            session,
            at=now,
            user=user,
            meeting_id=meeting_id,
            action=Action.view_meeting_case,
            case=case,
        )
        view = detail_modal(
            detail(session, case),
            record=casework.case_record(session, case),
            steps=steps_for(session, member, case),
        )
        allowed(
            session,
            at=now,
            member=member,
            action=Action.view_meeting_case,
            case_id=case.id,
            detail=f"meeting:{meeting.id}",
        )
        return view

    open_modal(client, context, body, build)
