"""The three meetings in Slack: `/tsunagi meeting` and 会議を登録する (Home) open the scheduling
modal; the meeting, its agenda (次第) and minutes (議事録) open for attendees; the coordinator
moves or cancels a meeting, changes its attendees and records a Link-net meeting's minutes.
Outcomes of case meetings and the plan: handlers/plans/listeners.py.

Every listener looks the clicking user up in the database and asks `models.access.decide`;
a refusal is answered only to that user, changes nothing and is audited. The legal rules are
the domain's (models/meetings/): a refusal is shown on the form's field (`errors`) with the
reason — the members without a 守秘義務 acknowledgement, the cases without consent, the
agencies a case's consent does not cover (by agency and receipt number, never the person).
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import or_
from sqlmodel import Session, select

from handlers.common import commands, forms, ids
from handlers.common.blocks import notice_modal
from handlers.common.commands import Reply
from handlers.common.replies import (
    Refused,
    acting,
    allowed,
    answer,
    attempt,
    button_value,
    int_or_none,
    message_for,
    open_modal,
    redraw,
    refuse,
    require,
    show,
    submit,
)
from handlers.common.services import services
from handlers.common.texts import t
from handlers.desk.case_views import detail_modal
from handlers.meetings import views
from handlers.meetings.documents import agenda_text, minutes_now, minutes_text, when_text
from models.base.clock import TOKYO
from models.base.db import transaction
from models.base.errors import DomainError
from models.cases import casework
from models.cases.access import Action, decide, steps_for
from models.cases.lifecycle import CaseState
from models.cases.records import case_by_id, detail
from models.cases.tables import Case, has_consent, with_consent
from models.meetings import schedule as domain
from models.meetings.minutes import minutes_of, store_minutes
from models.meetings.rules import attendees, clean_lines
from models.meetings.series import future_occurrences, start_series, stop_series
from models.meetings.tables import (
    LENGTH_CHOICES,
    NOT_YET_FOR_MEETINGS,
    Meeting,
    MeetingKind,
    MeetingSeries,
    MeetingState,
)
from models.org.roster import member_by_slack_id
from models.org.tables import Agency
from reminders import meetings as meeting_reminders
from reminders.deadlines import calendar_for

log = logging.getLogger("tsunagi.handlers")
CASE_OPTIONS = 100  # Slack shows at most 100 options
KIND_WORDS = {
    "linknet": MeetingKind.linknet,
    "リンクネット": MeetingKind.linknet,
    "saponet": MeetingKind.saponet,
    "さぽネット": MeetingKind.saponet,
    "marugoto": MeetingKind.marugoto,
    "まるごと": MeetingKind.marugoto,
}
# Where a domain refusal is shown in the scheduling form.
SCHEDULE_FIELD = {
    "meeting.in_the_past": "date",
    "meeting.no_attendees": "members",
    "meeting.unknown_member": "members",
    "meeting.unknown_agency": "agencies",
    "meeting.marugoto_needs_consent": "cases",
    "meeting.linknet_no_cases": "cases",
    "meeting.case_closed": "cases",
    "meeting.case_at_window": "cases",
    "case.not_found": "cases",
    "meeting.topic_personal": "topics",
    "meeting.topic_too_long": "topics",
    "meeting.too_many_topics": "topics",
    "meeting.topics_only_linknet": "kind",
    "meeting.place_too_long": "place",
    "meeting.bad_reminder": "remind",
    "meeting.error.unregistered": "members",
    "meeting.attendees_unchanged": "members",
}
# Refusals naming attendees: shown on the names field, the agencies field, or both, depending
# on how the refused members were chosen.
ATTENDEE_REFUSALS = ("meeting.saponet_unbound", "meeting.marugoto_not_covered")


def register(app: App) -> None:
    app.action(ids.ACTION_MEETING_NEW)(new_from_home)
    app.action(ids.ACTION_MEETING_KIND)(switch_kind)
    app.options(ids.ACTION_MEETING_CASES)(case_options)
    app.view(ids.VIEW_MEETING_SCHEDULE)(submit_schedule)
    app.action(ids.ACTION_MEETING_OPEN)(open_meeting)
    app.action(ids.ACTION_MEETING_AGENDA)(open_agenda)
    app.action(ids.ACTION_MEETING_CASE)(open_case_from_agenda)
    app.action(ids.ACTION_MEETING_MINUTES)(open_minutes)
    app.action(ids.ACTION_MEETING_RESCHEDULE)(open_reschedule)
    app.view(ids.VIEW_MEETING_RESCHEDULE)(submit_reschedule)
    app.action(ids.ACTION_MEETING_ATTENDEES)(open_attendees)
    app.view(ids.VIEW_MEETING_ATTENDEES)(submit_attendees)
    app.action(ids.ACTION_MEETING_CANCEL)(open_cancel)
    app.view(ids.VIEW_MEETING_CANCEL)(submit_cancel)
    app.action(ids.ACTION_MEETING_RECORD)(open_linknet_record)
    app.view(ids.VIEW_LINKNET_MINUTES)(submit_linknet_record)
    app.action(ids.ACTION_MEETING_SHARE)(share_minutes)
    commands.add_slow(app, ("meeting", "meetings", "会議"), meeting_command, placeholder=False)


# --- small pieces --------------------------------------------------------------------------------


def pair(value: object) -> tuple[int | None, int | None]:
    """ "12:34" -> (12, 34): the meeting and case of a button."""
    first, _, second = str(value or "").partition(":")
    return int_or_none(first), int_or_none(second)


def schedule_view(session: Session, kind: str, *, organiser: str, now: datetime):
    agencies = list(session.exec(select(Agency).where(Agency.active).order_by(Agency.position)))
    return views.schedule_modal(
        kind,
        agencies=agencies,
        organiser=organiser,
        first_day=views.first_free_day(calendar_for(session), now),
    )


# --- /tsunagi meeting and 会議を登録する (Home) ------------------------------------------


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
                view = _meeting_view(session, user=user, meeting_id=int(word), now=now)
            except (Refused, DomainError) as exc:
                text = exc.text if isinstance(exc, Refused) else message_for(exc)
        elif manage:
            kind = KIND_WORDS.get(unicodedata.normalize("NFKC", word).lower(), MeetingKind.saponet)
            view = schedule_view(session, kind, organiser=user, now=now)
        else:
            rows = [
                (m, len(domain.agenda_cases(session, m.id)))
                for m in domain.meetings_of(session, member, since=now)
            ]
            text, blocks = views.meetings_list(rows)
    if view is None:
        return Reply(text, blocks or None)
    show(client, body, view)
    return None


def new_from_home(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()

    def build(session, user, now):
        require(session, at=now, user=user, action=Action.manage_meeting)
        kind = (button_value(body) or "").strip() or MeetingKind.saponet
        if kind not in MeetingKind.__members__:
            kind = MeetingKind.saponet
        return schedule_view(session, kind, organiser=user, now=now)

    open_modal(client, context, body, build)


def switch_kind(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """The kind chosen in the form: the form is redrawn with that kind's fields."""
    ack()
    chosen = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
    if chosen not in MeetingKind.__members__:
        return

    def build(session, user, now):
        require(session, at=now, user=user, action=Action.manage_meeting)
        return schedule_view(session, chosen, organiser=user, now=now)

    redraw(client, context, body, build)


def _normalised_query(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().upper().replace("ー", "-")


def case_options(ack: Ack, body: dict, context: dict) -> None:
    """The cases select: open cases by receipt number (typed part), newest first, at most 100;
    for a たつのまるごと会議 each says whether consent is recorded.

    The options are the acknowledgement itself, so the work before it is kept to three reads
    (the member, at most 100 cases, their consent in one query) in a read-only transaction."""
    svc = services(context)
    user = body["user"]["id"]
    kind = forms.read_metadata((body.get("view") or {}).get("private_metadata")).get("kind")
    query = _normalised_query(body.get("value", ""))
    with transaction(svc.engine, write=False) as session:
        member = member_by_slack_id(session, user)
        if not decide(session, member, Action.manage_meeting):
            ack(options=[])
            return
        rows = select(Case).where(Case.state.not_in([*NOT_YET_FOR_MEETINGS, CaseState.closed]))
        if query:
            digits = query.lstrip("R").split("-")[-1]
            typed = Case.number.contains(query, autoescape=True)
            rows = rows.where(
                or_(typed, Case.number.contains(digits, autoescape=True)) if digits else typed
            )
        cases = list(session.exec(rows.order_by(Case.id.desc()).limit(CASE_OPTIONS)))
        marugoto = kind == MeetingKind.marugoto
        consented = with_consent(session, [c.id for c in cases]) if marugoto else set()
        options = []
        for case in cases:
            text = views.case_option_text(case)
            if marugoto:
                text += t("meeting.consent_yes" if case.id in consented else "meeting.consent_no")
            options.append(
                {"text": {"type": "plain_text", "text": text[:75]}, "value": str(case.id)}
            )
    ack(options=options)


def _field(view: dict, name: str) -> str:
    """The block a refusal is shown on; one the form lacks falls back to the kind (the
    attendees form has no kind: its names field)."""
    present = {b.get("block_id") for b in view.get("blocks", [])}
    if name in present:
        return name
    return "kind" if "kind" in present else "members"


def _schedule_errors(view: dict, exc: DomainError, chosen_ids: set[int]) -> dict[str, str]:
    text = message_for(exc)
    if exc.code in ATTENDEE_REFUSALS:
        unbound = set(exc.params.get("member_ids") or [])
        fields = set()
        if unbound & chosen_ids:
            fields.add(_field(view, "members"))
        if unbound - chosen_ids:
            fields.add(_field(view, "agencies"))
        return dict.fromkeys(fields or {"members"}, text)
    field = exc.params.get("field") or SCHEDULE_FIELD.get(exc.code, "kind")
    return {_field(view, field): text}


def submit_schedule(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    kind = forms.read_metadata(view.get("private_metadata")).get("kind")
    if kind not in MeetingKind.__members__:
        kind = MeetingKind.saponet
    day, at_time = forms.date_value(view, "date"), forms.time_value(view, "time")
    errors = {}
    if day is None:
        errors["date"] = t("meeting.error.date_required")
    if at_time is None:
        errors["time"] = t("meeting.error.time_required")
    if errors:
        ack(response_action="errors", errors=errors)
        return
    starts_at = datetime.combine(day, at_time, tzinfo=TOKYO)
    slack_ids = forms.value(view, "members") or []
    remind = forms.int_value(view, "remind")
    length = forms.int_value(view, "length") or 60
    repeat = forms.value(view, "repeat") or "none"
    topics = (forms.value(view, "topics") or "").splitlines()
    member_ids: set[int] = set()  # for where a refusal naming members is shown

    def work(session, user, now):
        member = require(session, at=now, user=user, action=Action.manage_meeting)
        chosen = [member_by_slack_id(session, s) for s in slack_ids]
        strangers = [s for s, m in zip(slack_ids, chosen, strict=True) if m is None]
        if strangers:
            raise DomainError("meeting.error.unregistered", n=len(strangers))
        member_ids.update(m.id for m in chosen)
        meeting = domain.schedule(
            session,
            kind=MeetingKind(kind),
            starts_at=starts_at,
            place=forms.value(view, "place"),
            member_ids=sorted(member_ids),
            agency_ids=forms.int_values(view, "agencies"),
            case_ids=forms.int_values(view, "cases"),
            created_by=member,
            at=now,
            has_consent=has_consent,
            minutes_long=length if length in LENGTH_CHOICES else 60,
            topics=topics,
            remind_before=60 if remind is None else remind,
        )
        if kind == MeetingKind.linknet and repeat in ("same_week", "last_week"):
            start_series(
                session,
                first=meeting,
                on=day,
                last_weekday=repeat == "last_week",
                member_ids=sorted(member_ids),
                agency_ids=forms.int_values(view, "agencies"),
            )
        meeting_reminders.after_scheduled(session, meeting, at=now)
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_meeting,
            detail=f"meeting:{meeting.id}:scheduled",
        )
        done = t(
            "meeting.done.scheduled",
            kind=views.kind_name(kind),
            when=when_text(meeting.starts_at, meeting.minutes_long),
            n=len(attendees(session, meeting.id)),
        )
        if meeting.series_id:
            done += "\n" + t("meeting.done.series")
        return notice_modal(t("meeting.title.done"), done)

    submit(
        ack,
        client,
        context,
        body,
        work,
        title=t("meeting.title.schedule"),
        field=lambda exc: _schedule_errors(view, exc, member_ids),
    )


# --- the meeting, its agenda, minutes and cases --------------------------------------------------


def _meeting_view(session: Session, *, user: str, meeting_id: int | None, now):
    meeting = domain.meeting_by_id(session, meeting_id)
    member = require(session, at=now, user=user, action=Action.view_meeting, meeting=meeting)
    manage = bool(decide(session, member, Action.manage_meeting))
    return views.meeting_modal(views.meeting_info(session, meeting, now=now), manage=manage)


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
        meeting = domain.meeting_by_id(session, meeting_id)
        member = require(session, at=now, user=user, action=Action.view_meeting, meeting=meeting)
        info = views.meeting_info(session, meeting, now=now)
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
        return views.agenda_modal(
            info, agenda_text(session, meeting), detail_for=entitled, note=note
        )

    open_modal(client, context, body, build)


def open_case_from_agenda(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """A case's details from the agenda: entitled attendees only; every view is audited."""
    ack()
    meeting_id, case_id = pair(button_value(body))

    def build(session, user, now):
        meeting = domain.meeting_by_id(session, meeting_id)
        case = case_by_id(session, case_id) if case_id else None
        if case is None:
            raise DomainError("case.not_found")
        member = require(
            session,
            at=now,
            user=user,
            action=Action.view_meeting_case,
            case=case,
            meeting=meeting,
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


def open_minutes(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """議事録: attendees and the coordinator; a case meeting's minutes are audited when read."""
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        meeting = domain.meeting_by_id(session, meeting_id)
        member = require(session, at=now, user=user, action=Action.view_meeting, meeting=meeting)
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
        return views.minutes_modal(meeting.id, minutes_now(session, meeting, minutes))

    open_modal(client, context, body, build)


# --- move, cancel --------------------------------------------------------------------------------


def _managed(session, *, at, user: str, meeting_id: int | None) -> tuple:
    meeting = domain.meeting_by_id(session, meeting_id)
    member = require(session, at=at, user=user, action=Action.manage_meeting, meeting=meeting)
    return member, meeting


def open_reschedule(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, meeting = _managed(session, at=now, user=user, meeting_id=meeting_id)
        if meeting.state != MeetingState.scheduled:
            raise DomainError("meeting.not_scheduled")
        return views.reschedule_modal(meeting)

    open_modal(client, context, body, build)


def _stale(meeting: Meeting, view: dict) -> bool:
    return forms.read_metadata(view.get("private_metadata")).get("version") != meeting.version


def _date_or_place(exc: DomainError) -> dict[str, str]:
    field = "place" if exc.code == "meeting.place_too_long" else "date"
    return {field: message_for(exc)}


def submit_reschedule(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    meeting_id = forms.read_metadata(view.get("private_metadata")).get("meeting_id")
    day, at_time = forms.date_value(view, "date"), forms.time_value(view, "time")
    if day is None or at_time is None:
        ack(response_action="errors", errors={"date": t("meeting.error.date_required")})
        return

    def work(session, user, now):
        member, meeting = _managed(session, at=now, user=user, meeting_id=meeting_id)
        if _stale(meeting, view):
            raise DomainError("meeting.changed_meanwhile")
        domain.reschedule(
            session,
            meeting,
            starts_at=datetime.combine(day, at_time, tzinfo=TOKYO),
            place=forms.value(view, "place"),
            keep_place=False,
            at=now,
        )
        meeting_reminders.after_rescheduled(session, meeting, at=now)
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_meeting,
            detail=f"meeting:{meeting.id}:moved:v{meeting.version}",
        )
        done = t(
            "meeting.done.rescheduled",
            kind=views.kind_name(meeting.kind),
            when=when_text(meeting.starts_at, meeting.minutes_long),
        )
        return notice_modal(t("meeting.title.done"), done)

    submit(
        ack, client, context, body, work, title=t("meeting.title.reschedule"), field=_date_or_place
    )


def open_attendees(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """出席者を変える: the coordinator, before the meeting begins."""
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, meeting = _managed(session, at=now, user=user, meeting_id=meeting_id)
        if meeting.state != MeetingState.scheduled:
            raise DomainError("meeting.not_scheduled")
        if meeting.starts_at <= now:
            raise DomainError("meeting.already_started")
        agencies = list(session.exec(select(Agency).where(Agency.active).order_by(Agency.position)))
        current = [m.slack_id for m in attendees(session, meeting.id) if m.active]
        return views.attendees_modal(meeting, current=current, agencies=agencies)

    open_modal(client, context, body, build)


def submit_attendees(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    """The new attendee list, under the meeting's legal rules: those added are invited and
    reminded, those taken off are told and get no more reminders."""
    meeting_id = forms.read_metadata(view.get("private_metadata")).get("meeting_id")
    slack_ids = forms.value(view, "members") or []
    agency_ids = forms.int_values(view, "agencies")
    member_ids: set[int] = set()

    def work(session, user, now):
        member, meeting = _managed(session, at=now, user=user, meeting_id=meeting_id)
        if _stale(meeting, view):
            raise DomainError("meeting.changed_meanwhile")
        chosen = [member_by_slack_id(session, s) for s in slack_ids]
        strangers = [s for s, m in zip(slack_ids, chosen, strict=True) if m is None]
        if strangers:
            raise DomainError("meeting.error.unregistered", n=len(strangers))
        member_ids.update(m.id for m in chosen)
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
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_meeting,
            detail=f"meeting:{meeting.id}:attendees:+{len(added)}-{len(removed)}",
        )
        done = t(
            "meeting.done.attendees",
            kind=views.kind_name(meeting.kind),
            when=when_text(meeting.starts_at, meeting.minutes_long),
            added=len(added),
            removed=len(removed),
        )
        return notice_modal(t("meeting.title.done"), done)

    submit(
        ack,
        client,
        context,
        body,
        work,
        title=t("meeting.title.attendees"),
        field=lambda exc: _schedule_errors(view, exc, member_ids),
    )


def open_cancel(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    meeting_id = int_or_none(button_value(body))

    def build(session, user, now):
        _, meeting = _managed(session, at=now, user=user, meeting_id=meeting_id)
        if meeting.state != MeetingState.scheduled:
            raise DomainError("meeting.not_scheduled")
        series = session.get(MeetingSeries, meeting.series_id) if meeting.series_id else None
        return views.cancel_modal(meeting, series_active=bool(series and series.active))

    open_modal(client, context, body, build)


def submit_cancel(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    meeting_id = forms.read_metadata(view.get("private_metadata")).get("meeting_id")
    stop = "stop" in (forms.value(view, "series") or [])

    def work(session, user, now):
        member, meeting = _managed(session, at=now, user=user, meeting_id=meeting_id)
        domain.cancel(session, meeting)
        meeting_reminders.after_cancelled(session, meeting, at=now)
        later = 0
        if stop and meeting.series_id:
            series = session.get(MeetingSeries, meeting.series_id)
            stop_series(session, series)
            for other in future_occurrences(session, series.id, now=now):
                domain.cancel(session, other)
                meeting_reminders.after_cancelled(session, other, at=now)
                later += 1
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_meeting,
            detail=f"meeting:{meeting.id}:cancelled",
        )
        done = t(
            "meeting.done.cancelled",
            kind=views.kind_name(meeting.kind),
            when=when_text(meeting.starts_at, meeting.minutes_long),
        )
        if stop:
            done += "\n" + t("meeting.done.series_stopped", n=later)
        return notice_modal(t("meeting.title.done"), done)

    submit(ack, client, context, body, work, title=t("meeting.title.cancel"))


# --- a Link-net meeting's minutes; sharing minutes -----------------------------------------------


def _linknet_held(session, *, at, user: str, meeting_id: int | None) -> tuple:
    """The coordinator and a Link-net meeting that has begun (its minutes can be recorded)."""
    member, meeting = _managed(session, at=at, user=user, meeting_id=meeting_id)
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
        return views.linknet_record_modal(
            meeting,
            topics=domain.topics_of(session, meeting.id),
            notes=list(minutes.notes) if minutes else [],
        )

    open_modal(client, context, body, build)


def submit_linknet_record(
    ack: Ack, body: dict, client: WebClient, view: dict, context: dict
) -> None:
    meeting_id = forms.read_metadata(view.get("private_metadata")).get("meeting_id")
    errors = {}
    try:
        topics = clean_lines((forms.value(view, "topics") or "").splitlines())
    except DomainError as exc:
        errors["topics"] = message_for(exc)
    try:
        notes = clean_lines((forms.value(view, "notes") or "").splitlines(), field="notes")
    except DomainError as exc:
        errors["notes"] = message_for(exc)
    if errors:
        ack(response_action="errors", errors=errors)
        return

    def work(session, user, now):
        member, meeting = _linknet_held(session, at=now, user=user, meeting_id=meeting_id)
        domain.replace_topics(session, meeting, topics)
        text = minutes_text(session, meeting, by=member, notes=notes)
        store_minutes(session, meeting, text=text, by=member, at=now, notes=notes)
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_meeting,
            detail=f"meeting:{meeting.id}:minutes",
        )
        return notice_modal(t("meeting.title.done"), t("meeting.done.minutes"))

    submit(ack, client, context, body, work, title=t("meeting.title.record"))


def share_minutes(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """議事録を出席者に送る: each attendee gets a message with 議事録を見る (once per version)."""
    ack()
    meeting_id = int_or_none(button_value(body))

    def work(session, user, now):
        member, meeting = _managed(session, at=now, user=user, meeting_id=meeting_id)
        text = t("meeting.done.shared", n=share(session, meeting, at=now))
        allowed(
            session,
            at=now,
            member=member,
            action=Action.manage_meeting,
            detail=f"meeting:{meeting.id}:shared",
        )
        return text

    text = attempt(client, context, body, work)
    if text is not None:
        services(context).kick_delivery()
        answer(client, body, text)


def share(session: Session, meeting: Meeting, *, at) -> int:
    from models.queues import outbox

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
