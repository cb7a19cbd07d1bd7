"""`/tsunagi [subcommand]`: one entry; each feature registers its subcommands here.

A quick subcommand answers in its acknowledgement. A slow one (figures, many rows) is registered
with `slow_subcommand`: the acknowledgement only says 「作成しています…」 and the answer follows
from a Bolt lazy listener (a thread after the ack, in HTTP and Socket Mode alike) as an ephemeral
message where the command was typed, or a DM where the bot cannot post.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import ids
from handlers.texts import t

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[dict] | None = None


Subcommand = Callable[[Ack, dict, WebClient, dict, list[str]], None]
SlowWork = Callable[[dict, WebClient, dict, list[str]], Reply]
SUBCOMMANDS: dict[str, Subcommand] = {}
SLOW: dict[str, SlowWork] = {}


def subcommand(*names: str) -> Callable[[Subcommand], Subcommand]:
    """Register a `/tsunagi NAME …` handler: fn(ack, body, client, context, args)."""

    def add(fn: Subcommand) -> Subcommand:
        for name in names:
            if name in SUBCOMMANDS:
                raise ValueError(f"/tsunagi {name} is registered twice")
            SUBCOMMANDS[name] = fn
        return fn

    return add


def slow_subcommand(*names: str) -> Callable[[SlowWork], SlowWork]:
    """Register a `/tsunagi NAME …` whose answer is computed after the ack: fn(body, client,
    context, args) -> Reply."""

    def add(fn: SlowWork) -> SlowWork:
        subcommand(*names)(_placeholder)
        for name in names:
            SLOW[name] = fn
        return fn

    return add


def _placeholder(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]) -> None:
    ack(text=t("command.working"))


def register(app: App) -> None:
    app.command(ids.COMMAND)(ack=on_command, lazy=[answer_slow])


def _words(body: dict) -> tuple[str, list[str]]:
    words = (body.get("text") or "").split()
    return (words[0].lower() if words else ""), words[1:]


def answer_slow(body: dict, client: WebClient, context: dict) -> None:
    """The lazy half: runs after the ack; quick subcommands have answered already."""
    sub, args = _words(body)
    work = SLOW.get(sub)
    if work is None:
        return
    reply = work(body, client, context, args)
    deliver(client, body, reply)


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
