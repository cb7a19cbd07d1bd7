"""Reaching people of other organisations, for the delivery loop (bot/delivery.py).

1. A referrer whom a DM cannot reach (Slack Connect: `invalid_user_combination`, or a policy
   that refuses DMs across organisations) still hears the receipt number and every status word:
   the notice is passed on, exactly once (models/queues/outbox.pass_on), as
   - the receipt: an ephemeral message in the channel where they clicked the door (they have
     just clicked, so they are there), and if that is refused, a reply under the door;
   - a later status notice (受付, つなぎ直し, 終結): a reply under the door that mentions them —
     Slack delivers an ephemeral message only to someone active in that channel at that moment
     and keeps it for that session only, so days later it would be as good as lost.
   The answer to a click (handlers/common/click_reply.py) goes the same way: an ephemeral message
   where they clicked, else a DM, else an ephemeral message in their agency's door channel.
2. Case cards never go to a channel shared with another organisation: before a notice is posted
   to a channel that receives case cards, `conversations.info` is asked (is_ext_shared), and a
   shared channel is refused with an alert to the admins.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from handlers.common import click_reply
from handlers.common.replies import DM_REFUSED
from models.base.db import transaction
from models.org.doors import case_channels, door_channel_of, reach_for
from models.queues import outbox
from models.queues.tables import Notice

log = logging.getLogger("tsunagi.delivery")

# An ephemeral message that cannot be shown there: try the thread under the door.
EPHEMERAL_REFUSED = frozenset(
    {"user_not_in_channel", "channel_not_found", "not_in_channel", "is_archived", "user_not_found"}
)
REFERRER_KINDS = ("memo_receipt", "referrer_update", "referrer_status")
REACH_KIND = "referrer_reach"
SHARED_REFUSED = "channel_externally_shared"  # the error of a refused case-channel notice
SHARED_TTL = 600.0  # seconds a channel's sharing is remembered


def _next_way(notice: Notice, error: str) -> str | None:
    """How to say it next ("ephemeral" / "thread"), or None if this failure is not ours."""
    if notice.kind in REFERRER_KINDS and notice.target[:1] in "UW" and error in DM_REFUSED:
        return "ephemeral" if notice.kind == "memo_receipt" else "thread"
    mode = notice.payload.get("mode")
    if notice.kind == REACH_KIND and mode == "ephemeral" and error in EPHEMERAL_REFUSED:
        return "thread"
    return None


def _next_answer_way(notice: Notice, error: str) -> str | None:
    """The next way of answering a click (handlers/common/click_reply.py), or None."""
    way = notice.payload.get("way")
    if way == "ephemeral" and error in EPHEMERAL_REFUSED:
        return "dm"
    if way == "dm" and error in DM_REFUSED:
        return "door"
    return None  # the door was the last way


def _pass_on_answer(
    engine: Engine, notice: Notice, *, worker: str, error: str, at: datetime
) -> bool:
    way = _next_answer_way(notice, error)
    if way is None:
        return False
    with transaction(engine) as session:
        channel = door_channel_of(session, notice.target) if way == "door" else None
        if way == "door" and channel is None:
            return False
        then = {
            "key": f"{notice.key}:{way}"[:200],
            "kind": click_reply.KIND,
            "target": notice.target,
            "payload": {**notice.payload, "way": way, "channel": channel},
        }
        return outbox.pass_on(session, notice.id, worker=worker, error=error, then=then, at=at)


def pass_on(engine: Engine, notice: Notice, *, worker: str, error: str, at: datetime) -> bool:
    """Pass a referrer's notice, or the answer to a click, on to the next way of reaching them.
    False: there is none (the caller gives up as for any failure, and the admins are told)."""
    if notice.kind == click_reply.KIND:
        passed = _pass_on_answer(engine, notice, worker=worker, error=error, at=at)
        if passed:
            log.info("notice %s (%s) passed on: %s", notice.id, notice.kind, error)
        return passed
    way = _next_way(notice, error)
    if way is None:
        return False
    with transaction(engine) as session:
        p = notice.payload
        found = reach_for(session, p["case_id"])
        if found is None or (way == "thread" and found.door_ts is None):
            return False
        of = p.get("of", notice.kind)
        then = {
            "key": f"{notice.key}:{way}",
            "kind": REACH_KIND,
            "target": found.channel,
            "payload": {
                "case_id": p["case_id"],
                "of": of,
                "event": p.get("event"),
                "user": found.user,
                "mode": way,
                "thread_ts": found.door_ts,
            },
        }
        passed = outbox.pass_on(session, notice.id, worker=worker, error=error, then=then, at=at)
    if passed:
        log.info("notice %s (%s) passed on as %s: %s", notice.id, notice.kind, way, error)
    return passed


class SharedChannels:
    """Which of the town's case channels are shared with another organisation (remembered for a
    few minutes; asked again after). A channel that cannot be asked is not blocked: `tsunagi
    check` reports it, and the post itself fails if the bot cannot see the channel."""

    def __init__(self, client: WebClient, *, ttl: float = SHARED_TTL) -> None:
        self.client = client
        self.ttl = ttl
        self._known: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def externally_shared(self, channel: str) -> bool:
        now = time.monotonic()
        with self._lock:
            known = self._known.get(channel)
        if known is not None and now - known[0] < self.ttl:
            return known[1]
        try:
            info = self.client.conversations_info(channel=channel)["channel"]
        except SlackApiError as exc:
            log.warning("sharing of a channel could not be read: %s", exc.response.get("error"))
            return False
        shared = bool(info.get("is_ext_shared"))
        with self._lock:
            self._known[channel] = (now, shared)
        return shared

    def refuses(self, engine: Engine, notice: Notice) -> bool:
        """True when `notice` would put case information in a channel shared with another
        organisation."""
        if notice.target[:1] not in "CG":
            return False
        with transaction(engine, write=False) as session:
            protected = notice.target in case_channels(session)
        return protected and self.externally_shared(notice.target)
