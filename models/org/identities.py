"""Who may knock: a small copy of the roster in memory (active member → their home workspace),
so the identity check in front of every request (handlers/partners/identity.py) needs no
database transaction before the acknowledgement.

Why: that check runs on every click, command and submission; a transaction of its own cost about
a tenth of a request's CPU (`tsunagi bench`). The copy is read again at once after this process
changes a member, and at most `FRESH_FOR` seconds after another process does (`tsunagi org load`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Pool, event, select
from sqlalchemy.orm import Session as OrmSession

from models.base.db import transaction
from models.org.tables import Member

FRESH_FOR = 1.0  # seconds: how stale the copy may be after another process changed the roster


@dataclass(frozen=True)
class Known:
    """An active member as the identity check needs them: nothing personal."""

    member_id: int
    team: str | None
    enterprise: str | None


@dataclass(frozen=True)
class Roster:
    members: dict[str, Known]  # by Slack user id
    teams: frozenset[str]  # the home workspaces the org file names


_copies: WeakKeyDictionary[Pool, tuple[int, float, Roster]] = WeakKeyDictionary()
_lock = threading.Lock()
_generation = 0  # raised whenever this process commits a change to a member


def roster(engine: Engine) -> Roster:
    """The active members by Slack id: at most FRESH_FOR seconds old, fresh after our change."""
    now = time.monotonic()
    held = _copies.get(engine.pool)
    if held is not None and held[0] == _generation and now - held[1] < FRESH_FOR:
        return held[2]
    with _lock:
        generation = _generation
        with transaction(engine, write=False) as session:
            rows = session.execute(
                select(Member.id, Member.slack_id, Member.team, Member.enterprise).where(
                    Member.active
                )
            ).all()
        members = {slack_id: Known(id_, team, ent) for id_, slack_id, team, ent in rows}
        teams = frozenset(k.team for k in members.values() if k.team)
        copy = Roster(members, teams)
        _copies[engine.pool] = (generation, now, copy)
        return copy


@event.listens_for(OrmSession, "after_flush")
def _note_member_changes(session: OrmSession, _context) -> None:
    if any(isinstance(o, Member) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["tsunagi_roster_changed"] = True


@event.listens_for(OrmSession, "after_commit")
def _forget_after_member_changes(session: OrmSession) -> None:
    global _generation
    if session.info.pop("tsunagi_roster_changed", False):
        _generation += 1
