"""本人同意 and 世帯全体のアセスメント: open, read, record. Every opening that shows personal
information is audited; every refusal is audited and answered only to the clicker."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.common import forms, ids
from handlers.common.blocks import notice_modal
from handlers.common.replies import (
    allowed,
    attempt,
    check,
    int_or_none,
    log,
    open_modal,
    require,
    submit,
)
from handlers.common.texts import label, t
from handlers.desk.records_views import (
    assessment_form,
    assessment_view,
    consent_modal,
    read_assessment,
    read_consent,
)
from models.base.clock import TOKYO
from models.base.errors import DomainError
from models.cases import assessment as assessments
from models.cases import consent as consents
from models.cases.access import Action, decide
from models.cases.casework import consent_lines
from models.cases.lifecycle import CaseState
from models.cases.records import case_or_none, summary
from models.cases.tables import Case
from models.org.roster import member_by_slack_id
from models.org.tables import Member


def register(app: App) -> None:
    app.view(ids.VIEW_CONSENT)(submit_consent)
    app.action(ids.ACTION_ASSESSMENT_EDIT)(edit_assessment)
    app.action(ids.ACTION_ASSESSMENT_VERSION)(choose_version)
    app.view(ids.VIEW_ASSESSMENT)(submit_assessment)


def _number(value: object) -> int:
    """A number from a button or the form's metadata; anything else: no such case."""
    number = int_or_none(value)
    if number is None:
        raise DomainError("case.not_found")
    return number


def _case(session, value: object) -> Case | None:
    """None (refused by the rights check like a case not theirs) where no such case exists."""
    return case_or_none(session, value)


# --- 本人同意 ------------------------------------------------------------------------------------


def open_consent(client: WebClient, context: dict, body: dict, case_id: int) -> None:
    """The consent form, with the current consent and its history (audited as a view)."""

    def build(session, user, now):
        case = _case(session, case_id)
        member = require(session, at=now, user=user, action=Action.record_consent, case=case)
        consents.require_step(case)
        view = consent_modal(
            summary(session, case),
            history=consent_lines(session, case.id),
            agencies=consents.coverable_agencies(session),
            today=now.astimezone(TOKYO).date(),
        )
        allowed(session, at=now, member=member, action=Action.view_consent, case_id=case.id)
        return view

    open_modal(client, context, body, build)


def submit_consent(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    case_id = forms.read_metadata(view.get("private_metadata")).get("case_id")
    data = read_consent(view)

    def work(session, user, now):
        case = _case(session, case_id)
        member = require(session, at=now, user=user, action=Action.record_consent, case=case)
        outcome = consents.record(session, case=case, member=member, data=data, at=now)
        allowed(session, at=now, member=member, action=Action.record_consent, case_id=case.id)
        status = label("consent_status", outcome.record.status)
        done = t("consent.done", number=case.number, status=status)
        if outcome.moved_back_to is not None:
            done += "\n" + t(
                "consent.moved_back",
                number=case.number,
                state=label("state", outcome.moved_back_to),
            )
        return notice_modal(t("desk.done_title"), done)

    submit(ack, client, context, body, work, title=t("desk.notice_title"))


# --- 世帯全体のアセスメント ---------------------------------------------------------------------


def _can_edit(session, member, case) -> bool:
    return bool(decide(session, member, Action.record_assessment, case)) and case.state not in (
        CaseState.received,
        CaseState.closed,
    )


def _audit_read(session, case, entry, *, member, now) -> None:
    """Reading a version (in the view or as the base of the form) is a view of personal data."""
    allowed(
        session,
        at=now,
        member=member,
        action=Action.view_assessment,
        case_id=case.id,
        detail=f"v{entry.version}",
    )


def _shown(session, case, entry, *, member, now, can_edit: bool):
    recorder = session.get(Member, entry.recorded_by_id)
    _audit_read(session, case, entry, member=member, now=now)
    return assessment_view(
        summary(session, case),
        entry,
        recorded_by=recorder.slack_id if recorder else None,
        versions=[(v.version, v.recorded_at) for v in assessments.versions(session, case.id)],
        can_edit=can_edit,
    )


def open_assessment(client: WebClient, context: dict, body: dict, case_id: int) -> None:
    """The latest version (audited), or the empty form when none exists and the member may
    write one."""

    def build(session, user, now):
        case = _case(session, case_id)
        member = member_by_slack_id(session, user)
        may_view = decide(session, member, Action.view_assessment, case)
        can_edit = case is not None and _can_edit(session, member, case)
        if not can_edit:
            check(
                session,
                may_view,
                at=now,
                user=user,
                member=member,
                action=Action.view_assessment,
                case_id=case.id if case is not None else None,
            )
        latest = assessments.latest(session, case.id)
        if latest is not None and may_view:
            return _shown(session, case, latest, member=member, now=now, can_edit=can_edit)
        if latest is None and can_edit:
            return assessment_form(summary(session, case), base=None)
        raise DomainError("assessment.none_yet", number=case.number)

    open_modal(client, context, body, build)


def edit_assessment(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """編集する: the form, filled with the latest version (a view of it: audited)."""
    ack()
    case_id = body["actions"][0].get("value")

    def build(session, user, now):
        case = _case(session, case_id)
        member = require(session, at=now, user=user, action=Action.record_assessment, case=case)
        if not _can_edit(session, member, case):
            raise DomainError("assessment.not_now", number=case.number)
        latest = assessments.latest(session, case.id)
        if latest is not None:
            _audit_read(session, case, latest, member=member, now=now)
        return assessment_form(summary(session, case), base=latest)

    open_modal(client, context, body, build)


def choose_version(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """An earlier version, in the same modal (each version read is audited)."""
    ack()
    selected = (body["actions"][0].get("selected_option") or {}).get("value") or ""
    case_part, _, version_part = selected.partition(":")

    def build(session, user, now):
        case = _case(session, case_part)
        member = require(session, at=now, user=user, action=Action.view_assessment, case=case)
        entry = assessments.version_of(session, case.id, _number(version_part))
        can_edit = _can_edit(session, member, case)
        return _shown(session, case, entry, member=member, now=now, can_edit=can_edit)

    view = attempt(client, context, body, build)
    if view is None:
        return
    try:
        client.views_update(view_id=body["view"]["id"], view=view)
    except SlackApiError as exc:
        log.warning("could not update the assessment view: %s", exc.response.get("error"))


def submit_assessment(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    meta = forms.read_metadata(view.get("private_metadata"))
    data = read_assessment(view)

    def work(session, user, now):
        case = _case(session, meta.get("case_id"))
        member = require(session, at=now, user=user, action=Action.record_assessment, case=case)
        based_on = meta.get("based_on")
        entry = assessments.record(
            session,
            case=case,
            member=member,
            data=data,
            based_on=int(based_on) if based_on is not None else None,
            at=now,
        )
        allowed(
            session,
            at=now,
            member=member,
            action=Action.record_assessment,
            case_id=case.id,
            detail=f"v{entry.version}",
        )
        done = (
            t("assessment.done_first", number=case.number)
            if entry.version == 1  # nothing earlier to keep
            else t("assessment.done", number=case.number, version=entry.version)
        )
        return notice_modal(t("desk.done_title"), done)

    submit(ack, client, context, body, work, title=t("desk.notice_title"))
