"""The case desk: 受付, 詳細を見る, the steps on a case (reroute, escalate, assessment, stage,
lead, suspend, resume, close), and `/tsunagi status` / `/tsunagi mine`.

Every listener looks the clicking user up in the database and asks
`models.cases.access.decide`; a refusal is answered only to that user, changes nothing and is
audited (handlers.common.replies). The domain (models.cases.casework) checks the right again
and the state machine decides what is possible; its refusals are shown in words
(`handlers.common.replies.message_for`). 本人同意 and the assessment: handlers/desk/records.py.
"""

from __future__ import annotations

import re

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers.common import commands, deferred, forms, ids
from handlers.common.blocks import notice_modal
from handlers.common.commands import Reply
from handlers.common.mrkdwn import escape
from handlers.common.replies import (
    Work,
    act,
    allowed,
    answer,
    int_or_none,
    open_modal,
    refuse,
    require,
    submit,
)
from handlers.common.services import services
from handlers.common.texts import label, t
from handlers.desk import records
from handlers.desk.case_views import detail_modal
from handlers.desk.views import (
    MINE_LINES,
    StepMeta,
    mine_text,
    status_for_referrer,
    status_for_team,
    step_modal,
)
from handlers.home.listeners import build_desk
from handlers.outreach import create as outreach
from models.base.db import transaction
from models.base.errors import DomainError
from models.cases import casework
from models.cases import memo as intake
from models.cases.access import STEP_ACTION, Action, decide, steps_for
from models.cases.lifecycle import STEP_FROM, CaseState, Step, stages_from
from models.cases.records import case_by_number, case_or_none, detail, normalise_number, summary
from models.cases.tables import Case, has_consent
from models.org.roster import member_by_slack_id, windows
from models.plans import tasks as plans
from reminders import plans as plan_reminders

# Steps whose form has no input block: a refusal replaces the form instead of marking a field.
NO_INPUT = {Step.start_assessment}
# The field a refusal without a field of its own is shown on.
MAIN_FIELD = {
    Step.reroute: "agency",
    Step.escalate: "reason",
    Step.advance: "stage",
    Step.set_lead: "agency",
    Step.suspend: "reason",
    Step.resume: "note",
    Step.close: "close_reason",
}


def register(app: App) -> None:
    app.action(ids.ACTION_CASE_ACKNOWLEDGE)(acknowledge_case)
    app.action(ids.ACTION_CASE_DETAIL)(show_case_detail)
    app.action(ids.ACTION_CASE_MENU)(choose_step)
    app.action(re.compile(f"^{ids.ACTION_CASE_STEP}"))(click_step)
    app.view(ids.VIEW_CASE_STEP)(submit_step)
    commands.add_slow(app, ("status", "状況"), deferred.later("status", LATER["status"]))
    commands.add_slow(app, ("mine", "自分"), deferred.later("mine", LATER["mine"]))
    records.register(app)  # consent and assessment, opened from the case's detail


def _case(session, case_id: int | None) -> Case | None:
    """None (refused by `require` like a case not theirs) where no such case exists."""
    return case_or_none(session, case_id)


# --- 受付 ---------------------------------------------------------------------------------------


def acknowledge_case(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    # On a channel's card the worker does it: handed over (in memory, no wait) before the ack.
    taken = deferred.take(client, context, body)
    ack()
    if not taken:
        do_acknowledge(client, context, body, int_or_none(body["actions"][0].get("value")))


def acknowledge_work(case_id: int | None) -> Work[str]:
    def work(session, user, now):
        case = _case(session, case_id)
        member = require(session, at=now, user=user, action=Action.acknowledge_case, case=case)
        intake.acknowledge(session, case_id=case.id, member=member, at=now)
        allowed(session, at=now, member=member, action=Action.acknowledge_case, case_id=case.id)
        return t("ack.done", number=case.number)

    return work


def do_acknowledge(client: WebClient, context: dict, body: dict, case_id: int | None) -> None:
    act(client, context, body, acknowledge_work(case_id))


# The clicks on channel cards the worker does (handlers/common/deferred.py).
CLICKS: dict[str, deferred.Builder] = {
    ids.ACTION_CASE_ACKNOWLEDGE: lambda p: acknowledge_work(int_or_none(p.get("value"))),
}


# --- 詳細を見る -----------------------------------------------------------------------------------


def show_case_detail(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """The memo, consent, lead, history and the steps this member may take. Audited."""
    ack()
    case_id = int_or_none(body["actions"][0].get("value"))

    def build(session, user, now):
        case = _case(session, case_id)
        member = require(session, at=now, user=user, action=Action.view_case_detail, case=case)
        view = detail_modal(
            detail(session, case),
            record=casework.case_record(session, case),
            steps=steps_for(session, member, case),
        )
        view.blocks += outreach.case_blocks(session, member, case)  # アウトリーチ
        allowed(session, at=now, member=member, action=Action.view_case_detail, case_id=case.id)
        return view

    open_modal(client, context, body, build)


# --- the steps: open the form ------------------------------------------------------------------


def _parse_menu_value(value: str | None) -> tuple[Step | None, int | None]:
    step, _, case_id = (value or "").partition(":")
    try:
        return Step(step), int_or_none(case_id)
    except ValueError:
        return None, None


def choose_step(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """A step picked from the select on a case's message."""
    ack()
    selected = body["actions"][0].get("selected_option") or {}
    step, case_id = _parse_menu_value(selected.get("value"))
    open_step(client, context, body, step, case_id)


def click_step(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """A step button in the detail modal."""
    ack()
    action = body["actions"][0]
    try:
        step = Step(action["action_id"].removeprefix(ids.ACTION_CASE_STEP))
    except ValueError:
        step = None
    open_step(client, context, body, step, int_or_none(action.get("value")))


def open_step(
    client: WebClient, context: dict, body: dict, step: Step | None, case_id: int | None
) -> None:
    if step is None or case_id is None:
        answer(client, body, t("case.not_found"))
        return
    if step is Step.acknowledge:
        do_acknowledge(client, context, body, case_id)
        return
    if step in (Step.consent, Step.assessment):
        opener = records.open_consent if step is Step.consent else records.open_assessment
        opener(client, context, body, case_id)
        return

    def build(session, user, now):
        case = _case(session, case_id)
        require(session, at=now, user=user, action=STEP_ACTION[step], case=case)
        if CaseState(case.state) not in STEP_FROM[step]:
            raise DomainError("desk.not_now", number=case.number, state=case.state)
        return _form(session, step, case)

    open_modal(client, context, body, build)


def _form(session, step: Step, case: Case):
    s = summary(session, case)
    options: dict = {}
    if step is Step.reroute:
        options["windows"] = [a for a in windows(session) if a.id != case.routed_agency_id]
    elif step is Step.set_lead:
        options["windows"] = windows(session)
        options["lead_agency_id"] = case.lead_agency_id
    elif step is Step.advance:
        options["stages"] = stages_from(case.state)
        options["consent_given"] = has_consent(session, case.id)
    elif step is Step.resume:
        options["suspended_from"] = case.suspended_from
    return step_modal(step, s, **options)


# --- the steps: submit the form ----------------------------------------------------------------


_TEXT = forms.value
# Each step's domain function (models.cases.casework) and what its form gives it:
# keyword -> (input block, reader).
STEPS = {
    Step.reroute: (
        casework.reroute,
        {"agency_id": ("agency", forms.int_value), "reason": ("reason", _TEXT)},
    ),
    Step.escalate: (casework.escalate, {"reason": ("reason", _TEXT)}),
    Step.start_assessment: (casework.start_assessment, {}),
    Step.advance: (casework.advance, {"stage": ("stage", _TEXT), "note": ("note", _TEXT)}),
    Step.set_lead: (
        casework.set_lead,
        {"agency_id": ("agency", forms.int_value), "reason": ("reason", _TEXT)},
    ),
    Step.suspend: (casework.suspend, {"reason": ("reason", _TEXT)}),
    Step.resume: (casework.resume, {"note": ("note", _TEXT)}),
    Step.close: (casework.close, {"reason_code": ("close_reason", _TEXT), "note": ("note", _TEXT)}),
}


def _apply(session, step: Step, case: Case, member, view: dict, at) -> str:
    """Do the step with the form's values; return what to tell the user."""
    if step not in STEPS:
        raise DomainError("case.not_found")
    do, fields = STEPS[step]
    values = {name: read(view, block) for name, (block, read) in fields.items()}
    result = do(session, case=case, member=member, at=at, **values)
    if step in (Step.suspend, Step.close):
        _end_tasks(session, case, at)
    said = {"number": case.number}
    if step in (Step.reroute, Step.set_lead):
        said["agency"] = escape(result.name)  # the agency it went to
    elif step in (Step.advance, Step.resume):
        said["state"] = label("state", result)  # the stage it is in now
    return t(f"desk.done.{step.value}", **said)


def _end_tasks(session, case, at) -> None:
    """A closed or suspended case's plan tasks end with it, and stop being reminded."""
    plan_reminders.cancel_task_reminders(session, plans.end_case_tasks(session, case, at=at), at=at)


def submit_step(ack: Ack, body: dict, client: WebClient, view: dict, context: dict) -> None:
    meta = StepMeta.loads(view.get("private_metadata"))
    if meta is None:
        ack(
            response_action="update", view=notice_modal(t("desk.notice_title"), t("case.not_found"))
        )
        return
    step = Step(meta.step)

    def work(session, user, now):
        case = _case(session, meta.case_id)
        action = STEP_ACTION[step]
        member = require(session, at=now, user=user, action=action, case=case)
        done = _apply(session, step, case, member, view, now)
        allowed(session, at=now, member=member, action=action, case_id=case.id)
        return notice_modal(t("desk.done_title"), done)

    submit(
        ack,
        client,
        context,
        body,
        work,
        title=t("desk.notice_title"),
        field=None if step in NO_INPUT else MAIN_FIELD[step],
    )


# --- /tsunagi status, /tsunagi mine ------------------------------------------------------------


def status_command(body: dict, client: WebClient, context: dict, args: list[str]) -> Reply:
    """`/tsunagi status R8-0001`: the case as far as the user may see it, only to them; looked
    up after the ack (a refusal's audit entry may wait for the write lock).

    A read-only transaction (no write lock is waited for). A missing case and a case the user
    may not see get the same words and the same work (one audit row each), so the answer does
    not tell which receipt numbers exist.
    """
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    number = normalise_number(" ".join(args)) if args else None
    refusal = None
    with transaction(svc.engine, write=False) as session:
        member = member_by_slack_id(session, user)
        case = None
        if number is not None:
            try:
                case = case_by_number(session, number)
            except DomainError:
                case = None
        decision = decide(session, member, Action.view_case_status, case)
        if member is None:
            refusal = (decision.reason, case.id if case else None)
        elif number is None:
            text = t("status.usage")
        elif case is None or not decision:
            reason = "case.not_found" if case is None else decision.reason
            refusal = (reason, case.id if case else None)
        elif decide(session, member, Action.view_case_summary, case):
            text = status_for_team(summary(session, case))
        else:
            text = status_for_referrer(summary(session, case))
    if refusal is not None:
        reason, case_id = refusal
        with transaction(svc.engine) as session:
            said = refuse(
                session,
                at=now,
                slack_id=user,
                member=member,
                action=Action.view_case_status,
                reason=reason,
                case_id=case_id,
            )
        text = said if member is None else t("status.not_found_or_not_yours", number=number)
    return Reply(text)


def mine_command(body: dict, client: WebClient, context: dict, args: list[str]) -> Reply:
    """`/tsunagi mine`: what waits for me, the cases I work on, the memos my agency sent
    (many rows: gathered after the ack)."""
    svc = services(context)
    user = body["user_id"]
    now = svc.clock()
    # Reads only for a member (no queue behind memos being stored); a refusal is written.
    with transaction(svc.engine, write=False) as session:
        member = member_by_slack_id(session, user)
        if member is not None:
            text = mine_text(build_desk(session, member, now=now, page_size=MINE_LINES))
    if member is None:
        with transaction(svc.engine) as session:
            text = refuse(
                session,
                at=now,
                slack_id=user,
                member=None,
                action=Action.list_mine,
                reason="access.not_registered",
            )
    return Reply(text)


def _status_args(args: list[str]) -> list[str]:
    """Only the receipt number is stored; other typed text becomes "-" (the usage is shown)."""
    number = normalise_number(" ".join(args)) if args else None
    return [number] if number else (["-"] if args else [])


# The subcommands the worker answers (handlers/common/deferred.py).
LATER: dict[str, deferred.Later] = {
    "status": deferred.Later(keep=lambda args, known: _status_args(args), work=status_command),
    "mine": deferred.Later(keep=lambda args, known: [], work=mine_command),
}
