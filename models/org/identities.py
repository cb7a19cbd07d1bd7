"""Who may knock: a small copy of the roster in memory (active member → their home workspace),
so the identity check in front of every request (handlers/partners/identity.py) needs no
database transaction before the acknowledgement.

Why: that check runs on every click, command and submission; a transaction of its own cost about
a tenth of a request's CPU (`tsunagi bench`). The copy is read again at once after this process
changes a member, and at most `FRESH_FOR` seconds after another process does (`tsunagi org load`).
`copy_of` keeps other small reads of the organisation the same way (the memo form's choices).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Pool, event, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from models.base.db import transaction
from models.org.tables import Agency, Member, OrgSetting, Role

FRESH_FOR = 1.0  # seconds: how stale the copy may be after another process changed the roster


@dataclass(frozen=True)
class Known:
    """An active member as the identity check (and a memo's sender) needs them: nothing
    personal."""

    member_id: int
    agency_id: int
    team: str | None
    enterprise: str | None
    # Whether the door opens the coordinator's forms for them (a command's form needs the
    # trigger of the request); the rights themselves are checked against the database.
    coordinator: bool = False


@dataclass(frozen=True)
class Roster:
    members: dict[str, Known]  # by Slack user id
    teams: frozenset[str]  # the home workspaces the org file names


T = TypeVar("T")

# Per database: each reader's copy with the generation and the time it was read.
_copies: WeakKeyDictionary[Pool, dict[Callable, tuple[int, float, object]]] = WeakKeyDictionary()
_lock = threading.Lock()  # guards _locks
_locks: dict[Callable, threading.Lock] = {}
_generation = 0  # raised whenever this process commits a change to the organisation
_ORG_TABLES = (Member, Agency, OrgSetting)


def copy_of(engine: Engine, read: Callable[[Session], T]) -> T:
    """What `read(session)` returns, kept in memory: at most about FRESH_FOR seconds old, and
    read again at once after this process changed a member, an agency or a setting. `read` is a
    module-level function of the organisation's tables (its identity is the key)."""
    held = _current(engine, read)
    if held is not None and time.monotonic() - held[1] < FRESH_FOR:
        return held[2]
    # Old by time only, and another thread is reading this copy afresh: this one does not queue.
    lock = lock_of(read)
    if not lock.acquire(blocking=held is None):
        return held[2]
    try:
        again = _current(engine, read)  # read by another thread while this one waited
        if again is not None and time.monotonic() - again[1] < FRESH_FOR:
            return again[2]
        now = time.monotonic()
        generation = _generation
        with transaction(engine, write=False) as session:
            value = read(session)
        _copies.setdefault(engine.pool, {})[read] = (generation, now, value)
        return value
    finally:
        lock.release()


def lock_of(read: Callable) -> threading.Lock:
    """The lock held while `read`'s copy is read afresh: one per copy, so a copy being read
    never makes another one be served old (an identity check got the old roster so)."""
    with _lock:
        return _locks.setdefault(read, threading.Lock())


def _current(engine: Engine, read: Callable) -> tuple[int, float, object] | None:
    """The copy read since this process last changed the organisation, if any."""
    held = _copies.get(engine.pool, {}).get(read)
    return held if held is not None and held[0] == _generation else None


def _read_roster(session: Session) -> Roster:
    rows = session.execute(
        select(
            Member.id,
            Member.slack_id,
            Member.agency_id,
            Member.team,
            Member.enterprise,
            Member.roles,
        ).where(Member.active)
    ).all()
    members = {
        sid: Known(id_, agency, team, ent, Role.coordinator.value in (roles or ()))
        for id_, sid, agency, team, ent, roles in rows
    }
    return Roster(members, frozenset(k.team for k in members.values() if k.team))


def roster(engine: Engine) -> Roster:
    """The active members by Slack id: at most FRESH_FOR seconds old, fresh after our change."""
    return copy_of(engine, _read_roster)


@event.listens_for(OrmSession, "after_flush")
def _note_org_changes(session: OrmSession, _context) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(o, _ORG_TABLES) for o in changed):
        session.info["tsunagi_org_changed"] = True


@event.listens_for(OrmSession, "after_commit")
def _forget_after_org_changes(session: OrmSession) -> None:
    global _generation
    if session.info.pop("tsunagi_org_changed", False):
        _generation += 1
