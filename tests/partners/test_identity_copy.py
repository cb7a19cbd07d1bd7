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
from tests.partners.conftest import GUEST, PARTNER, PARTNER_TEAM, org_text


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


def test_the_memo_form_shows_a_window_renamed_in_this_process_at_once(pbot):
    """The form's choices are a copy too (identities.copy_of): an org change made here counts
    at the next /tsunagi, not a second later."""

    def destinations() -> list[str]:
        before = len(pbot.slack.views_opened())
        pbot.signed.command(GUEST, "", trigger_id=pbot.slack.issue_trigger_id())
        view = pbot.slack.wait_for(lambda: pbot.slack.views_opened()[before:])[0]
        [block] = [b for b in view["blocks"] if b.get("block_id") == "destination"]
        return [o["text"]["text"] for o in block["element"]["options"]]

    assert "高齢者相談支援センター" in destinations()
    renamed = org_text().replace('name = "高齢者相談支援センター"', 'name = "地域包括支援センター"')
    with transaction(pbot.rt.engine) as session:
        load(session, parse(renamed))
    shown = destinations()
    assert "地域包括支援センター" in shown and "高齢者相談支援センター" not in shown


def test_one_reader_refreshes_an_old_copy_while_the_others_use_it(pbot, monkeypatch):
    """Past FRESH_FOR, a request that finds another thread reading the roster afresh does not
    wait for it (a spike every second under load, `tsunagi bench`); the copy it gets is the one
    just expired, never one older than this process's own last change."""
    engine = pbot.rt.engine
    first = identities.roster(engine)
    monkeypatch.setattr(identities, "FRESH_FOR", 0.0)
    with identities.lock_of(identities._read_roster):  # another thread is reading it afresh
        assert identities.roster(engine) is first
    assert identities.roster(engine) is not first  # then read again
