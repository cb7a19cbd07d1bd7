"""Registering an outreach target: from the App Home (登録する), `/tsunagi outreach`, or a case's
detail modal (アウトリーチの対象にする — the button the case desk shows: `case_blocks`)."""

from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlmodel import Session

from handlers.common import forms
from handlers.common.replies import answer, int_or_none, open_modal
from handlers.common.texts import t
from handlers.outreach import views
from handlers.outreach.checks import audit_allowed, case_of, checked, submit_form
from handlers.outreach.create_views import create_modal, read_target
from models.base.errors import DomainError
from models.cases.access import OutreachAction, decide_outreach
from models.cases.tables import Case
from models.org.roster import districts
from models.org.tables import Agency, Member, Role
from models.outreach import targets as domain
from models.outreach.dates import today
from models.outreach.tables import ASSIGNABLE_KINDS
from reminders.deadlines import calendar_for
from reminders.outreach import schedule_for, tell_assigned


def _initial_agencies(session: Session, member: Member, case: Case | None) -> list[int]:
    """Who visits, by default: the case's windows, else the member's own agency."""
    if case is not None:
        found = [case.lead_agency_id, case.routed_agency_id]
        return [a for a in dict.fromkeys(found) if a is not None and _assignable(session, a)]
    if member.has(Role.coordinator):
        return []
    return [member.agency_id] if _assignable(session, member.agency_id) else []


def _assignable(session: Session, agency_id: int) -> bool:
    agency = session.get(Agency, agency_id)
    return agency is not None and agency.active and agency.kind in ASSIGNABLE_KINDS


def create_form(client: WebClient, context: dict, body: dict, *, case_id: int | None) -> None:
    def build(session, user, now):
        case = case_of(session, case_id)
        action = OutreachAction.from_case if case_id else OutreachAction.create
        member, _ = checked(session, at=now, user=user, action=action, case=case)
        if case is not None and (listed := domain.open_target_of_case(session, case.id)):
            raise DomainError("outreach.error.case_already_listed_as", label=listed.label)
        if case is not None and case.state in ("received", "closed"):
            raise DomainError("outreach.error.case_not_now", number=case.number)
        return create_modal(
            agencies=domain.assignable_agencies(session),
            districts=districts(session),
            first_day=calendar_for(session).next_business_day(today(now)),
            initial_agencies=_initial_agencies(session, member, case),
            case_id=case.id if case else None,
            case_number=case.number if case else None,
        )

    open_modal(client, context, body, build)


def open_new(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    create_form(client, context, body, case_id=None)


def open_from_case(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    case_id = int_or_none(body["actions"][0].get("value"))
    if case_id is None:
        answer(client, body, t("case.not_found"))
        return
    create_form(client, context, body, case_id=case_id)


def submit_create(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    case_id = int_or_none(forms.read_metadata(view.get("private_metadata")).get("case_id"))
    data = read_target(view)

    def work(session, user, now):
        case = case_of(session, case_id)
        action = OutreachAction.from_case if case_id else OutreachAction.create
        member, _ = checked(session, at=now, user=user, action=action, case=case)
        registered_from = case.id if case is not None else None
        target = domain.create(
            session, data=data, created_by=member, at=now, case_id=registered_from
        )
        schedule_for(session, target, at=now)
        tell_assigned(session, target, at=now)  # the agencies hear of it now, not on the day
        audit_allowed(session, at=now, member=member, action=action, target=target)
        day = views.day(target.next_contact_on)
        return views.done_modal(t("outreach.done.created", label=target.label, day=day))

    submit_form(ack, client, context, body, view, work)


def case_blocks(session: Session, member: Member | None, case: Case) -> list:
    """For the case desk: register the case's person for outreach, or open its target."""
    listed = domain.open_target_of_case(session, case.id)
    if listed is not None:
        if not decide_outreach(session, member, OutreachAction.view, target=listed):
            return []
    elif case.state in ("received", "closed") or not decide_outreach(
        session, member, OutreachAction.from_case, case=case
    ):
        return []
    return views.case_blocks(case.id, listed=listed)
