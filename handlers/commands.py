"""`/tsunagi [subcommand]`: one entry, a table of subcommands."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers import ids
from handlers.intake import open_memo
from handlers.replies import refuse
from handlers.services import services
from handlers.texts import t
from models.access import Action, decide
from models.db import transaction
from models.org import member_by_slack_id


def register(app: App) -> None:
    app.command(ids.COMMAND)(on_command)


def on_command(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    words = (body.get("text") or "").split()
    sub = words[0].lower() if words else ""
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        ack(text=t("help.unknown_command", command=sub[:30]))
        return
    handler(ack, body, client, context, words[1:])


def _memo(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]) -> None:
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


def _help(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]) -> None:
    ack(text=t("help.text"))


SUBCOMMANDS = {"": _memo, "memo": _memo, "help": _help, "ヘルプ": _help}
