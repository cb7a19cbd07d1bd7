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

from handlers.common import commands, forms
from handlers.common.commands import Reply
from handlers.common.replies import (
    Refused,
    acting,
    allowed,
    answer,
    attempt,
    check,
    int_or_none,
    open_modal,
    redraw,
    refuse,
    submit,
)
from handlers.common.services import services
from handlers.common.texts import label, t
from handlers.desk.case_views import when
from handlers.outreach import views
from models.base.db import transaction
from models.base.errors import DomainError
from models.cases.access import OutreachAction, decide_outreach
from models.cases.tables import Case, has_consent
from models.meetings.schedule import add_case_to_agenda, meeting_by_id
from models.meetings.series import next_meeting_of
from models.meetings.tables import MeetingKind
from models.org.roster import districts, member_by_slack_id
from models.org.tables import Agency, Member, Role
from models.outreach import listing as outreach_listing
from models.outreach import targets as domain
from models.outreach.contacts import log_contact
from models.outreach.dates import propose_next, today
from models.outreach.listing import detail, lines
from models.outreach.tables import (
    ASSIGNABLE_KINDS,
    OPEN_TARGET_STATES,
    ContactOutcome,
    OutreachTarget,
)
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
    commands.add_slow(app, ("outreach", "アウトリーチ"), outreach_command, placeholder=_lists)


def _ref(target) -> str:
    return f"outreach:{target.id}"  # ids only, for the audit log


def _allowed(session, *, at, member: Member, action: OutreachAction, target=None, case_id=None):
    allowed(
        session,
        at=at,
        member=member,
        action=action,
        case_id=case_id if case_id is not None else (target.case_id if target else None),
        detail=_ref(target) if target is not None else None,
    )


def _checked(session, *, at, user: str, action: OutreachAction, target_id=None, case=None):
    """(member, target): the target and the right, looked up in the database; else Refused."""
    member = member_by_slack_id(session, user)
    target = session.get(OutreachTarget, target_id) if target_id else None
    about_target = action not in (OutreachAction.create, OutreachAction.from_case)
    if member is not None and target is None and about_target:
        raise DomainError("outreach.not_found")
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


def _case(session, case_id: int | None) -> Case | None:
    """The case a target is registered from (None: a target without a case)."""
    case = session.get(Case, case_id) if case_id else None
    if case_id and case is None:
        raise DomainError("case.not_found")
    return case


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
    return agency is not None and agency.active and agency.kind in ASSIGNABLE_KINDS


def _proposed(session, target, now) -> object:
    cal = calendar_for(session)
    return propose_next(today(now), target.cadence_days, cal.is_business_day)


# --- registering a target ------------------------------------------------------------------------


def _create_form(client, context, body, *, case_id: int | None) -> None:
    def build(session, user, now):
        case = _case(session, case_id)
        action = OutreachAction.from_case if case else OutreachAction.create
        member, _ = _checked(session, at=now, user=user, action=action, case=case)
        if case is not None and (listed := domain.open_target_of_case(session, case.id)):
            raise DomainError("outreach.error.case_already_listed_as", label=listed.label)
        if case is not None and case.state in ("received", "closed"):
            raise DomainError("outreach.error.case_not_now", number=case.number)
        return views.create_modal(
            agencies=domain.assignable_agencies(session),
            districts=districts(session),
            today_=today(now),
            initial_agencies=_initial_agencies(session, member, case),
            case_id=case.id if case else None,
            case_number=case.number if case else None,
        )

    open_modal(client, context, body, build)


def open_new(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    _create_form(client, context, body, case_id=None)


def open_from_case(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    case_id = int_or_none(body["actions"][0].get("value"))
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
    case_id = int_or_none(forms.read_metadata(view.get("private_metadata")).get("case_id"))
    data = views.read_target(view)

    def work(session, user, now):
        case = _case(session, case_id)
        action = OutreachAction.from_case if case else OutreachAction.create
        member, _ = _checked(session, at=now, user=user, action=action, case=case)
        target = domain.create(session, data=data, created_by=member, at=now, case_id=case_id)
        schedule_for(session, target, at=now)
        _allowed(session, at=now, member=member, action=action, target=target)
        day = views.day(target.next_contact_on)
        return views.done_modal(t("outreach.done.created", label=target.label, day=day))

    _submit(ack, client, context, body, view, work)


def _submit(ack, client, context, body, view, work) -> None:
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


# --- the target's modal (personal details: audited) ----------------------------------------------


def open_target(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    show_target(client, context, body, int_or_none(body["actions"][0].get("value")))


def show_target(client: WebClient, context: dict, body: dict, target_id: int | None) -> None:
    def build(session, user, now):
        member, target = _checked(
            session, at=now, user=user, action=OutreachAction.view_detail, target_id=target_id
        )

        def may(action: OutreachAction) -> bool:
            return bool(decide_outreach(session, member, action, target=target))

        view = views.detail_modal(
            detail(session, target, now=now),
            can_log=may(OutreachAction.log_contact),
            can_pause=may(OutreachAction.pause),
            can_close=may(OutreachAction.close),
        )
        _allowed(session, at=now, member=member, action=OutreachAction.view_detail, target=target)
        return view

    open_modal(client, context, body, build)


def choose_from_menu(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """The App Home overflow: 接触を記録する / 詳しく見る."""
    ack()
    selected = (body["actions"][0].get("selected_option") or {}).get("value") or ""
    what, _, target_id = selected.partition(":")
    if what == "log":
        show_contact_form(client, context, body, int_or_none(target_id))
    else:
        show_target(client, context, body, int_or_none(target_id))


# --- logging a contact ---------------------------------------------------------------------------


def open_contact(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    show_contact_form(client, context, body, int_or_none(body["actions"][0].get("value")))


def _contact_view(session, target, now, *, consented: bool):
    line = lines(session, [target], day=today(now))[0]
    return views.contact_modal(
        line,
        proposed=_proposed(session, target, now),
        consented=consented,
        agencies=domain.assignable_agencies(session),
        assigned=sorted(domain.worker_agencies(session, target.id)),
    )


def show_contact_form(client: WebClient, context: dict, body: dict, target_id) -> None:
    def build(session, user, now):
        _, target = _checked(
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
        _, target = _checked(
            session, at=now, user=user, action=OutreachAction.log_contact, target_id=target_id
        )
        if target.state not in OPEN_TARGET_STATES or consented == shown:
            return None
        return _contact_view(session, target, now, consented=consented)

    redraw(client, context, body, build)


def submit_contact(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    target_id = int_or_none(forms.read_metadata(view.get("private_metadata")).get("target_id"))
    data = views.read_contact(view)

    def work(session, user, now):
        member, target = _checked(
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
        _allowed(session, at=now, member=member, action=OutreachAction.log_contact, target=target)
        done, agenda = _contact_answer(session, member, target, logged, now)
        return views.done_modal(done, agenda=agenda)

    _submit(ack, client, context, body, view, work)


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
    kind = STATE_ACTIONS[body["actions"][0]["action_id"]]
    right = OutreachAction.close if kind == "close" else OutreachAction.pause
    target_id = int_or_none(body["actions"][0].get("value"))

    def build(session, user, now):
        _, target = _checked(session, at=now, user=user, action=right, target_id=target_id)
        line = lines(session, [target], day=today(now))[0]
        return views.state_modal(line, kind, proposed=_proposed(session, target, now))

    open_modal(client, context, body, build)


def submit_state(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    meta = forms.read_metadata(view.get("private_metadata"))
    kind = meta.get("kind") if meta.get("kind") in views.STATE_KINDS else None
    right = OutreachAction.close if kind == "close" else OutreachAction.pause
    reason = forms.value(view, "reason")

    def work(session, user, now):
        member, target = _checked(
            session, at=now, user=user, action=right, target_id=int_or_none(meta.get("target_id"))
        )
        if kind == "pause":
            domain.pause(session, target, reason=reason, by=member, at=now)
        elif kind == "resume":
            domain.resume(
                session,
                target,
                reason=reason,
                next_contact_on=forms.date_value(view, "next_contact_on"),
                by=member,
                at=now,
            )
        elif kind == "close":
            domain.close(session, target, reason=reason, by=member, at=now)
        else:
            raise DomainError("outreach.not_found")
        schedule_for(session, target, at=now)
        _allowed(session, at=now, member=member, action=right, target=target)
        day = views.day(target.next_contact_on)
        return views.done_modal(t(f"outreach.done.{kind}", label=target.label, day=day))

    _submit(ack, client, context, body, view, work)


# --- the agenda offer ----------------------------------------------------------------------------


def add_to_agenda(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """次のたつのまるごと会議の議題に入れる: the coordinator; the meeting's legal rules apply."""
    ack()
    target_id, _, meeting_id = (body["actions"][0].get("value") or "").partition(":")

    def work(session, user, now):
        member, target = _checked(
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
        _allowed(session, at=now, member=member, action=OutreachAction.agenda, target=target)
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


# --- /tsunagi outreach ---------------------------------------------------------------------------


LIST_WORDS = ("list", "一覧")


def _lists(args: list[str]) -> bool:
    return bool(args) and args[0].lower() in LIST_WORDS


def outreach_command(body: dict, client: WebClient, context: dict, args: list[str]):
    """`/tsunagi outreach`: register a target; `/tsunagi outreach list`: my targets (labels).
    Both after the ack: the form opens, or the list follows 「作成しています…」."""
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    sub = args[0].lower() if args else ""
    if sub in ("", "new", "登録"):
        try:
            with acting(svc.engine) as session:
                _checked(session, at=now, user=user, action=OutreachAction.create)
        except Refused as exc:
            return Reply(exc.text)
        _create_form(client, context, {"user": {"id": user}, **body}, case_id=None)
        return None
    if not _lists(args):
        return Reply(t("outreach.list.usage"))
    with transaction(svc.engine) as session:
        member = member_by_slack_id(session, user)
        decision = decide_outreach(session, member, OutreachAction.create)
        if member is None or not (decision or member.has(Role.coordinator)):
            text = refuse(
                session,
                at=now,
                slack_id=user,
                member=member,
                action=OutreachAction.view,
                reason=decision.reason,
            )
        else:
            found = lines(
                session,
                outreach_listing.targets_for(
                    session, member, include_ended=member.has(Role.coordinator)
                ),
                day=today(now),
            )
            text = views.list_text(found, everyone=member.has(Role.coordinator))
    return Reply(text)


# --- the button in a case's detail modal ---------------------------------------------------------


def case_blocks(session, member: Member | None, case: Case) -> list:
    """For the case desk: register the case's person for outreach, or open its target."""
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement

    from handlers.common.blocks import plain

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
