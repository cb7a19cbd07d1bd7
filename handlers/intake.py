"""つなぎメモ: open the form, take the submission, and the team's 詳細を見る / 受付する."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers import ids
from handlers.commands import subcommand
from handlers.replies import message_for, refuse, tell
from handlers.services import services
from handlers.texts import t
from handlers.views.cases import detail_modal
from handlers.views.common import notice_modal
from handlers.views.memo import memo_modal, read_memo, sent_modal
from models import audit, intake
from models.access import Action, decide
from models.cases import case_by_id, detail
from models.db import transaction
from models.errors import DomainError
from models.org import Agency, districts, member_by_slack_id, windows


def register(app: App) -> None:
    app.shortcut(ids.SHORTCUT_MEMO)(open_memo_from_shortcut)
    app.shortcut(ids.SHORTCUT_MEMO_FROM_MESSAGE)(open_memo_from_message)
    app.view(ids.VIEW_MEMO)(submit_memo)
    app.action(ids.ACTION_CASE_ACKNOWLEDGE)(acknowledge_case)
    app.action(ids.ACTION_CASE_DETAIL)(show_case_detail)


def open_memo(client: WebClient, context: dict, *, user: str, trigger_id: str, prefill=None):
    """Open the memo form for a registered member, or a polite refusal for anyone else."""
    svc = services(context)
    with transaction(svc.engine) as session:
        member = member_by_slack_id(session, user)
        decision = decide(session, member, Action.send_memo)
        if decision:
            view = memo_modal(
                windows=windows(session), districts=districts(session), prefill=prefill
            )
        else:
            text = refuse(
                session,
                at=svc.clock(),
                slack_id=user,
                member=member,
                action=Action.send_memo,
                reason=decision.reason,
            )
            view = notice_modal(t("access.not_registered_title"), text)
    client.views_open(trigger_id=trigger_id, view=view)


@subcommand("", "memo", "メモ")
def memo_command(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]) -> None:
    """`/tsunagi`: strangers are answered in the command's own reply, members get the form."""
    svc = services(context)
    user = body["user_id"]
    with transaction(svc.engine) as session:
        member = member_by_slack_id(session, user)
        decision = decide(session, member, Action.send_memo)
        if not decision:
            text = refuse(
                session,
                at=svc.clock(),
                slack_id=user,
                member=member,
                action=Action.send_memo,
                reason=decision.reason,
            )
    if not decision:
        ack(text=text)
        return
    ack()
    open_memo(client, context, user=user, trigger_id=body["trigger_id"])


def open_memo_from_shortcut(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    open_memo(client, context, user=body["user"]["id"], trigger_id=body["trigger_id"])


def open_memo_from_message(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    prefill = (body.get("message") or {}).get("text")
    open_memo(
        client, context, user=body["user"]["id"], trigger_id=body["trigger_id"], prefill=prefill
    )


def submit_memo(ack: Ack, body: dict, view: dict, context: dict) -> None:
    """Validate, store (one transaction), then answer; the notices go out after the answer."""
    svc = services(context)
    user = body["user"]["id"]
    memo = read_memo(view)
    now = svc.clock()
    with transaction(svc.engine) as session:
        member = member_by_slack_id(session, user)
        decision = decide(session, member, Action.send_memo)
        if not decision:
            text = refuse(
                session,
                at=now,
                slack_id=user,
                member=member,
                action=Action.send_memo,
                reason=decision.reason,
            )
            answer = {"response_action": "update", "view": notice_modal(t("memo.title"), text)}
        elif errors := intake.validate(session, memo):
            answer = {
                "response_action": "errors",
                "errors": {field: t(code) for field, code in errors.items()},
            }
        else:
            answer = None
    if answer is not None:
        ack(**answer)
        return
    try:
        with transaction(svc.engine) as session:
            case = intake.submit(session, memo=memo, referrer=member, view_id=view["id"], at=now)
            agency = session.get(Agency, case.routed_agency_id)
    except intake.DuplicateSubmission:
        with transaction(svc.engine) as session:
            case = intake.existing_for_view(session, view["id"])
            agency = session.get(Agency, case.routed_agency_id)
    ack(response_action="update", view=sent_modal(number=case.number, agency_name=agency.name))
    svc.kick_delivery()


def acknowledge_case(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case = case_by_id(session, int(body["actions"][0]["value"]))
            decision = decide(session, member, Action.acknowledge_case, case)
            if not decision:
                refused = refuse(
                    session,
                    at=now,
                    slack_id=user,
                    member=member,
                    action=Action.acknowledge_case,
                    reason=decision.reason,
                    case_id=case.id,
                )
            else:
                refused = None
                intake.acknowledge(session, case_id=case.id, member=member, at=now)
                audit.record(
                    session,
                    at=now,
                    actor_slack_id=user,
                    actor_member_id=member.id,
                    action=Action.acknowledge_case,
                    case_id=case.id,
                    allowed=True,
                )
                number = case.number
    except DomainError as exc:
        tell(client, body, message_for(exc))
        return
    if refused:
        tell(client, body, refused)
        return
    svc.kick_delivery()
    tell(client, body, t("ack.done", number=number))


def show_case_detail(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    svc = services(context)
    user = body["user"]["id"]
    now = svc.clock()
    try:
        with transaction(svc.engine) as session:
            member = member_by_slack_id(session, user)
            case = case_by_id(session, int(body["actions"][0]["value"]))
            decision = decide(session, member, Action.view_case_detail, case)
            if decision:
                view = detail_modal(detail(session, case))
                audit.record(
                    session,
                    at=now,
                    actor_slack_id=user,
                    actor_member_id=member.id,
                    action=Action.view_case_detail,
                    case_id=case.id,
                    allowed=True,
                )
            else:
                view = None
                refused = refuse(
                    session,
                    at=now,
                    slack_id=user,
                    member=member,
                    action=Action.view_case_detail,
                    reason=decision.reason,
                    case_id=case.id,
                )
    except DomainError as exc:
        tell(client, body, message_for(exc))
        return
    if view is None:
        tell(client, body, refused)
        return
    client.views_open(trigger_id=body["trigger_id"], view=view)
