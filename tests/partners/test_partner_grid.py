"""Enterprise Grid: Slack names the organisation (E…) in `user.team_id` and the workspace in
`team` (with its `enterprise_id`). The workspace is taken from there; where it cannot be told,
the organisation is compared with the org file's `enterprise`."""

from __future__ import annotations

from handlers.common import ids
from handlers.partners.identity import acting
from models.org.doors import Identity, recognised
from models.org.identities import Known
from sandbox.standin.signed import click_payload
from tests.partners.conftest import PARTNER, PARTNER_TEAM, door

GRID = "E0HOSP"


def click_in_grid(user: str, team: dict) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": GRID},
        "team": team,
        "actions": [{"action_id": "a"}],
    }


def test_the_workspace_of_a_grid_user_is_the_payloads_team():
    body = click_in_grid(PARTNER, {"id": PARTNER_TEAM, "enterprise_id": GRID})
    assert acting(body) == Identity(PARTNER, PARTNER_TEAM, GRID)


def test_a_team_of_another_organisation_is_not_taken_for_the_users():
    """A Slack Connect channel: the payload's team is the town's, not the user's."""
    body = click_in_grid(PARTNER, {"id": "T0TEST"})
    assert acting(body) == Identity(PARTNER, None, GRID)


def test_outside_a_grid_nothing_changes():
    body = {"type": "block_actions", "user": {"id": PARTNER, "team_id": PARTNER_TEAM}}
    assert acting(body) == Identity(PARTNER, PARTNER_TEAM, None)


def _listed(enterprise: str | None) -> Known:
    return Known(member_id=1, agency_id=1, team=PARTNER_TEAM, enterprise=enterprise)


def test_without_a_workspace_the_organisation_decides():
    assert recognised(_listed(GRID), Identity(PARTNER, None, GRID), home_team="T0TEST")
    assert not recognised(_listed(GRID), Identity(PARTNER, None, "E0ELSE"), home_team="T0TEST")
    assert recognised(_listed(None), Identity(PARTNER, None, "E0ELSE"), home_team="T0TEST")


def test_a_grid_partner_opens_the_memo_form_from_the_door(pbot):
    slack = pbot.slack
    payload = click_payload(PARTNER, door(slack), ids.ACTION_DOOR_MEMO, trigger_id="x")
    payload = {
        **payload,
        "user": {"id": PARTNER, "team_id": GRID},
        "team": {"id": PARTNER_TEAM, "domain": "hosp", "enterprise_id": GRID},
        "trigger_id": slack.issue_trigger_id(),
    }
    opened = len(slack.views_opened())
    assert pbot.signed.interaction(payload).status == 200
    [form] = slack.wait_for(lambda: slack.views_opened()[opened:])
    assert form["callback_id"] == ids.VIEW_MEMO
