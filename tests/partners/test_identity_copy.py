"""The identity check reads an in-memory copy of the roster (models/org/identities.py): a change
made in this process counts at once, one made by another process (`tsunagi org load`) within
`FRESH_FOR` seconds."""

from __future__ import annotations

import json
import time

import sqlalchemy

from handlers.common import ids
from models.base.db import transaction
from models.org import identities
from models.org.orgfile import load, parse
from tests.partners.conftest import PARTNER, PARTNER_TEAM, org_text


def submit_as(pbot, team: str) -> dict:
    """A memo form sent by the listed partner from `team`: the answer says whether it got in."""
    view = {"id": "V0COPY", "type": "modal", "callback_id": ids.VIEW_MEMO, "blocks": []}
    return pbot.signed.interaction(
        {
            "type": "view_submission",
            "user": {"id": PARTNER, "team_id": team},
            "view": {**view, "state": {"values": {}}},
        }
    ).json()


def refused(answer: dict) -> bool:
    return answer.get("response_action") == "update" and "一致しない" in json.dumps(
        answer["view"], ensure_ascii=False
    )


def test_an_org_load_in_this_process_counts_at_once(pbot):
    assert not refused(submit_as(pbot, PARTNER_TEAM))  # in: the empty form gets its errors
    moved = org_text().replace(f'team = "{PARTNER_TEAM}"', 'team = "T0MOVED"')
    with transaction(pbot.rt.engine) as session:
        load(session, parse(moved))
    assert refused(submit_as(pbot, PARTNER_TEAM))
    assert not refused(submit_as(pbot, "T0MOVED"))


def test_a_change_by_another_process_counts_within_the_freshness_bound(pbot, monkeypatch):
    monkeypatch.setattr(identities, "FRESH_FOR", 0.2)
    assert not refused(submit_as(pbot, PARTNER_TEAM))
    # Written past the ORM, as another process's connection would: this process is not told.
    with pbot.rt.engine.begin() as conn:
        conn.execute(
            sqlalchemy.text("UPDATE member SET team = 'T0MOVED' WHERE slack_id = :u"),
            {"u": PARTNER},
        )
    time.sleep(0.3)
    assert refused(submit_as(pbot, PARTNER_TEAM))


def test_the_copy_holds_active_members_and_their_home_workspaces_only(pbot):
    copy = identities.roster(pbot.rt.engine)
    assert copy.members[PARTNER].team == PARTNER_TEAM
    assert PARTNER_TEAM in copy.teams
    assert not hasattr(copy.members[PARTNER], "name")  # nothing personal is kept
