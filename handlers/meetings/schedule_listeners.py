"""Scheduling a meeting: 会議を登録する (Home) and `/tsunagi meeting` open the form, the kind
chosen redraws it, the cases select asks for its options, and the submission schedules.

The legal rules are the domain's (models/meetings/): a refusal is shown on the form's field
(`errors`) with the reason — the members without a 守秘義務 acknowledgement, the cases without
consent, the agencies a case's consent does not cover (by agency and receipt number, never the
person)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlalchemy import or_
from sqlmodel import Session, select

from handlers.common import forms
from handlers.common.blocks import notice_modal
from handlers.common.replies import (
    allowed,
    button_value,
    message_for,
    open_modal,
    redraw,
    require,
    submit,
)
from handlers.common.services import services
from handlers.common.texts import t
from handlers.meetings.documents import meeting_when
from handlers.meetings.lookup import active_agencies, registered
from handlers.meetings.schedule_views import first_free_day, schedule_modal
from handlers.meetings.views import case_option_text, kind_name
from models.base.clock import TOKYO
from models.base.db import transaction
from models.base.errors import DomainError
from models.cases.access import Action, decide
from models.cases.lifecycle import CaseState
from models.cases.tables import Case, has_consent, with_consent
from models.meetings import schedule as domain
from models.meetings.rules import attendees
from models.meetings.series import start_series
from models.meetings.tables import LENGTH_CHOICES, NOT_YET_FOR_MEETINGS, MeetingKind
from models.org.roster import member_by_slack_id
from reminders import meetings as meeting_reminders
from reminders.deadlines import calendar_for

CASE_OPTIONS = 100  # Slack shows at most 100 options
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


def schedule_view(session: Session, kind: str, *, organiser: str, now: datetime):
    return schedule_modal(
        kind,
        agencies=active_agencies(session),
        organiser=organiser,
        first_day=first_free_day(calendar_for(session), now),
    )


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


# --- the cases select ----------------------------------------------------------------------------


def _normalised_query(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().upper().replace("ー", "-")


def _open_cases(session: Session, query: str) -> list[Case]:
    """Open cases by receipt number (the part typed), newest first, at most 100."""
    rows = select(Case).where(Case.state.not_in([*NOT_YET_FOR_MEETINGS, CaseState.closed]))
    if query:
        digits = query.lstrip("R").split("-")[-1]
        typed = Case.number.contains(query, autoescape=True)
        rows = rows.where(
            or_(typed, Case.number.contains(digits, autoescape=True)) if digits else typed
        )
    return list(session.exec(rows.order_by(Case.id.desc()).limit(CASE_OPTIONS)))


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
        cases = _open_cases(session, query)
        marugoto = kind == MeetingKind.marugoto
        consented = with_consent(session, [c.id for c in cases]) if marugoto else set()
        options = []
        for case in cases:
            text = case_option_text(case)
            if marugoto:
                text += t("meeting.consent_yes" if case.id in consented else "meeting.consent_no")
            options.append(
                {"text": {"type": "plain_text", "text": text[:75]}, "value": str(case.id)}
            )
    ack(options=options)


# --- the submission ------------------------------------------------------------------------------


def _field(view: dict, name: str) -> str:
    """The block a refusal is shown on; one the form lacks falls back to the kind (the
    attendees form has no kind: its names field)."""
    present = {b.get("block_id") for b in view.get("blocks", [])}
    if name in present:
        return name
    return "kind" if "kind" in present else "members"


def schedule_errors(view: dict, exc: DomainError, chosen_ids: set[int]) -> dict[str, str]:
    """A refusal of the scheduling or the attendees form, on the field it is about."""
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


def errors_on(view: dict, chosen_ids: set[int]):
    """Where the form shows a domain refusal (`submit`'s field): see schedule_errors."""
    return lambda exc: schedule_errors(view, exc, chosen_ids)


def _time_errors(day, at_time) -> dict[str, str]:
    errors = {}
    if day is None:
        errors["date"] = t("meeting.error.date_required")
    if at_time is None:
        errors["time"] = t("meeting.error.time_required")
    return errors


def _repeat(session: Session, meeting, view: dict, *, on, member_ids: list[int]) -> None:
    """A Link-net meeting repeated every month (the same week, or the last one): its series."""
    repeat = forms.value(view, "repeat") or "none"
    if repeat in ("same_week", "last_week"):
        start_series(
            session,
            first=meeting,
            on=on,
            last_weekday=repeat == "last_week",
            member_ids=member_ids,
            agency_ids=forms.int_values(view, "agencies"),
        )


def submit_schedule(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    kind = forms.read_metadata(view.get("private_metadata")).get("kind")
    if kind not in MeetingKind.__members__:
        kind = MeetingKind.saponet
    day, at_time = forms.date_value(view, "date"), forms.time_value(view, "time")
    errors = _time_errors(day, at_time)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    slack_ids = forms.value(view, "members") or []
    remind = forms.int_value(view, "remind")
    length = forms.int_value(view, "length") or 60
    member_ids: set[int] = set()  # for where a refusal naming members is shown

    def work(session, user, now):
        member = require(session, at=now, user=user, action=Action.manage_meeting)
        member_ids.update(m.id for m in registered(session, slack_ids))
        meeting = domain.schedule(
            session,
            kind=MeetingKind(kind),
            starts_at=datetime.combine(day, at_time, tzinfo=TOKYO),
            place=forms.value(view, "place"),
            member_ids=sorted(member_ids),
            agency_ids=forms.int_values(view, "agencies"),
            case_ids=forms.int_values(view, "cases"),
            created_by=member,
            at=now,
            has_consent=has_consent,
            minutes_long=length if length in LENGTH_CHOICES else 60,
            topics=(forms.value(view, "topics") or "").splitlines(),
            remind_before=60 if remind is None else remind,
        )
        if kind == MeetingKind.linknet:
            _repeat(session, meeting, view, on=day, member_ids=sorted(member_ids))
        meeting_reminders.after_scheduled(session, meeting, at=now)
        detail = f"meeting:{meeting.id}:scheduled"
        allowed(session, at=now, member=member, action=Action.manage_meeting, detail=detail)
        done = t(
            "meeting.done.scheduled",
            kind=kind_name(kind),
            when=meeting_when(meeting),
            n=len(attendees(session, meeting.id)),
        )
        if meeting.series_id:
            done += "\n" + t("meeting.done.series")
        return notice_modal(t("meeting.title.done"), done)

    title = t("meeting.title.schedule")
    submit(ack, client, context, body, work, title=title, field=errors_on(view, member_ids))
