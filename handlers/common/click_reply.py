"""The answer to a click on a channel message, or to a subcommand the worker answers, goes
through the outbox.

A click on a card's button (引き受ける, 完了にする) is answered only to the person who clicked.
The worker queues that answer in the action's own transaction (handlers/common/deferred.py), so
it exists exactly when the action was done, and the delivery sends it: through a Slack outage or
a 429 it waits instead of being lost.

Where it goes (bot/partners/reach.py passes it on when Slack refuses one way):
1. `ephemeral`: only to them, in the channel where they clicked;
2. `dm`: a direct message, when the ephemeral message cannot be shown there;
3. `door`: only to them in their agency's door channel, when the DM is refused (a person of
   another organisation).

The notice's target is the person, not the channel: their answers keep their order and do not
queue behind the channel's own posts (a message a second per channel).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session

from models.queues import outbox

KIND = "click_reply"


def clicked_channel(body: dict) -> str | None:
    """The channel of the message the user clicked on, if the click was on a message."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return None
    return container.get("channel_id") or (body.get("channel") or {}).get("id")


def click_of(body: dict) -> str:
    """The click itself (Slack's action_ts): its answer's key, and the stored click's."""
    action = (body.get("actions") or [{}])[0]
    return str(action.get("action_ts") or uuid.uuid4().hex)


def enqueue_answer(
    session: Session,
    *,
    user: str,
    channel: str,
    click: str,
    text: str,
    at: datetime,
    blocks: list[dict] | None = None,
) -> bool:
    """Queue `text` (and `blocks`, where the answer has buttons) as the answer to `user`'s
    click `click` in `channel`, once per click."""
    payload = {"text": text, "channel": channel, "way": "ephemeral"}
    if blocks:
        payload["blocks"] = blocks
    return outbox.enqueue(
        session, key=f"reply:{user}:{click}"[:200], kind=KIND, target=user, payload=payload, at=at
    )
