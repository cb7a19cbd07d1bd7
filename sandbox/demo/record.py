"""What the demo recorded: the people, the conversations, and every entry in time order.

Plain data, no Slack and no database: the stage (sandbox/demo/stage.py) fills it from the Slack
stand-in and from the answers to its signed requests; the renderer (sandbox/demo/render.py) turns
it into one HTML page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    message = "message"  # chat.postMessage: in a channel or a DM
    update = "update"  # chat.update of a message posted earlier
    file = "file"  # a file shared into a conversation (the Link-net chart)
    ephemeral = "ephemeral"  # chat.postEphemeral: only one person sees it
    reply = "reply"  # the bot's answer to a slash command (only the person sees it)
    modal = "modal"  # views.open / views.push
    modal_update = "modal_update"  # views.update, or a submission answered with a new view
    submitted = "submitted"  # a modal as the person filled it in and sent it
    home = "home"  # views.publish of the Home tab
    action = "action"  # what the person did (typed a command, clicked a button …)


PERSONAL_KINDS = {
    Kind.ephemeral,
    Kind.reply,
    Kind.modal,
    Kind.modal_update,
    Kind.submitted,
    Kind.home,
    Kind.action,
}


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    agency_key: str
    agency: str  # the agency's name
    roles: tuple[str, ...]  # role labels, in Japanese
    conversations: tuple[str, ...]  # the channels this person is a member of


@dataclass(frozen=True)
class Conversation:
    id: str
    name: str  # shown as #name (channels) or as the DM partner
    private: bool = False


@dataclass(frozen=True)
class Upload:
    filename: str
    title: str
    alt_text: str
    content: bytes
    comment: str = ""


@dataclass
class Entry:
    at: datetime
    kind: Kind
    conversation: str | None = None  # message, update, file, ephemeral
    user: str | None = None  # the one person who sees it (PERSONAL_KINDS)
    text: str = ""
    blocks: list[dict] | None = None
    ts: str | None = None
    thread_ts: str | None = None
    view: dict | None = None
    view_id: str | None = None
    values: dict | None = None  # {block_id: value} as submitted
    errors: dict | None = None  # {block_id: message} the bot answered
    upload: Upload | None = None
    pushed: bool = False  # views.push: on top of another modal

    def seen_by(self, person: Person) -> bool:
        if self.kind in PERSONAL_KINDS:
            return self.user == person.user_id
        if self.conversation is None:
            return False
        return self.conversation in person.conversations or self.conversation == dm_of(
            person.user_id
        )


@dataclass(frozen=True)
class Scene:
    at: datetime
    text: str
    people: tuple[str, ...] = ()  # user ids taking part


@dataclass
class Recording:
    title: str
    period: str  # e.g. 2026年11月30日（月）〜12月4日（金）
    people: list[Person]
    conversations: dict[str, Conversation]
    entries: list[Entry] = field(default_factory=list)
    scenes: list[Scene] = field(default_factory=list)
    bot_name: str = "tsunagi"

    def names(self) -> dict[str, str]:
        return {p.user_id: p.name for p in self.people}


def dm_of(user_id: str) -> str:
    """The id the Slack stand-in gives the bot's direct message with a user."""
    return "D" + user_id
