"""Helpers for the operations tests: cases made through the real intake path, closed through the
state machine, and the environment for running `tsunagi` commands against a test database."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from models.base.db import transaction
from models.cases.lifecycle import CaseState
from models.cases.memo import MemoInput, acknowledge, submit
from models.cases.records import case_by_id, move
from models.cases.tables import Case, CaseEvent
from models.ops import audit
from models.org.tables import Member

PERSON = {
    "person_name": "辰野 試験子",
    "person_kana": "たつの しけんこ",
    "contact": "0266-00-0000",
    "household": "試験用の世帯メモ（長男と同居）",
    "narrative": "試験用の相談内容です。買い物に困っている様子。",
}


def member(session, slack_id: str) -> Member:
    return session.exec(select(Member).where(Member.slack_id == slack_id)).one()


def make_case(engine, *, at: datetime, referrer: str = "U0PARTNER1", **overrides) -> Case:
    """A memo submitted through models.intake.submit (validation, numbering, routing, notices)."""
    values = {
        **PERSON,
        "concerns": ["kaigo"],
        "urgency": "normal",
        "consent_to_share": "yes",
        "age_band": "75+",
        "district": "試験第一区",
    }
    values.update(overrides)
    with transaction(engine) as session:
        return submit(
            session,
            memo=MemoInput(**values),
            referrer=member(session, referrer),
            view_id=None,
            at=at,
        )


def close_case(engine, case_id: int, *, at: datetime, by: str = "U0WIN1") -> None:
    """Take the memo (受付) and close it: the CaseEvent to `closed` is the closure date."""
    with transaction(engine) as session:
        actor = member(session, by)
        case = case_by_id(session, case_id)
        if case.acknowledged_at is None:
            acknowledge(session, case_id=case_id, member=actor, at=at)
        move(
            session,
            case_by_id(session, case_id),
            CaseState.closed,
            actor_id=actor.id,
            at=at,
            kind="closed",
            reason="試験用の終結メモ",
        )


def refuse(engine, *, at: datetime, slack_id: str = "U0STRANGER", case_id: int | None = None):
    with transaction(engine) as session:
        audit.record(
            session,
            at=at,
            actor_slack_id=slack_id,
            action="view_case_detail",
            allowed=False,
            case_id=case_id,
            detail="access.not_your_case",
        )


def closure_events(engine) -> list[CaseEvent]:
    with transaction(engine) as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.to_state == "closed")))


def cli_env(monkeypatch, db_url: str, key: str, *, old: list[str] | None = None) -> None:
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", key)
    if old:
        monkeypatch.setenv("TSUNAGI_OLD_ENCRYPTION_KEYS", ",".join(old))
    else:
        monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
