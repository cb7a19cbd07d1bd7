"""Outreach (アウトリーチ) in Slack: register a target, log contacts in a few taps, pause,
resume, close, and — when a contact brings consent — the move into the consent-based path.

Entry points: `/tsunagi outreach` (register) and `/tsunagi outreach list`, the App Home section
(登録する, and each target's menu: 接触を記録する / 詳しく見る), the case's detail modal
(アウトリーチの対象にする), and the 接触を記録する button on every outreach reminder.

Every listener looks the clicking user up in the database and asks
`models.access.decide_outreach`: only the assigned agencies' workers and the coordinator see a
target or log a contact. A refusal changes nothing, is answered only to the user and audited;
every opening of a target's personal details is audited too.
"""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.case_desk_common import after_action, answer, explain, log, show
from handlers.commands import subcommand
from handlers.replies import refuse
from handlers.services import services
from handlers.texts import label, t
from handlers.views import outreach as views
from handlers.views.cases import when
from handlers.views.common import notice_modal
from models import audit
from models import outreach as domain
from models.access import OutreachAction, decide_outreach
from models.cases import Case
from models.consent import has_consent
from models.db import transaction
from models.errors import DomainError
from models.meetings import MeetingKind, add_case_to_agenda, meeting_by_id, next_meeting_of
from models.org import Agency, Member, Role, districts, member_by_slack_id
from reminders.deadlines import calendar_for
from reminders.outreach import schedule_for

STATE_ACTIONS = {
    views.ACTION_PAUSE: "pause",
    views.ACTION_RESUME: "resume",
    views.ACTION_CLOSE: "close",
}


def register(app: App) -> None:
    app.action(views.ACTION_NEW)(open_new)
    app.action(views.ACTION_FROM_CASE)(open_from_case)
    app.view(views.VIEW_CREATE)(submit_create)
    app.action(views.ACTION_OPEN)(open_target)
    app.action(views.ACTION_LOG)(open_contact)
    app.action(views.ACTION_MENU)(choose_from_menu)
    app.action(views.ACTION_OUTCOME)(change_outcome)
    app.view(views.VIEW_CONTACT)(submit_contact)
    for action_id in STATE_ACTIONS:
        app.action(action_id)(open_state)
    app.view(views.VIEW_STATE)(submit_state)
    app.action(views.ACTION_AGENDA)(add_to_agenda)


def _int(value: object) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ref(target) -> str:
    return f"outreach:{target.id}"  # ids only, for the audit log


def _allowed(session, *, at, member: Member, action: OutreachAction, target=None, case_id=None):
    audit.record(
        session,
        at=at,
        actor_slack_id=member.slack_id,
        actor_member_id=member.id,
        action=action,
        case_id=case_id if case_id is not None else (target.case_id if target else None),
        allowed=True,
        detail=_ref(target) if target is not None else None,
    )


def _refused(session, *, at, user, member, action, reason, target=None, case_id=None) -> str:
    return refuse(
        session,
        at=at,
        slack_id=user,
        member=member,
        action=action,
        reason=reason,
        case_id=case_id if case_id is not None else (target.case_id if target else None),
    )


def _checked(session, *, at, user: str, action: OutreachAction, target_id, case=None):
    """(member, target, refusal text): the target and the right, looked up in the database."""
    member = member_by_slack_id(session, user)
    target = session.get(domain.OutreachTarget, target_id) if target_id else None
    if member is not None and target is None and action is not OutreachAction.create:
        raise DomainError("outreach.not_found")
    decision = decide_outreach(session, member, action, target=target, case=case)
    if decision:
        return member, target, None
    text = _refused(
        session,
        at=at,
        user=user,
        member=member,
        action=action,
        reason=decision.reason,
        target=target,
        case_id=case.id if case is not None else None,
    )
    return member, target, text


def _initial_agencies(session, member: Member, case: Case | None) -> list[int]:
    """Who visits, by default: the case's windows, else the member's own agency."""
    if case is not None:
        found = [case.lead_agency_id, case.routed_agency_id]
        return [a for a in dict.fromkeys(found) if a is not None and _assignable(session, a)]
    if member.has(Role.coordinator):
        return []
    return [member.agency_id] if _assignable(session, member.agency_id) else []


def _assignable(session, agency_id: int) -> bool:
    agency = session.get(Agency, agency_id)
    return agency is not None and agency.active and agency.kind in domain.ASSIGNABLE_KINDS


def _proposed(session, target, now) -> object:
    cal = calendar_for(session)
    return domain.propose_next(domain.today(now), target.cadence_days, cal.is_business_day)


# --- registering a target ------------------------------------------------------------------------


def _create_form(client, context, body, *, case_id: int | None) -> None:
    svc = services(context)
    user = body["user"]["id"] if "user" in body else body["user_id"]
    now = svc.clock()
    view = None
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case = session.get(Case, case_id) if case_id else None
            if case_id and case is None:
                raise DomainError("case.not_found")
            action = OutreachAction.from_case if case else OutreachAction.create
            decision = decide_outreach(session, member, action, case=case)
            if not decision:
                text = _refused(
                    session,
                    at=now,
                    user=user,
                    member=member,
                    action=action,
                    reason=decision.reason,
                    case_id=case.id if case else None,
                )
            elif case is not None and (listed := domain.open_target_of_case(session, case.id)):
                text = t("outreach.error.case_already_listed_as", label=listed.label)
            elif case is not None and case.state in ("received", "closed"):
                text = t("outreach.error.case_not_now", number=case.number)
            else:
                view = views.create_modal(
                    agencies=domain.assignable_agencies(session),
                    districts=districts(session),
                    today_=domain.today(now),
                    initial_agencies=_initial_agencies(session, member, case),
                    case_id=case.id if case else None,
                    case_number=case.number if case else None,
                )
    except DomainError as exc:
        answer(client, body, explain(exc))
        return
    if view is None:
        answer(client, body, text)
        return
    show(client, body, view)


def open_new(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    _create_form(client, context, body, case_id=None)


def open_from_case(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    case_id = _int(body["actions"][0].get("value"))
    if case_id is None:
        answer(client, body, t("case.not_found"))
        return
    _create_form(client, context, body, case_id=case_id)


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


def submit_create(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    case_id = _int(views.read_metadata(view.get("private_metadata")).get("case_id"))
    data = views.read_target(view)
    refused = None
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case = session.get(Case, case_id) if case_id else None
            if case_id and case is None:
                raise DomainError("case.not_found")
            action = OutreachAction.from_case if case else OutreachAction.create
            decision = decide_outreach(session, member, action, case=case)
            if not decision:
                refused = _refused(
                    session,
                    at=now,
                    user=user,
                    member=member,
                    action=action,
                    reason=decision.reason,
                    case_id=case_id,
                )
            else:
                target = domain.create(
                    session, data=data, created_by=member, at=now, case_id=case_id
                )
                schedule_for(session, target, at=now)
                _allowed(session, at=now, member=member, action=action, target=target)
                done = t(
                    "outreach.done.created",
                    label=target.label,
                    day=views.day(target.next_contact_on),
                )
    except domain.OutreachInvalid as exc:
        ack(response_action="errors", errors=_field_errors(view, exc.errors))
        return
    except DomainError as exc:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), explain(exc)))
        return
    if refused is not None:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), refused))
        return
    ack(response_action="update", view=views.done_modal(done))
    after_action(client, context, user)


# --- the target's modal (personal details: audited) ----------------------------------------------


def open_target(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    show_target(client, context, body, _int(body["actions"][0].get("value")))


def show_target(client: WebClient, context: dict, body: dict, target_id: int | None) -> None:
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    view = None
    try:
        with transaction(svc.engine) as session:
            member, target, text = _checked(
                session, at=now, user=user, action=OutreachAction.view_detail, target_id=target_id
            )
            if text is None:

                def may(action: OutreachAction) -> bool:
                    return bool(decide_outreach(session, member, action, target=target))

                view = views.detail_modal(
                    domain.detail(session, target, now=now),
                    can_log=may(OutreachAction.log_contact),
                    can_pause=may(OutreachAction.pause),
                    can_close=may(OutreachAction.close),
                )
                _allowed(
                    session,
                    at=now,
                    member=member,
                    action=OutreachAction.view_detail,
                    target=target,
                )
    except DomainError as exc:
        answer(client, body, explain(exc))
        return
    if view is None:
        answer(client, body, text)
        return
    show(client, body, view)


def choose_from_menu(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """The App Home overflow: 接触を記録する / 詳しく見る."""
    ack()
    selected = (body["actions"][0].get("selected_option") or {}).get("value") or ""
    what, _, target_id = selected.partition(":")
    if what == "log":
        show_contact_form(client, context, body, _int(target_id))
    else:
        show_target(client, context, body, _int(target_id))


# --- logging a contact ---------------------------------------------------------------------------


def open_contact(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    show_contact_form(client, context, body, _int(body["actions"][0].get("value")))


def _contact_view(session, target, now, *, consented: bool):
    line = domain.lines(session, [target], day=domain.today(now))[0]
    return views.contact_modal(
        line,
        proposed=_proposed(session, target, now),
        consented=consented,
        agencies=domain.assignable_agencies(session),
        assigned=sorted(domain.worker_agencies(session, target.id)),
    )


def show_contact_form(client: WebClient, context: dict, body: dict, target_id) -> None:
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    view = None
    try:
        with transaction(svc.engine) as session:
            _, target, text = _checked(
                session, at=now, user=user, action=OutreachAction.log_contact, target_id=target_id
            )
            if text is None:
                if target.state not in domain.OPEN_TARGET_STATES:
                    text = t(
                        "outreach.not_open",
                        label=target.label,
                        state=label("outreach_state", target.state),
                    )
                else:
                    view = _contact_view(session, target, now, consented=False)
    except DomainError as exc:
        answer(client, body, explain(exc))
        return
    if view is None:
        answer(client, body, text)
        return
    show(client, body, view)


def change_outcome(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """同意が得られた chosen (or unchosen): the form shows the consent questions (or the date)."""
    ack()
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    current = body.get("view") or {}
    target_id = _int(views.read_metadata(current.get("private_metadata")).get("target_id"))
    outcome = (body["actions"][0].get("selected_option") or {}).get("value")
    with transaction(svc.engine) as session:
        try:
            _, target, text = _checked(
                session, at=now, user=user, action=OutreachAction.log_contact, target_id=target_id
            )
        except DomainError:
            return
        if text is not None or target.state not in domain.OPEN_TARGET_STATES:
            return  # the submission answers with the refusal
        consented = outcome == domain.ContactOutcome.consented
        shown = any(b.get("block_id") == "consent_method" for b in current.get("blocks", []))
        if consented == shown:
            return
        view = _contact_view(session, target, now, consented=consented)
    try:
        client.views_update(view_id=current["id"], hash=current.get("hash"), view=view)
    except SlackApiError as exc:
        log.warning("could not update the contact form: %s", exc.response.get("error"))


def submit_contact(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    target_id = _int(views.read_metadata(view.get("private_metadata")).get("target_id"))
    data = views.read_contact(view)
    refused = None
    agenda = None
    try:
        with transaction(svc.engine) as session:
            member, target, refused = _checked(
                session, at=now, user=user, action=OutreachAction.log_contact, target_id=target_id
            )
            if refused is None:
                logged = domain.log_contact(
                    session,
                    target=target,
                    data=data,
                    by=member,
                    at=now,
                    intake_narrative=t("outreach.intake_narrative", label=target.label),
                )
                schedule_for(session, target, at=now, by_member_id=member.id)
                _allowed(
                    session,
                    at=now,
                    member=member,
                    action=OutreachAction.log_contact,
                    target=target,
                )
                done, agenda = _contact_answer(session, member, target, logged, now)
    except domain.OutreachInvalid as exc:
        ack(response_action="errors", errors=_field_errors(view, exc.errors))
        return
    except DomainError as exc:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), explain(exc)))
        return
    if refused is not None:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), refused))
        return
    ack(response_action="update", view=views.done_modal(done, agenda=agenda))
    after_action(client, context, user)


def _contact_answer(session, member, target, logged, now):
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


# --- pause, resume, close ------------------------------------------------------------------------


def open_state(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    action_id = body["actions"][0]["action_id"]
    kind = STATE_ACTIONS[action_id]
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    right = OutreachAction.close if kind == "close" else OutreachAction.pause
    view = None
    try:
        with transaction(svc.engine) as session:
            _, target, text = _checked(
                session,
                at=now,
                user=user,
                action=right,
                target_id=_int(body["actions"][0].get("value")),
            )
            if text is None:
                line = domain.lines(session, [target], day=domain.today(now))[0]
                view = views.state_modal(line, kind, proposed=_proposed(session, target, now))
    except DomainError as exc:
        answer(client, body, explain(exc))
        return
    if view is None:
        answer(client, body, text)
        return
    show(client, body, view)


def submit_state(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    meta = views.read_metadata(view.get("private_metadata"))
    kind = meta.get("kind") if meta.get("kind") in views.STATE_KINDS else None
    right = OutreachAction.close if kind == "close" else OutreachAction.pause
    reason = views.read(view, "reason")
    refused = None
    try:
        with transaction(svc.engine) as session:
            member, target, refused = _checked(
                session, at=now, user=user, action=right, target_id=_int(meta.get("target_id"))
            )
            if refused is None:
                if kind == "pause":
                    domain.pause(session, target, reason=reason, by=member, at=now)
                elif kind == "resume":
                    domain.resume(
                        session,
                        target,
                        reason=reason,
                        next_contact_on=views.read_date(view, "next_contact_on"),
                        by=member,
                        at=now,
                    )
                elif kind == "close":
                    domain.close(session, target, reason=reason, by=member, at=now)
                else:
                    raise DomainError("outreach.not_found")
                schedule_for(session, target, at=now)
                _allowed(session, at=now, member=member, action=right, target=target)
                done = t(
                    f"outreach.done.{kind}",
                    label=target.label,
                    day=views.day(target.next_contact_on),
                )
    except domain.OutreachInvalid as exc:
        ack(response_action="errors", errors=_field_errors(view, exc.errors))
        return
    except DomainError as exc:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), explain(exc)))
        return
    if refused is not None:
        ack(response_action="update", view=notice_modal(t("desk.notice_title"), refused))
        return
    ack(response_action="update", view=views.done_modal(done))
    after_action(client, context, user)


# --- the agenda offer ----------------------------------------------------------------------------


def add_to_agenda(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """次のたつのまるごと会議の議題に入れる: the coordinator; the meeting's legal rules apply."""
    ack()
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    target_id, _, meeting_id = (body["actions"][0].get("value") or "").partition(":")
    try:
        with transaction(svc.engine) as session:
            member, target, text = _checked(
                session, at=now, user=user, action=OutreachAction.agenda, target_id=_int(target_id)
            )
            if text is None:
                case = session.get(Case, target.case_id) if target.case_id else None
                if case is None:
                    raise DomainError("outreach.agenda.no_case", label=target.label)
                try:
                    meeting = meeting_by_id(session, _int(meeting_id))
                except DomainError:
                    raise DomainError("outreach.agenda.meeting_gone") from None
                try:
                    added = add_case_to_agenda(
                        session, meeting=meeting, case=case, has_consent=has_consent, at=now
                    )
                except DomainError as exc:
                    raise _agenda_refusal(exc, case) from None
                _allowed(
                    session, at=now, member=member, action=OutreachAction.agenda, target=target
                )
                key = "outreach.agenda.added" if added else "outreach.agenda.already"
                text = t(key, number=case.number, when=when(meeting.starts_at))
    except DomainError as exc:
        answer(client, body, explain(exc))
        return
    answer(client, body, text, title=t("outreach.done_title"))
    services(context).kick_delivery()


def _agenda_refusal(exc: DomainError, case: Case) -> DomainError:
    """The meetings domain's refusal, said in this feature's words."""
    if exc.code == "meeting.marugoto_needs_consent":
        return DomainError("outreach.agenda.needs_consent", number=case.number)
    if exc.code == "meeting.case_closed":
        return DomainError("outreach.agenda.case_closed", number=case.number)
    return DomainError("outreach.agenda.meeting_gone")


# --- /tsunagi outreach ---------------------------------------------------------------------------


@subcommand("outreach", "アウトリーチ")
def outreach_command(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]):
    """`/tsunagi outreach`: register a target; `/tsunagi outreach list`: my targets (labels)."""
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    sub = args[0].lower() if args else ""
    if sub in ("", "new", "登録"):
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            decision = decide_outreach(session, member, OutreachAction.create)
            if not decision:
                text = _refused(
                    session,
                    at=now,
                    user=user,
                    member=member,
                    action=OutreachAction.create,
                    reason=decision.reason,
                )
        if not decision:
            ack(text=text)
            return
        ack()
        _create_form(client, context, {"user": {"id": user}, **body}, case_id=None)
        return
    if sub not in ("list", "一覧"):
        ack(text=t("outreach.list.usage"))
        return
    with transaction(svc.engine) as session:
        member = member_by_slack_id(session, user)
        decision = decide_outreach(session, member, OutreachAction.create)
        if member is None or not (decision or member.has(Role.coordinator)):
            text = _refused(
                session,
                at=now,
                user=user,
                member=member,
                action=OutreachAction.view,
                reason=decision.reason,
            )
        else:
            found = domain.lines(
                session,
                domain.targets_for(session, member, include_ended=member.has(Role.coordinator)),
                day=domain.today(now),
            )
            text = views.list_text(found, everyone=member.has(Role.coordinator))
    ack(text=text)


# --- the button in a case's detail modal ---------------------------------------------------------


def case_blocks(session, member: Member | None, case: Case) -> list:
    """For handlers/case_desk.py: register the case's person for outreach, or open its target."""
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement

    from handlers.views.common import plain

    listed = domain.open_target_of_case(session, case.id)
    if listed is not None:
        if not decide_outreach(session, member, OutreachAction.view, target=listed):
            return []
        button = ButtonElement(
            text=plain(t("outreach.button.open_listed", label=listed.label)),
            action_id=views.ACTION_OPEN,
            value=str(listed.id),
        )
    elif case.state in ("received", "closed") or not decide_outreach(
        session, member, OutreachAction.from_case, case=case
    ):
        return []
    else:
        button = ButtonElement(
            text=plain(t("outreach.button.from_case")),
            action_id=views.ACTION_FROM_CASE,
            value=str(case.id),
        )
    return [ActionsBlock(block_id=f"outreach_case:{case.id}", elements=[button])]
