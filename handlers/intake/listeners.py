"""つなぎメモ: open the form and take the submission (the team's buttons on the case:
handlers/desk/listeners.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from handlers.common import commands, ids
from handlers.common.blocks import notice_modal
from handlers.common.replies import busy_errors, refuse
from handlers.common.services import services
from handlers.common.texts import t
from handlers.intake import writer
from handlers.intake.prefill import readable
from handlers.intake.views import memo_modal, read_memo, sent_modal
from models.base.db import LONG_WAIT, transaction
from models.base.errors import Busy, DomainError
from models.cases import memo as intake
from models.cases.access import Action, decide
from models.cases.destinations import intake_org
from models.cases.memo import LIMITS, MemoInput, NotStored
from models.org.identities import copy_of, roster
from models.org.roster import member_by_slack_id
from models.org.tables import Agency, Member


def register(app: App) -> None:
    app.shortcut(ids.SHORTCUT_MEMO)(open_memo_from_shortcut)
    app.shortcut(ids.SHORTCUT_MEMO_FROM_MESSAGE)(open_memo_from_message)
    app.view(ids.VIEW_MEMO)(submit_memo)
    # 受付する / 詳細を見る on the case's message: handlers/desk/listeners.py
    commands.add(app, ("", "memo", "メモ"), memo_command)


def open_memo(client: WebClient, context: dict, *, user: str, trigger_id: str, message=None):
    """Open the memo form for a registered member, or a polite refusal for anyone else.

    `message`: the Slack message of a message shortcut, read as its writer wrote it (names
    looked up within a short budget: the trigger id lasts 3 seconds)."""
    svc = services(context)
    refusal = _refusal(svc, user)
    if refusal is not None:
        view = notice_modal(t("access.not_registered_title"), t(refusal.reason))
        try:
            client.views_open(trigger_id=trigger_id, view=view)  # first: the trigger lasts 3 s
        finally:
            _audit(svc, user, refusal)
        return
    prefill, was_cut = None, False
    if message:
        prefill, was_cut = readable(client, message, limit=LIMITS["narrative"])
    _open_form(client, svc, trigger_id=trigger_id, prefill=prefill or None, cut=was_cut)


def _open_form(
    client: WebClient, svc, *, trigger_id: str, prefill: str | None = None, cut: bool = False
) -> None:
    # The windows and districts change only when the org file is loaded: read from memory
    # (models/org/identities.py), so opening the form runs no query.
    org = copy_of(svc.engine, intake_org)
    view = memo_modal(windows=org.windows, districts=org.districts, prefill=prefill, cut=cut)
    client.views_open(trigger_id=trigger_id, view=view)


@dataclass(frozen=True)
class _Refusal:
    member: Member | None
    reason: str  # a text's key
    at: datetime


def _refusal(svc, user: str) -> _Refusal | None:
    """None if `user` may send memos; else why not (to answer first, then `_audit`).

    Every active member may: one in the in-memory roster is let through without a query (the
    submission checks again). The check only reads, so members opening the form do not queue
    behind memos being stored, and a refusal's answer waits for no lock.
    """
    if user in roster(svc.engine).members:
        return None
    with transaction(svc.engine, write=False) as session:
        member = member_by_slack_id(session, user)
        decision = decide(session, member, Action.send_memo)
    if decision:
        return None
    return _Refusal(member, decision.reason, svc.clock())


def _audit(svc, user: str, refusal: _Refusal) -> None:
    """A refusal already answered, written to the audit log (nobody waits for it now: the
    background's long lock wait, so a busy moment does not lose the row)."""
    with transaction(svc.engine, wait=LONG_WAIT) as session:
        refuse(
            session,
            at=refusal.at,
            slack_id=user,
            member=refusal.member,
            action=Action.send_memo,
            reason=refusal.reason,
        )


def _audited_refusal(svc, user: str, *, at, member, reason: str) -> str:
    """The refusal to send a memo, written to the audit log; its explanation."""
    with transaction(svc.engine) as session:
        return refuse(
            session, at=at, slack_id=user, member=member, action=Action.send_memo, reason=reason
        )


def memo_command(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]) -> None:
    """`/tsunagi`: a member of the roster gets the form at once (the submission checks again);
    anyone else is answered in the command's own reply."""
    svc = services(context)
    user = body["user_id"]
    refusal = _refusal(svc, user)  # a member: from memory, no query before the ack
    if refusal is not None:
        ack(text=t(refusal.reason))  # answered first; the audit row's write may wait for a lock
        _audit(svc, user, refusal)
        return
    ack()
    _open_form(client, svc, trigger_id=body["trigger_id"])


def open_memo_from_shortcut(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    open_memo(client, context, user=body["user"]["id"], trigger_id=body["trigger_id"])


def open_memo_from_message(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()  # first: the names in the message are looked up after (handlers/intake/prefill.py)
    open_memo(
        client,
        context,
        user=body["user"]["id"],
        trigger_id=body["trigger_id"],
        message=body.get("message") or {},
    )


def submit_memo(ack: Ack, body: dict, view: dict, context: dict) -> None:
    """Check, validate and route by reads, then store in one short write, then answer; notices
    go out after."""
    svc = services(context)
    try:
        answer = _take_memo(svc, user=body["user"]["id"], memo=read_memo(view), view=view)
    except Busy:  # nothing stored; the form keeps its input for a second 送信
        answer = {"response_action": "errors", "errors": busy_errors(view)}
    ack(**answer)
    if answer["response_action"] == "update":
        svc.kick_delivery()


def _take_memo(svc, *, user: str, memo: MemoInput, view: dict) -> dict:
    """The answer to a submission: a refusal, inline errors, or the receipt (memo stored).

    Who sends and where the memo goes come from the in-memory copies of the organisation (they
    change only with the org file; models/org/identities.py); the writer stores it with the
    memos sent at the same moment, and the database confirms the sender as it stores."""
    at = svc.clock()
    referrer = _referrer(svc, user)
    if referrer is None:
        return _refused(svc, user, at)
    try:
        routed = intake.route_memo(copy_of(svc.engine, intake_org), memo=memo, referrer=referrer)
    except DomainError as error:
        if error.code != intake.INVALID:
            raise
        fields = error.params["fields"]
        return {"response_action": "errors", "errors": {f: t(c) for f, c in fields.items()}}
    outcome = writer.store(svc, routed, view)
    if outcome is NotStored.not_registered:  # removed from the roster a moment ago
        return _refused(svc, user, at)
    if outcome is NotStored.duplicate:  # this view was stored already (sent twice)
        with transaction(svc.engine, write=False) as session:
            stored = intake.existing_for_view(session, view["id"])
            return _sent(stored.number, _agency_name(session, stored))
    return _sent(outcome.number, routed.target.name)


def _referrer(svc, user: str) -> intake.Referrer | None:
    """The sender as the roster's copy knows them; one it does not know is looked up (a member
    added by `tsunagi org load` a moment ago). None: not an active member."""
    known = roster(svc.engine).members.get(user)
    if known is not None:
        return intake.Referrer(known.member_id, known.agency_id, user)
    with transaction(svc.engine, write=False) as session:
        member = member_by_slack_id(session, user)
        return None if member is None else intake.Referrer.of(member)


def _refused(svc, user: str, at) -> dict:
    """The sender is not an active member (the database said so): the refusal, written to the
    audit log, in the form."""
    text = _audited_refusal(svc, user, at=at, member=None, reason="access.not_registered")
    return {"response_action": "update", "view": notice_modal(t("memo.title"), text)}


def _agency_name(session: Session, case) -> str:
    return session.get(Agency, case.routed_agency_id).name


def _sent(number: str, agency_name: str) -> dict:
    return {"response_action": "update", "view": sent_modal(number=number, agency_name=agency_name)}
