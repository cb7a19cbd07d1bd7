"""models/base/db.py `joined`: transactions opened inside one are part of it, and a failure in
one of them undoes that part alone (the worker answers a subcommand this way)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from models.base.db import joined, transaction
from models.org.tables import OrgSetting


def settings(engine) -> dict[str, str]:
    with Session(engine) as s:
        return {row.key: row.value for row in s.exec(select(OrgSetting))}


def test_the_inner_transactions_commit_with_the_outer_one_or_not_at_all(org):
    with pytest.raises(RuntimeError), transaction(org) as outer, joined(outer):
        with transaction(org) as inner:
            assert inner is outer
            inner.add(OrgSetting(key="joined.test", value="1"))
        raise RuntimeError("the action fails after its part was done")
    assert "joined.test" not in settings(org)  # rolled back with the outer one


def test_a_failure_inside_undoes_only_its_own_part(org):
    with transaction(org) as outer, joined(outer):
        with transaction(org) as inner:
            inner.add(OrgSetting(key="joined.kept", value="1"))
        with pytest.raises(RuntimeError), transaction(org) as inner:
            inner.add(OrgSetting(key="joined.undone", value="1"))
            inner.flush()
            raise RuntimeError("as its own transaction would, it leaves nothing")
    found = settings(org)
    assert found.get("joined.kept") == "1" and "joined.undone" not in found


def test_outside_joined_transactions_are_their_own(org):
    with transaction(org) as outer, joined(outer):
        pass
    with transaction(org) as first, transaction(org, write=False) as second:
        assert first is not second
