"""Logging a contact in a few taps (接触を記録する: the target's modal, the Home tab's menu, every
outreach reminder), and — when a contact brings consent — the offer to put the case on the next
たつのまるごと会議's agenda."""

from __future__ import annotations

from datetime import datetime

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.models.blocks import ButtonElement
from slack_sdk.models.views import View
from sqlmodel import Session

from handlers.common import forms
from handlers.common.replies import answer, attempt, int_or_none, open_modal, redraw
from handlers.common.services import services
from handlers.common.texts import label, t
from handlers.desk.case_views import when
from handlers.outreach import views
from handlers.outreach.checks import audit_allowed, checked, proposed, submit_form
from handlers.outreach.contact_views import contact_modal, read_contact
from models.base.errors import DomainError
from models.cases.access import OutreachAction, decide_outreach
from models.cases.tables import Case, has_consent
from models.meetings.schedule import add_case_to_agenda, meeting_by_id
from models.meetings.series import next_meeting_of
from models.meetings.tables import MeetingKind
from models.org.tables import Member
from models.outreach import targets as domain
from models.outreach.contacts import log_contact
from models.outreach.dates import today
from models.outreach.listing import lines
from models.outreach.tables import OPEN_TARGET_STATES, ContactOutcome, OutreachTarget
from reminders.outreach import schedule_for


def open_contact(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    show_contact_form(client, context, body, int_or_none(body["actions"][0].get("value")))


def _contact_view(
    session: Session, target: OutreachTarget, now: datetime, *, consented: bool
) -> View:
    line = lines(session, [target], day=today(now))[0]
    return contact_modal(
        line,
        proposed=proposed(session, target, now),
        consented=consented,
        agencies=domain.assignable_agencies(session),
        assigned=sorted(domain.worker_agencies(session, target.id)),
    )


def show_contact_form(client: WebClient, context: dict, body: dict, target_id: int | None) -> None:
    def build(session, user, now):
        _, target = checked(
            session, at=now, user=user, action=OutreachAction.log_contact, target_id=target_id
        )
        if target.state not in OPEN_TARGET_STATES:
            raise DomainError(
                "outreach.not_open",
                label=target.label,
                state=label("outreach_state", target.state),
            )
        return _contact_view(session, target, now, consented=False)

    open_modal(client, context, body, build)


def change_outcome(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """同意が得られた chosen (or unchosen): the form shows the consent questions (or the date)."""
    ack()
    current = body.get("view") or {}
    target_id = int_or_none(forms.read_metadata(current.get("private_metadata")).get("target_id"))
    outcome = (body["actions"][0].get("selected_option") or {}).get("value")
    consented = outcome == ContactOutcome.consented
    shown = any(b.get("block_id") == "consent_method" for b in current.get("blocks", []))

    def build(session, user, now):
        _, target = checked(
            session, at=now, user=user, action=OutreachAction.log_contact, target_id=target_id
        )
        if target.state not in OPEN_TARGET_STATES or consented == shown:
            return None
        return _contact_view(session, target, now, consented=consented)

    redraw(client, context, body, build)


def submit_contact(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    target_id = int_or_none(forms.read_metadata(view.get("private_metadata")).get("target_id"))
    data = read_contact(view)

    def work(session, user, now):
        member, target = checked(
            session, at=now, user=user, action=OutreachAction.log_contact, target_id=target_id
        )
        logged = log_contact(
            session,
            target=target,
            data=data,
            by=member,
            at=now,
            intake_narrative=t("outreach.intake_narrative", label=target.label),
        )
        schedule_for(session, target, at=now, by_member_id=member.id)
        audit_allowed(
            session, at=now, member=member, action=OutreachAction.log_contact, target=target
        )
        done, agenda = _contact_answer(session, member, target, logged, now)
        return views.done_modal(done, agenda=agenda)

    submit_form(ack, client, context, body, view, work)


def _contact_answer(
    session: Session, member: Member, target: OutreachTarget, logged, now: datetime
) -> tuple[str, ButtonElement | None]:
    if logged.consent is None:
        return (
            t("outreach.done.logged", label=target.label, day=views.day(target.next_contact_on)),
            None,
        )
    move = logged.consent
    parts = [t("outreach.done.consent", label=target.label, number=move.number)]
    if move.created:
        parts.append(t("outreach.done.case_created", number=move.number))
    parts.append(
        t("outreach.done.case_state", number=move.number, state=label("state", move.state))
    )
    agenda = None
    meeting = next_meeting_of(session, MeetingKind.marugoto, now=now)
    if decide_outreach(session, member, OutreachAction.agenda, target=target) and meeting:
        agenda = views.agenda_button(target.id, meeting)
        parts.append(t("outreach.done.agenda_offer"))
    else:
        parts.append(t("outreach.done.coordinator_told"))
    return "\n".join(parts), agenda


# --- the agenda offer ----------------------------------------------------------------------------


def add_to_agenda(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """次のたつのまるごと会議の議題に入れる: the coordinator; the meeting's legal rules apply."""
    ack()
    target_id, _, meeting_id = (body["actions"][0].get("value") or "").partition(":")

    def work(session, user, now):
        member, target = checked(
            session,
            at=now,
            user=user,
            action=OutreachAction.agenda,
            target_id=int_or_none(target_id),
        )
        case = session.get(Case, target.case_id) if target.case_id else None
        if case is None:
            raise DomainError("outreach.agenda.no_case", label=target.label)
        try:
            meeting = meeting_by_id(session, int_or_none(meeting_id))
        except DomainError:
            raise DomainError("outreach.agenda.meeting_gone") from None
        try:
            added = add_case_to_agenda(
                session, meeting=meeting, case=case, has_consent=has_consent, at=now
            )
        except DomainError as exc:
            raise _agenda_refusal(exc, case) from None
        audit_allowed(session, at=now, member=member, action=OutreachAction.agenda, target=target)
        key = "outreach.agenda.added" if added else "outreach.agenda.already"
        return t(key, number=case.number, when=when(meeting.starts_at))

    text = attempt(client, context, body, work)
    if text is not None:
        answer(client, body, text, title=t("outreach.done_title"))
        services(context).kick_delivery()


def _agenda_refusal(exc: DomainError, case: Case) -> DomainError:
    """The meetings domain's refusal, said in this feature's words."""
    if exc.code == "meeting.marugoto_needs_consent":
        return DomainError("outreach.agenda.needs_consent", number=case.number)
    if exc.code == "meeting.case_closed":
        return DomainError("outreach.agenda.case_closed", number=case.number)
    if exc.code == "meeting.marugoto_not_covered":  # names the agencies and the receipt number
        return exc
    return DomainError("outreach.agenda.meeting_gone")
