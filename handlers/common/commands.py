"""`/tsunagi [subcommand]`: one entry; each feature registers its subcommands here.

Acknowledge first: a subcommand registered with `subcommand` answers in its acknowledgement and
may do nothing else (no database, no Slack call: `help`, a usage line). Anything that reads the
database, checks a right or calls Slack is registered with `slow_subcommand`: the acknowledgement
goes back at once — saying 「作成しています…」 where an answer in words follows, empty where a
form opens — and the work runs after it in the same listener (Bolt runs listeners in its worker
threads and answers Slack as soon as ack() is called, in HTTP and Socket Mode alike; no lazy
listener, so nothing of the request is deep-copied). Its answer reaches the person as an
ephemeral message where the command was typed, or a DM where the bot cannot post; a form is
opened with the command's trigger_id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.common import ids
from handlers.common.texts import t

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[dict] | None = None


Subcommand = Callable[[Ack, dict, WebClient, dict, list[str]], None]
SlowWork = Callable[[dict, WebClient, dict, list[str]], Reply | None]
Placeholder = bool | Callable[[list[str]], bool]
SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(*names: str) -> Callable[[Subcommand], Subcommand]:
    """Register a `/tsunagi NAME …` handler: fn(ack, body, client, context, args)."""

    def add(fn: Subcommand) -> Subcommand:
        for name in names:
            if name in SUBCOMMANDS:
                raise ValueError(f"/tsunagi {name} is registered twice")
            SUBCOMMANDS[name] = fn
        return fn

    return add


def slow_subcommand(*names: str, placeholder: Placeholder = True) -> Callable[[SlowWork], SlowWork]:
    """Register a `/tsunagi NAME …` whose work runs after the ack: fn(body, client, context,
    args) -> the Reply to send, or None when it answered itself (a form it opened).

    `placeholder` (or placeholder(args)): whether the ack says 「作成しています…」 — yes where an
    answer in words follows, no where a form opens (the form is the answer)."""

    def add(fn: SlowWork) -> SlowWork:
        def after_ack(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]):
            working = placeholder(args) if callable(placeholder) else placeholder
            if working:
                ack(text=t("command.working"))
            else:
                ack()
            reply = fn(body, client, context, args)  # Slack has its answer already
            if reply is not None:
                deliver(client, body, reply)

        subcommand(*names)(after_ack)
        return fn

    return add


def register(app: App) -> None:
    app.command(ids.COMMAND)(on_command)


def _words(body: dict) -> tuple[str, list[str]]:
    words = (body.get("text") or "").split()
    return (words[0].lower() if words else ""), words[1:]


def deliver(client: WebClient, body: dict, reply: Reply) -> None:
    """Only to the person who typed the command: ephemeral in that channel, else a DM."""
    user = body["user_id"]
    try:
        client.chat_postEphemeral(
            channel=body.get("channel_id") or user, user=user, text=reply.text, blocks=reply.blocks
        )
        return
    except SlackApiError as exc:
        log.info("ephemeral answer refused (%s): sending it as a DM", exc.response.get("error"))
    try:
        client.chat_postMessage(channel=user, text=reply.text, blocks=reply.blocks)
    except SlackApiError as exc:
        log.warning("could not answer the command: %s", exc.response.get("error"))


def on_command(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    sub, args = _words(body)
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        ack(text=t("help.unknown_command", command=sub[:30]))
        return
    handler(ack, body, client, context, args)


@subcommand("help", "ヘルプ")
def _help(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]) -> None:
    ack(text=t("help.text"))
