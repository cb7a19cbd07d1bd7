"""Keeping the door in each partner agency's channel: posted once, pinned, edited in place when
its text changes, left alone when it does not (`tsunagi door post`, and at every start).

Idempotent: the door's ts and the hash of its text are kept in the database (PartnerDoor). If a
post reached Slack but its ts was never written (a crash), the pinned door is found again
(`pins.list`) before anything is posted; a door deleted in Slack is posted anew.

One process at a time: a sync holds a lease in the database (models/queues/lease.claim_named),
renewed before each door, so two workers (or a worker and `tsunagi door post`) never both find
a door missing and post two. The other one is told `DoorsBusy`.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import Session

from handlers.common import forms, ids
from handlers.partners.views import DOOR_METADATA_TYPE, digest, door_message
from models.base.db import transaction
from models.org.doors import DOORS_LEASE, door_agencies, door_in, door_of, record_door
from models.org.roster import setting
from models.org.tables import OrgSetting
from models.queues import lease

log = logging.getLogger("tsunagi.partners")

LEASE_SECONDS = 300.0  # a sync that died holding the lease blocks the next one this long at most


class DoorsBusy(Exception):
    """Another process is keeping the doors right now."""


def door_channel(session: Session, view: dict) -> str | None:
    """The door's channel a memo form was opened from, if the bot keeps a door there (the
    form's metadata is not trusted: a channel without a door is ignored)."""
    channel = forms.read_metadata(view.get("private_metadata")).get("door")
    door = door_in(session, channel) if isinstance(channel, str) else None
    return door.channel if door is not None else None


def town_name(session: Session) -> str:
    return str((setting(session, "town", {}) or {}).get("name") or "")


@dataclass(frozen=True)
class Outcome:
    agency: str  # the agency's key
    channel: str
    result: str  # posted / updated / unchanged / failed
    error: str | None = None


def _wanted(engine: Engine, agency_key: str | None) -> list[tuple]:
    with transaction(engine, write=False) as session:
        town = town_name(session)
        return [
            (a.id, a.key, a.channel, *door_message(agency_name=a.name, town=town))
            for a in door_agencies(session, agency_key)
        ]


def sync_doors(
    engine: Engine, client: WebClient, *, agency_key: str | None = None
) -> list[Outcome]:
    """Post, edit or leave each door; one agency when `agency_key` is given. DoorsBusy when
    another process is keeping the doors (nothing done here)."""
    holder = f"doors/{uuid.uuid4().hex[:12]}"
    if not _claim(engine, holder):
        raise DoorsBusy()
    outcomes: list[Outcome] = []
    try:
        for entry in _wanted(engine, agency_key):
            if outcomes and not _claim(engine, holder):  # fenced: the lease is still ours
                log.warning("the doors' lease was lost; the rest is left to its holder")
                break
            outcomes.append(_sync_one(engine, client, *entry))
    finally:
        with transaction(engine) as session:
            lease.release_named(session, OrgSetting, DOORS_LEASE, holder=holder)
    return outcomes


def _claim(engine: Engine, holder: str) -> bool:
    with transaction(engine) as session:
        return lease.claim_named(
            session, OrgSetting, DOORS_LEASE, holder=holder, now=time.time(), seconds=LEASE_SECONDS
        )


def stale_doors(engine: Engine) -> frozenset[tuple[int, str, str]]:
    """The doors whose record says they are not as they should be (never posted, in another
    channel, another text, not pinned): (agency id, channel, wanted digest) each. A read only,
    no Slack: cheap enough to ask every minute. A door deleted in Slack is not seen here."""
    stale = set()
    with transaction(engine, write=False) as session:
        town = town_name(session)
        for a in door_agencies(session):
            wanted = digest(*door_message(agency_name=a.name, town=town))
            door = door_of(session, a.id)
            kept = door is not None and door.ts and door.pinned
            if not kept or (door.channel, door.digest) != (a.channel, wanted):
                stale.add((a.id, a.channel, wanted))
    return frozenset(stale)


def _sync_one(engine, client, agency_id, key, channel, text, blocks) -> Outcome:
    wanted = digest(text, blocks)
    with transaction(engine, write=False) as session:
        door = door_of(session, agency_id)
        known = (door.channel, door.ts, door.digest, door.pinned) if door else None
    try:
        if known and known[0] == channel and known[1] and _exists(client, channel, known[1]):
            _, ts, old, pinned = known
            if old == wanted and pinned:
                return Outcome(key, channel, "unchanged")
            if old != wanted:
                client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            _pin(client, channel, ts)
            _record(engine, agency_id, channel, ts, wanted)
            return Outcome(key, channel, "updated" if old != wanted else "unchanged")
        # Not posted yet (or deleted in Slack, or moved to another channel): adopt a pinned door
        # that a post interrupted before its ts was written, else post one.
        ts = _pinned_door(client, channel, key)
        if ts is not None:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            result = "updated"
        else:
            ts = client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                metadata={"event_type": DOOR_METADATA_TYPE, "event_payload": {"agency": key}},
            )["ts"]
            result = "posted"
        _record(engine, agency_id, channel, ts, "")  # its ts first: a crash now loses nothing
        _pin(client, channel, ts)
        _record(engine, agency_id, channel, ts, wanted)
        return Outcome(key, channel, result)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown")
        log.warning("the door of agency %s could not be kept: %s", key, error)
        return Outcome(key, channel, "failed", error)


def _exists(client: WebClient, channel: str, ts: str) -> bool:
    """Is the door still in the channel (not deleted by someone)?"""
    found = client.conversations_history(
        channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
    ).get("messages")
    return bool(found)


def _record(engine: Engine, agency_id: int, channel: str, ts: str, wanted: str) -> None:
    with transaction(engine) as session:
        record_door(
            session, agency_id=agency_id, channel=channel, ts=ts, digest=wanted, pinned=bool(wanted)
        )


def _pin(client: WebClient, channel: str, ts: str) -> None:
    try:
        client.pins_add(channel=channel, timestamp=ts)
    except SlackApiError as exc:
        if exc.response.get("error") != "already_pinned":
            raise


def _pinned_door(client: WebClient, channel: str, key: str) -> str | None:
    """The ts of this agency's door among the channel's pinned messages, if one is there."""
    for item in client.pins_list(channel=channel).get("items") or []:
        message = item.get("message") or {}
        meta = message.get("metadata") or {}
        buttons = [
            e.get("action_id")
            for b in message.get("blocks") or []
            if b.get("block_id") == ids.BLOCK_DOOR
            for e in b.get("elements") or []
        ]
        ours = meta.get("event_type") == DOOR_METADATA_TYPE
        if (ours and (meta.get("event_payload") or {}).get("agency") == key) or (
            not meta and ids.ACTION_DOOR_MEMO in buttons
        ):
            return message.get("ts")
    return None
