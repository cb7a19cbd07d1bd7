"""The door's buttons, and the identity check in front of every listener.

- 「つなぎメモを書く」: an authorised partner gets the same memo form as `/tsunagi` (it remembers
  the door's channel, so the receipt can come back there); anyone else a polite note, only to
  them, saying whom to ask.
- 「送ったメモの状況」: the memos their agency sent, receipt number and status word only.
Buttons and the modals they open are what reach people of another organisation in a Slack
Connect channel (no slash command or shortcut does), and single-channel guests.
"""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers.common import forms, ids
from handlers.common.replies import tell
from handlers.common.services import services
from handlers.intake.views import memo_modal
from handlers.partners.doors import town_name
from handlers.partners.identity import check_identity
from handlers.partners.views import not_registered, sent_status_modal
from models.base.db import transaction
from models.cases.access import Action, decide
from models.desk.sections import sent_memos_page
from models.ops import audit
from models.org.doors import door_in
from models.org.roster import coordinator_agency, districts, member_by_slack_id, windows

STATUS_LINES = 20


def register(app: App) -> None:
    app.middleware(check_identity)
    app.action(ids.ACTION_DOOR_MEMO)(open_memo_from_door)
    app.action(ids.ACTION_DOOR_STATUS)(show_sent_from_door)


def _clicked_in(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _refused(svc, body: dict, client: WebClient, *, member, action: Action, reason: str) -> None:
    """Audit the refusal and tell only the clicker, where they clicked, whom to ask."""
    user = body["user"]["id"]
    with transaction(svc.engine) as session:
        audit.record(
            session,
            at=svc.clock(),
            actor_slack_id=user,
            actor_member_id=member.id if member else None,
            action=action.value,
            allowed=False,
            detail=reason,
        )
        coordinator = coordinator_agency(session)
        text = not_registered(
            town=town_name(session), coordinator=coordinator.name if coordinator else ""
        )
    tell(client, body, text)


def open_memo_from_door(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    svc = services(context)
    channel = _clicked_in(body)
    with transaction(svc.engine, write=False) as session:
        member = member_by_slack_id(session, body["user"]["id"])
        decision = decide(session, member, Action.send_memo)
        if decision:
            view = memo_modal(windows=windows(session), districts=districts(session))
            door = door_in(session, channel)
    if not decision:
        _refused(svc, body, client, member=member, action=Action.send_memo, reason=decision.reason)
        return
    view["private_metadata"] = forms.metadata(door=door.channel if door else None)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def show_sent_from_door(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    svc = services(context)
    with transaction(svc.engine, write=False) as session:
        member = member_by_slack_id(session, body["user"]["id"])
        decision = decide(session, member, Action.list_mine)
        if decision:
            page = sent_memos_page(session, member, page=0, size=STATUS_LINES)
    if not decision:
        _refused(svc, body, client, member=member, action=Action.list_mine, reason=decision.reason)
        return
    view = sent_status_modal(list(page.items), page.total)
    client.views_open(trigger_id=body["trigger_id"], view=view)
