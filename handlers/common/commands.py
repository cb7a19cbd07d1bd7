"""`/tsunagi [subcommand]`: one entry; each feature adds its subcommands in its register(app).

Acknowledge first: a subcommand added with `add` answers in its acknowledgement and
may do nothing else (no database, no Slack call: `help`, a usage line). Anything that reads the
database, checks a right or calls Slack is added with `add_slow`: the acknowledgement
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
from weakref import WeakKeyDictionary

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
Placeholder = bool | Callable[[dict, dict, list[str]], bool]  # (body, context, args)

# Each app's subcommands, added by the features' register(app); /tsunagi is registered with the
# first one. Per app, so every app built in one process (the tests build many) has its own.
_TABLES: WeakKeyDictionary[App, dict[str, Subcommand]] = WeakKeyDictionary()


def _table(app: App) -> dict[str, Subcommand]:
    table = _TABLES.get(app)
    if table is None:
        table = _TABLES[app] = {}

        def on_command(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
            dispatch(table, ack, body, client, context)

        app.command(ids.COMMAND)(on_command)
    return table


def subcommands_of(app: App) -> dict[str, Subcommand]:
    """The app's subcommands by name (what /tsunagi dispatches on)."""
    return _table(app)


def add(app: App, names: tuple[str, ...], fn: Subcommand) -> None:
    """`/tsunagi NAME …` answered in its acknowledgement: fn(ack, body, client, context, args).
    Such a subcommand may do nothing else (no database, no Slack call: help, a usage line)."""
    table = _table(app)
    for name in names:
        if name in table:
            raise ValueError(f"/tsunagi {name} is registered twice")
        table[name] = fn


def add_slow(
    app: App, names: tuple[str, ...], work: SlowWork, *, placeholder: Placeholder = True
) -> None:
    """`/tsunagi NAME …` whose work runs after the ack: work(body, client, context, args) ->
    the Reply to send, or None when it answered itself (a form it opened).

    `placeholder` (or placeholder(body, context, args)): whether the ack says 「作成しています…」
    — yes where an answer in words follows, no where a form opens (the form is the answer)."""

    def after_ack(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]):
        working = placeholder(body, context, args) if callable(placeholder) else placeholder
        if working:
            ack(text=t("command.working"))
        else:
            ack()
        reply = work(body, client, context, args)  # Slack has its answer already
        if reply is not None:
            deliver(client, body, reply)

    add(app, names, after_ack)


def register(app: App) -> None:
    add(app, ("help", "ヘルプ"), _help)


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


def dispatch(
    table: dict[str, Subcommand], ack: Ack, body: dict, client: WebClient, context: dict
) -> None:
    sub, args = _words(body)
    handler = table.get(sub)
    if handler is None:
        ack(text=t("help.unknown_command", command=sub[:30]))
        return
    handler(ack, body, client, context, args)


def _help(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]) -> None:
    ack(text=t("help.text"))
