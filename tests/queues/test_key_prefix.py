"""Notices found by the start of their key (models/base/prefix.py): the same rows as a prefix
test, read through an index, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.base.db import transaction
from models.base.prefix import starts_with
from models.queues import outbox
from models.queues.tables import Notice
from tests.conftest import START

KEYS = [
    "case:1:card:3:C0HOUKATSU",
    "case:1:card:4:C0SHOGAI:v2",
    "case:10:card:3:C0HOUKATSU",  # another case whose id begins with the same digit
    "case:1:cardx",  # one more letter, no separator
    "case:1:car",  # shorter than the prefix
    "case:2:card:3:C0HOUKATSU",
    "Case:1:card:3:C0HOUKATSU",  # case differs: bytes, not letters
]


def _queue(engine) -> None:
    with transaction(engine) as session:
        for key in KEYS:
            outbox.enqueue(
                session, key=key, kind="case_card", target="C0HOUKATSU", payload={}, at=START
            )


def test_the_range_finds_exactly_the_keys_with_the_prefix(engine):
    _queue(engine)
    with transaction(engine, write=False) as session:
        found = session.exec(select(Notice.key).where(starts_with(Notice.key, "case:1:card:")))
        assert sorted(found) == ["case:1:card:3:C0HOUKATSU", "case:1:card:4:C0SHOGAI:v2"]


def test_the_lookup_is_served_by_an_index(engine):
    _queue(engine)
    query = select(Notice.id).where(starts_with(Notice.key, "case:1:card:"))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            assert any(str(row[-1]).startswith("SEARCH notice USING") for row in plan), plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a few rows: make the choice visible
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
            assert "ix_notice_key_bytewise" in plan, plan


def test_an_empty_prefix_is_refused():
    with pytest.raises(ValueError):
        starts_with(Notice.key, "")
