"""本人同意 and 世帯全体のアセスメント: open, read, record. Every opening that shows personal
information is audited; every refusal is audited and answered only to the clicker."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import ids
from handlers.case_desk_common import after_action, answer, explain, log, show
from handlers.replies import refuse
from handlers.services import services
from handlers.texts import label, t
from handlers.views.case_desk_records import (
    assessment_form,
    assessment_view,
    consent_modal,
    read_assessment,
    read_consent,
    read_metadata,
)
from handlers.views.common import notice_modal
from models import assessment as assessments
from models import audit
from models import consent as consents
from models.access import Action, decide
from models.cases import case_by_id, summary
from models.casework import consent_lines
from models.clock import TOKYO
from models.db import transaction
from models.errors import DomainError
from models.lifecycle import CaseState
from models.org import Member, member_by_slack_id


def register(app: App) -> None:
    app.view(ids.VIEW_CONSENT)(submit_consent)
    app.action(ids.ACTION_ASSESSMENT_EDIT)(edit_assessment)
    app.action(ids.ACTION_ASSESSMENT_VERSION)(choose_version)
    app.view(ids.VIEW_ASSESSMENT)(submit_assessment)


def _allowed(session, *, at, member: Member, action: Action, case_id: int, detail=None) -> None:
    audit.record(
        session,
        at=at,
        actor_slack_id=member.slack_id,
        actor_member_id=member.id,
        action=action,
        case_id=case_id,
        allowed=True,
        detail=detail,
    )


def _refused(session, *, at, user: str, member, action: Action, reason: str, case_id) -> str:
    return refuse(
        session, at=at, slack_id=user, member=member, action=action, reason=reason, case_id=case_id
    )


# --- 本人同意 ------------------------------------------------------------------------------------


def open_consent(client: WebClient, context: dict, body: dict, case_id: int) -> None:
    """The consent form, with the current consent and its history (audited as a view)."""
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    view = None
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case = case_by_id(session, case_id)
            decision = decide(session, member, Action.record_consent, case)
            if not decision:
                text = _refused(
                    session,
                    at=now,
                    user=user,
                    member=member,
                    action=Action.record_consent,
                    reason=decision.reason,
                    case_id=case.id,
                )
            else:
                consents.require_step(case)
                view = consent_modal(
                    summary(session, case),
                    history=consent_lines(session, case.id),
                    agencies=consents.coverable_agencies(session),
                    today=now.astimezone(TOKYO).date(),
                )
                _allowed(
                    session, at=now, member=member, action=Action.view_consent, case_id=case.id
                )
    except DomainError as exc:
        answer(client, body, explain(exc))
        return
    if view is None:
        answer(client, body, text)
        return
    show(client, body, view)


def submit_consent(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    case_id = read_metadata(view.get("private_metadata")).get("case_id")
    data = read_consent(view)
    refused = None
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case = case_by_id(session, int(case_id)) if case_id else None
            if case is None:
                raise DomainError("case.not_found")
            decision = decide(session, member, Action.record_consent, case)
            if not decision:
                refused = _refused(
                    session,
                    at=now,
                    user=user,
                    member=member,
                    action=Action.record_consent,
                    reason=decision.reason,
                    case_id=case.id,
                )
            else:
                outcome = consents.record(session, case=case, member=member, data=data, at=now)
                _allowed(
                    session, at=now, member=member, action=Action.record_consent, case_id=case.id
                )
                status = label("consent_status", outcome.record.status)
                done = t("consent.done", number=case.number, status=status)
                if outcome.moved_back_to is not None:
                    done += "\n" + t(
                        "consent.moved_back",
                        number=case.number,
                        state=label("state", outcome.moved_back_to),
                    )
    except consents.ConsentInvalid as exc:
        ack(
            response_action="errors",
            errors={f: t(code) for f, code in exc.errors.items()},
        )
        return
    except DomainError as exc:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), explain(exc)))
        return
    if refused is not None:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), refused))
        return
    ack(response_action="update", view=notice_modal(t("desk.done_title"), done))
    after_action(client, context, user)


# --- 世帯全体のアセスメント ---------------------------------------------------------------------


def _can_edit(session, member, case) -> bool:
    return bool(decide(session, member, Action.record_assessment, case)) and case.state not in (
        CaseState.received,
        CaseState.closed,
    )


def _shown(session, case, entry, *, member, now, can_edit: bool):
    recorder = session.get(Member, entry.recorded_by_id)
    _allowed(
        session,
        at=now,
        member=member,
        action=Action.view_assessment,
        case_id=case.id,
        detail=f"v{entry.version}",
    )
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
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    view = None
    text = None
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case = case_by_id(session, case_id)
            may_view = decide(session, member, Action.view_assessment, case)
            can_edit = _can_edit(session, member, case)
            latest = assessments.latest(session, case.id)
            if not may_view and not can_edit:
                text = _refused(
                    session,
                    at=now,
                    user=user,
                    member=member,
                    action=Action.view_assessment,
                    reason=may_view.reason,
                    case_id=case.id,
                )
            elif latest is not None and may_view:
                view = _shown(session, case, latest, member=member, now=now, can_edit=can_edit)
            elif latest is None and can_edit:
                view = assessment_form(summary(session, case), base=None)
            else:
                text = t("assessment.none_yet", number=case.number)
    except DomainError as exc:
        answer(client, body, explain(exc))
        return
    if view is None:
        answer(client, body, text)
        return
    show(client, body, view)


def edit_assessment(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """編集する: the form, filled with the latest version (a view of it: audited)."""
    ack()
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    view = None
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case = case_by_id(session, int(body["actions"][0].get("value") or 0))
            decision = decide(session, member, Action.record_assessment, case)
            if not decision:
                text = _refused(
                    session,
                    at=now,
                    user=user,
                    member=member,
                    action=Action.record_assessment,
                    reason=decision.reason,
                    case_id=case.id,
                )
            elif not _can_edit(session, member, case):
                text = t("assessment.not_now", number=case.number)
            else:
                latest = assessments.latest(session, case.id)
                if latest is not None:
                    _allowed(
                        session,
                        at=now,
                        member=member,
                        action=Action.view_assessment,
                        case_id=case.id,
                        detail=f"v{latest.version}",
                    )
                view = assessment_form(summary(session, case), base=latest)
    except (DomainError, ValueError) as exc:
        answer(client, body, explain(exc) if isinstance(exc, DomainError) else t("case.not_found"))
        return
    if view is None:
        answer(client, body, text)
        return
    show(client, body, view)


def choose_version(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """An earlier version, in the same modal (each version read is audited)."""
    ack()
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    selected = (body["actions"][0].get("selected_option") or {}).get("value") or ""
    case_part, _, version_part = selected.partition(":")
    view = None
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case = case_by_id(session, int(case_part))
            decision = decide(session, member, Action.view_assessment, case)
            if not decision:
                text = _refused(
                    session,
                    at=now,
                    user=user,
                    member=member,
                    action=Action.view_assessment,
                    reason=decision.reason,
                    case_id=case.id,
                )
            else:
                entry = assessments.version_of(session, case.id, int(version_part))
                view = _shown(
                    session,
                    case,
                    entry,
                    member=member,
                    now=now,
                    can_edit=_can_edit(session, member, case),
                )
    except (DomainError, ValueError) as exc:
        answer(client, body, explain(exc) if isinstance(exc, DomainError) else t("case.not_found"))
        return
    if view is None:
        answer(client, body, text)
        return
    try:
        client.views_update(view_id=body["view"]["id"], view=view)
    except SlackApiError as exc:
        log.warning("could not update the assessment view: %s", exc.response.get("error"))


def submit_assessment(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    meta = read_metadata(view.get("private_metadata"))
    data = read_assessment(view)
    refused = None
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case_id = meta.get("case_id")
            case = case_by_id(session, int(case_id)) if case_id else None
            if case is None:
                raise DomainError("case.not_found")
            decision = decide(session, member, Action.record_assessment, case)
            if not decision:
                refused = _refused(
                    session,
                    at=now,
                    user=user,
                    member=member,
                    action=Action.record_assessment,
                    reason=decision.reason,
                    case_id=case.id,
                )
            else:
                based_on = meta.get("based_on")
                entry = assessments.record(
                    session,
                    case=case,
                    member=member,
                    data=data,
                    based_on=int(based_on) if based_on is not None else None,
                    at=now,
                )
                _allowed(
                    session,
                    at=now,
                    member=member,
                    action=Action.record_assessment,
                    case_id=case.id,
                    detail=f"v{entry.version}",
                )
                done = t("assessment.done", number=case.number, version=entry.version)
    except assessments.AssessmentInvalid as exc:
        ack(response_action="errors", errors={f: t(code) for f, code in exc.errors.items()})
        return
    except DomainError as exc:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), explain(exc)))
        return
    if refused is not None:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), refused))
        return
    ack(response_action="update", view=notice_modal(t("desk.done_title"), done))
    after_action(client, context, user)
