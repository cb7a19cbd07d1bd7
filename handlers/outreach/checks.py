"""What every outreach listener does: look the clicking user and the target up in the database,
ask `models.cases.access.decide_outreach`, audit what was allowed, and answer a form's errors.

A refusal changes nothing, is answered only to the user and audited (handlers.common.replies).
"""

from __future__ import annotations

from datetime import date, datetime

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlmodel import Session

from handlers.common.replies import allowed, check, submit
from handlers.common.texts import t
from models.cases.access import OutreachAction, decide_outreach
from models.cases.records import case_or_none
from models.cases.tables import Case
from models.org.roster import member_by_slack_id
from models.org.tables import Member
from models.outreach.dates import propose_next, today
from models.outreach.tables import OutreachTarget
from reminders.deadlines import calendar_for


def _ref(target: OutreachTarget) -> str:
    return f"outreach:{target.id}"  # ids only, for the audit log


def audit_allowed(
    session: Session,
    *,
    at: datetime,
    member: Member,
    action: OutreachAction,
    target: OutreachTarget | None = None,
    case_id: int | None = None,
) -> None:
    allowed(
        session,
        at=at,
        member=member,
        action=action,
        case_id=case_id if case_id is not None else (target.case_id if target else None),
        detail=_ref(target) if target is not None else None,
    )


def checked(
    session: Session,
    *,
    at: datetime,
    user: str,
    action: OutreachAction,
    target_id: int | None = None,
    case: Case | None = None,
) -> tuple[Member, OutreachTarget | None]:
    """(member, target): the target and the right, looked up in the database; else Refused."""
    member = member_by_slack_id(session, user)
    # A target that does not exist is refused (audited) like one the member may not see.
    target = session.get(OutreachTarget, target_id) if target_id else None
    check(
        session,
        decide_outreach(session, member, action, target=target, case=case),
        at=at,
        user=user,
        member=member,
        action=action,
        case_id=case.id if case is not None else (target.case_id if target else None),
    )
    return member, target


def case_of(session: Session, case_id: int | None) -> Case | None:
    """The case a target is registered from; None for no case, or for one that does not exist
    (`checked` then refuses `from_case` like a case the member may not see)."""
    return case_or_none(session, case_id) if case_id else None


def proposed(session: Session, target: OutreachTarget, now: datetime) -> date:
    """The next contact's date as the form proposes it: the cadence, on a business day."""
    cal = calendar_for(session)
    return propose_next(today(now), target.cadence_days, cal.is_business_day)


def _field_errors(view: dict, errors: dict[str, str]) -> dict[str, str]:
    """Errors for the blocks the form has; one it lacks is shown on the outcome / first field."""
    blocks = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    out: dict[str, str] = {}
    for field, code in errors.items():
        if field in blocks:
            out.setdefault(field, t(code))
        elif blocks:
            fallback = "outcome" if "outcome" in blocks else blocks[0]
            out.setdefault(fallback, t("outreach.error.form_changed"))
    return out


def submit_form(ack: Ack, client: WebClient, context: dict, body: dict, view: dict, work) -> None:
    """This feature's forms: a form error the form has no field for is shown on another."""
    submit(
        ack,
        client,
        context,
        body,
        work,
        title=t("desk.notice_title"),
        fields=lambda errors: _field_errors(view, errors),
    )
