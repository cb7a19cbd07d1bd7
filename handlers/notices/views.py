"""What an outbox notice becomes: a Slack message, the update of one, or a file — and the words of
the delivery failure alert.

Notices are rendered at send time, from the database as it is then, so a message that waited
(outage, 429) still tells the truth: each feature's reader (handlers/<feature>/notices.py) reads
and hands plain data to its pure view; handlers/notices/kinds.py is the table of every kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.common.blocks import section
from handlers.common.mrkdwn import escape
from handlers.common.texts import t


@dataclass(frozen=True)
class Upload:
    """A file the notice shares instead of posting a message (files_upload_v2)."""

    content: bytes
    filename: str
    title: str
    alt_text: str  # read aloud by screen readers; Slack keeps at most 1000 characters


@dataclass(frozen=True)
class Rendered:
    text: str
    blocks: list[dict]
    update_ts: str | None = None  # set: chat.update of this message instead of a new post
    channel: str | None = None  # the channel of the message updated, or of an ephemeral one
    file: Upload | None = None  # set: upload this file to the target (text: its comment, if any)
    ephemeral_user: str | None = None  # set: chat.postEphemeral to this user in the target
    thread_ts: str | None = None  # set: a reply in this thread of the target


class NotReady(Exception):
    """The notice depends on another that has not been sent yet; try again shortly."""


class Obsolete(Exception):
    """Nothing to send any more (e.g. the message to update was never posted)."""


def click_answer(
    *, text: str, user: str, way: str, channel: str | None, blocks: list[dict] | None = None
) -> Rendered:
    """The answer to a click, only to the person who clicked (handlers/common/click_reply.py):
    in the channel where they clicked or in their agency's door channel, else by DM. `blocks`:
    the answer's own (a list with buttons), built when it was queued."""
    ephemeral = way != "dm"
    return Rendered(
        text=text,
        blocks=blocks or [section(text).to_dict()],
        channel=channel if ephemeral else None,
        ephemeral_user=user if ephemeral else None,
    )


def delivery_failed(*, kind: str, target: str, error: str) -> Rendered:
    """To the coordinator: a notice could not be delivered (kind, where, Slack's error)."""
    body = t("alert.delivery_failed", kind=kind, target=target, error=escape(error))
    return Rendered(
        text=t("alert.delivery_failed_text", kind=kind), blocks=[section(body).to_dict()]
    )


def socket_alert(*, back: bool, since: str, minutes: int) -> Rendered:
    """To the admins: the Socket Mode connection has been down a while (or is back)."""
    kind = "socket_back" if back else "socket_down"
    body = t(f"alert.{kind}", since=since, minutes=minutes)
    return Rendered(text=t(f"alert.{kind}_text"), blocks=[section(body).to_dict()])
