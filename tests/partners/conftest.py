"""A town with a partner agency from another organisation: 試験病院 (workspace T0HOSP) in a Slack
Connect channel, with a single-channel guest of the town's workspace beside them."""

from __future__ import annotations

import pytest

from bot import runtime
from bot.settings import Settings
from bot.socket_mode import start_socket_mode
from handlers.partners.doors import sync_doors
from models.base.db import transaction
from models.org.orgfile import load, parse
from sandbox.standin.connect import PartnerSlack
from sandbox.standin.socket_mode import SocketModeStandin
from tests.conftest import ORG_FILE, SIGNING_SECRET, TEST_KEY, make_bot, settle

PARTNER_CHANNEL = "C0BYOIN"
PARTNER_TEAM = "T0HOSP"
PARTNER = "U0HOSP1"  # 試験病院の医療ソーシャルワーカー (another organisation)
GUEST = "U0GUEST1"  # a single-channel guest of the town's workspace, same agency
OUTSIDER = "U0ELSE1"  # someone of a third organisation in the shared channel

EXTRA = f"""
[[agencies]]
key = "byoin"
name = "試験病院"
kind = "partner"
channel = "{PARTNER_CHANNEL}"

[[members]]
slack_id = "{PARTNER}"
name = "試験 病院一"
agency = "byoin"
roles = ["partner"]
team = "{PARTNER_TEAM}"

[[members]]
slack_id = "{GUEST}"
name = "試験 ゲスト"
agency = "byoin"
roles = ["partner"]
"""


def org_text() -> str:
    return ORG_FILE.read_text(encoding="utf-8") + EXTRA


@pytest.fixture
def partner_org(org):
    with transaction(org) as session:
        load(session, parse(org_text()))
    return org


@pytest.fixture
def connect_slack(slack):
    slack.add_channel(
        PARTNER_CHANNEL, members=[PARTNER, GUEST, OUTSIDER], shared_with=[PARTNER_TEAM, "T0ELSE"]
    )
    slack.add_user(PARTNER, team_id=PARTNER_TEAM)
    slack.add_user(GUEST, guest="single")
    slack.add_user(OUTSIDER, team_id="T0ELSE")
    return slack


@pytest.fixture
def pbot(db_url, partner_org, connect_slack, clock):
    harness, server = make_bot(db_url, connect_slack, clock)
    harness.partner = PartnerSlack(connect_slack, harness.signed)
    sync_doors(harness.rt.engine, harness.rt.client)
    yield harness
    server.close()
    harness.rt.engine.dispose()


@pytest.fixture
def psocket(connect_slack):
    server = SocketModeStandin(connect_slack, redeliver_after=1.0).start()
    yield server
    server.stop()


@pytest.fixture
def psbot(db_url, partner_org, connect_slack, psocket, clock):
    """The same town, its bot in Socket Mode."""
    settings = Settings(
        bot_token=connect_slack.token,
        signing_secret=SIGNING_SECRET,
        app_token=psocket.app_token,
        slack_api_url=connect_slack.base_url,
        database_url=db_url,
        encryption_keys=[TEST_KEY],
        channel_interval=0.0,
    )
    rt = runtime.build(settings, clock=clock)
    mode = start_socket_mode(rt, settings.app_token, ping_interval=1.0, health_port=0)
    psocket.wait_connected()
    rt.partner = PartnerSlack(connect_slack, psocket)
    rt.slack = connect_slack
    sync_doors(rt.engine, rt.client)
    yield rt
    mode.close()
    settle(rt.app)
    rt.engine.dispose()


def door(slack) -> dict:
    [message] = [m for m in slack.messages(PARTNER_CHANNEL) if m["thread_ts"] in (None, m["ts"])]
    return message
