"""The door on the command line (posted once, edited when its text changes, posted anew when
deleted), `tsunagi check`'s part about other organisations, and case channels shared with
another organisation: refused, with an alert."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from bot.cli.main import main
from bot.cli.partners import print_check
from bot.slack import make_client
from handlers.common import ids
from models.base.db import transaction
from models.org.tables import Agency
from models.queues.tables import Notice
from tests.conftest import memo_values
from tests.partners.conftest import PARTNER, PARTNER_CHANNEL, PARTNER_TEAM, door


def door_post(monkeypatch, capsys, db_url, slack, key, *extra) -> tuple[int, str]:
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", db_url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", key)
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SLACK_API_URL", slack.base_url)
    code = main(["door", "post", *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_door_post_is_idempotent_edits_in_place_and_reposts_a_deleted_door(
    partner_org, connect_slack, db_url, encryption_key, monkeypatch, capsys
):
    slack = connect_slack
    code, out = door_post(monkeypatch, capsys, db_url, slack, encryption_key)
    assert code == 0 and "投稿し" in out, out
    first = door(slack)
    code, out = door_post(monkeypatch, capsys, db_url, slack, encryption_key, "--agency", "byoin")
    assert code == 0 and "最新です" in out
    assert len(slack.messages(PARTNER_CHANNEL)) == 1
    with transaction(partner_org) as s:  # the agency's name changes: the door is edited
        agency = s.exec(select(Agency).where(Agency.key == "byoin")).one()
        agency.name = "試験病院（地域連携室）"
    code, out = door_post(monkeypatch, capsys, db_url, slack, encryption_key)
    assert code == 0 and "更新しました" in out
    assert [m["ts"] for m in slack.messages(PARTNER_CHANNEL)] == [first["ts"]]
    assert "地域連携室" in json.dumps(door(slack)["blocks"], ensure_ascii=False)
    slack.reset()  # the door is gone from Slack (deleted): posted again, once
    code, out = door_post(monkeypatch, capsys, db_url, slack, encryption_key)
    assert code == 0 and "投稿し" in out, out
    door_post(monkeypatch, capsys, db_url, slack, encryption_key)
    assert len(slack.messages(PARTNER_CHANNEL)) == 1


def test_door_post_for_an_unknown_agency_is_refused_and_posts_nothing(
    partner_org, connect_slack, db_url, encryption_key, monkeypatch, capsys
):
    code, out = door_post(
        monkeypatch, capsys, db_url, connect_slack, encryption_key, "--agency", "nothing"
    )
    assert code == 2 and "nothing" in out
    assert connect_slack.messages(PARTNER_CHANNEL) == []


def test_a_door_the_bot_cannot_post_is_reported(
    partner_org, connect_slack, db_url, encryption_key, monkeypatch, capsys
):
    connect_slack.add_channel(PARTNER_CHANNEL, member=False, shared_with=[PARTNER_TEAM])
    code, out = door_post(monkeypatch, capsys, db_url, connect_slack, encryption_key)
    assert code == 1 and "not_in_channel" in out


def test_check_lists_members_elsewhere_and_warns_of_a_shared_case_channel(
    partner_org, connect_slack, capsys
):
    client = make_client(connect_slack.token, connect_slack.base_url)
    assert print_check(partner_org, client) == 0
    out = capsys.readouterr().out
    assert "試験病院" in out and PARTNER_TEAM in out and PARTNER_CHANNEL in out
    assert PARTNER not in out  # people are counted, not named
    connect_slack.add_channel("C0COORD", shared_with=[PARTNER_TEAM])
    assert print_check(partner_org, client) == 1
    assert "C0COORD" in capsys.readouterr().out


def test_case_cards_are_not_posted_to_a_channel_shared_with_another_organisation(pbot):
    slack = pbot.slack
    slack.add_channel("C0HOUKATSU", shared_with=[PARTNER_TEAM])
    pbot.send_memo("U0PARTNER1", **memo_values())
    while pbot.deliver():
        pass
    assert slack.messages("C0HOUKATSU") == []
    [alert] = slack.messages("C0ADMIN")
    assert "channel_externally_shared" in json.dumps(alert, ensure_ascii=False)
    with Session(pbot.rt.engine) as s:
        card = s.exec(select(Notice).where(Notice.kind == "case_card")).one()
        assert card.state == "failed"
    assert ids.ACTION_CASE_MENU not in json.dumps(slack.messages(), ensure_ascii=False)
