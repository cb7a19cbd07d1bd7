"""`/tsunagi [subcommand]`: one entry; each feature registers its subcommands here."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers import ids
from handlers.texts import t

Subcommand = Callable[[Ack, dict, WebClient, dict, list[str]], None]
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


@subcommand("help", "ヘルプ")
def _help(ack: Ack, body: dict, client: WebClient, context: dict, args: list[str]) -> None:
    ack(text=t("help.text"))
