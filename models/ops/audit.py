"""The audit log: every view of personal details and every refused action.

Entries are append-only and chained by hash. Each entry stores the hash of the entry before it
(`prev_hash`) and a SHA-256 over its own canonical content (`hash`), and a one-row chain head
holds the last sequence number and hash. Changing, deleting or reordering any entry breaks the
chain, which `verify` reports (`tsunagi audit verify`).

One chain, even with concurrent writers: the sequence number and the link are assigned when the
transaction commits, under a lock on the chain head — `SELECT … FOR UPDATE` on
PostgreSQL (held to the end of that short transaction), and SQLite's single writer
(`BEGIN IMMEDIATE`, models/base/db.py). Taking the lock at commit rather than in `record()` keeps it
the last lock a transaction takes, so it cannot close a deadlock cycle with the rows it changed.

Nothing here is personal data: who (Slack id), what (an action code), which case (an id), when,
allowed or not, and a detail code. The log outlives erasure of a case's personal data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, event, insert, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from models.base.db import transaction
from models.base.upsert import insert_if_absent
from models.cases.tables import Case
from models.ops.tables import GENESIS, AuditChainHead, AuditEntry
from models.org.tables import Member

FORMAT = 1  # part of every hashed content, so a later format can coexist with this one
SYSTEM_ACTOR = "system"  # actor_slack_id of what the bot does by itself (retention, rotation)


_PENDING = "tsunagi_audit_pending"  # session.info key: entries recorded, not yet chained


def record(
    session: Session,
    *,
    at: datetime,
    actor_slack_id: str,
    action: str,
    allowed: bool,
    actor_member_id: int | None = None,
    case_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Record an entry; it joins the chain when the transaction commits."""
    entry = dict(
        at=at,
        actor_slack_id=actor_slack_id,
        actor_member_id=actor_member_id,
        action=action,
        case_id=case_id,
        allowed=allowed,
        detail=detail,
    )
    session.info.setdefault(_PENDING, []).append(entry)


def _timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime in an audit entry")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def digest(entry: AuditEntry | Mapping) -> str:
    """SHA-256 over the entry's canonical content, its place in the chain and its predecessor
    (an entry, or the column values of one not yet inserted)."""
    get = entry.get if isinstance(entry, Mapping) else entry.__getattribute__
    content = {
        "v": FORMAT,
        "seq": get("seq"),
        "prev": get("prev_hash"),
        "at": _timestamp(get("at")),
        "actor": get("actor_slack_id"),
        "member": get("actor_member_id"),
        "action": get("action"),
        "case": get("case_id"),
        "allowed": bool(get("allowed")),
        "detail": get("detail"),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_HEAD = AuditChainHead.__table__
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_MOVE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("seq"), hash=bindparam("hash"))
)
_INSERT_ENTRY = insert(AuditEntry.__table__)


@event.listens_for(OrmSession, "before_commit")
def _chain_pending(session: OrmSession) -> None:
    # At commit, so the lock on the chain head is the last lock the transaction takes. Core
    # inserts: every memo writes an entry, and an ORM unit of work for it cost more than the rest.
    fresh = session.info.pop(_PENDING, None)
    if not fresh:
        return
    row = session.execute(_LOCK_HEAD).first()
    if row is None:  # the very first entry: create the head (a concurrent first writer may too)
        insert_if_absent(session, AuditChainHead, id=1, seq=0, hash=GENESIS)
        row = session.execute(_LOCK_HEAD).one()
    seq, last = row
    for entry in fresh:  # in the order recorded
        seq += 1
        entry.update(seq=seq, prev_hash=last)
        entry["hash"] = last = digest(entry)
    session.execute(_INSERT_ENTRY, fresh)
    session.execute(_MOVE_HEAD, {"seq": seq, "hash": last})


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_pending(session: OrmSession, _previous) -> None:
    session.info.pop(_PENDING, None)


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Break:
    """One place where the chain does not hold. `kind` is a message code suffix."""

    kind: str  # changed | missing | link | reordered | tail_missing | head_changed | anchor_…
    seq: int | None  # the entry where the problem shows (None: the chain head)
    entry_id: int | None = None
    at: datetime | None = None


@dataclass
class Verification:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    engine: Engine, *, anchor: tuple[int, str] | None = None, batch: int = 1000
) -> Verification:
    """Walk the whole chain in order, recomputing every hash; list every break found.

    `anchor` is a (seq, hash) pair noted earlier outside the database (e.g. from last night's
    run): the chain must still hold that entry with that hash, so even a rewrite of the whole
    chain by someone with write access to the database shows. Entries added while this runs
    are left for the next run.
    """
    result = Verification()
    table = AuditEntry.__table__
    with transaction(engine, write=False) as session:
        head = session.get(AuditChainHead, 1)
        if head is not None:
            result.head_seq, result.head_hash = head.seq, head.hash
    limit = result.head_seq if head is not None else None
    expected_seq, expected_prev, last_id = 1, GENESIS, None
    anchor_seen = False
    while True:
        query = select(table).where(table.c.seq >= expected_seq)
        if limit is not None:
            query = query.where(table.c.seq <= limit)
        with transaction(engine, write=False) as session:
            rows = session.execute(query.order_by(table.c.seq).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            entry = AuditEntry.model_validate(row._mapping)
            where = {"seq": entry.seq, "entry_id": entry.id, "at": entry.at}
            if entry.seq != expected_seq:
                result.problems.append(Break("missing", **where))
            elif entry.prev_hash != expected_prev:
                result.problems.append(Break("link", **where))
            if digest(entry) != entry.hash:
                result.problems.append(Break("changed", **where))
            if last_id is not None and entry.id is not None and entry.id < last_id:
                result.problems.append(Break("reordered", **where))
            if anchor is not None and entry.seq == anchor[0]:
                anchor_seen = True
                if entry.hash != anchor[1]:
                    result.problems.append(Break("anchor_mismatch", **where))
            # Go on from what is stored, so later entries are checked against their neighbours.
            expected_seq, expected_prev, last_id = entry.seq + 1, entry.hash, entry.id
            result.checked += 1
    if head is None:
        if result.checked:
            result.problems.append(Break("head_changed", None))
    elif expected_seq <= result.head_seq:
        result.problems.append(Break("tail_missing", expected_seq))
    elif result.head_seq and expected_prev != result.head_hash:
        result.problems.append(Break("head_changed", None))
    else:
        # Writers move the head in the same transaction as their entries: a committed entry
        # beyond the head (read again now) means the head was set back.
        with transaction(engine, write=False) as session:
            now_head = session.get(AuditChainHead, 1)
            beyond = session.execute(
                select(table.c.seq).where(table.c.seq > (now_head.seq if now_head else 0))
            ).first()
        if beyond is not None:
            result.problems.append(Break("head_changed", beyond.seq))
    if anchor is not None and not anchor_seen:
        result.problems.append(Break("anchor_mismatch", anchor[0]))
    return result


# --------------------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportRow:
    seq: int
    at: datetime
    actor_slack_id: str
    actor_name: str | None
    action: str
    case_number: str | None
    allowed: bool
    detail: str | None


def export_rows(
    session: Session, *, since: datetime, until: datetime | None = None, batch: int = 1000
) -> Iterator[ExportRow]:
    """Entries from `since` (inclusive) to `until` (exclusive) in chain order, with names."""

    names_by_id: dict[int, str] = {}
    names_by_slack: dict[str, str] = {}
    for member in session.execute(select(Member)).scalars():
        names_by_id[member.id] = member.name
        names_by_slack.setdefault(member.slack_id, member.name)
    numbers: dict[int, str] = {}
    after = 0
    while True:
        query = select(AuditEntry).where(AuditEntry.seq > after, AuditEntry.at >= since)
        if until is not None:
            query = query.where(AuditEntry.at < until)
        entries = list(session.execute(query.order_by(AuditEntry.seq).limit(batch)).scalars())
        if not entries:
            return
        wanted = {e.case_id for e in entries if e.case_id is not None} - numbers.keys()
        if wanted:
            found = session.execute(select(Case.id, Case.number).where(Case.id.in_(wanted)))
            numbers.update({case_id: number for case_id, number in found})
        for e in entries:
            name = names_by_id.get(e.actor_member_id) if e.actor_member_id else None
            yield ExportRow(
                seq=e.seq,
                at=e.at,
                actor_slack_id=e.actor_slack_id,
                actor_name=name or names_by_slack.get(e.actor_slack_id),
                action=e.action,
                case_number=numbers.get(e.case_id) if e.case_id is not None else None,
                allowed=e.allowed,
                detail=e.detail,
            )
        after = entries[-1].seq
