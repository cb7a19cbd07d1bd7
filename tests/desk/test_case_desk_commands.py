"""`/tsunagi status R8-0001`, `/tsunagi mine`, `/tsunagi help`: answered only to the user, within
their rights; a refused lookup is audited."""

from __future__ import annotations

import pytest

from models.base import crypto
from models.cases.lifecycle import CaseState
from tests.conftest import START
from tests.intake.test_intake_e2e import PERSONAL
from tests.linknet.test_linknet_e2e import answers_to
from tests.support.desk import add_deactivated, audits, bring_to, new_case

WORKING = "作成しています…少しお待ちください。"


def command(bot, user: str, text: str) -> str:
    """What `/tsunagi text` says to `user`: the acknowledgement's text, or — when that is the
    「作成しています…」 placeholder — the answer that follows it, only to the user."""
    before = len(answers_to(bot, user))
    answer = bot.signed.command(user, text, trigger_id=bot.slack.issue_trigger_id())
    assert answer.status == 200, answer.text
    if not answer.text.startswith("{"):
        said = answer.text  # a plain-text answer: Slack shows it only to the user
    else:
        body = answer.json()
        assert body.get("response_type", "ephemeral") == "ephemeral"
        said = body["text"]
    if said != WORKING:
        return said

    def answered() -> list[dict]:
        bot.deliver()  # the worker answers mine, status (handlers/common/deferred.py)
        return answers_to(bot, user)[before:]

    return bot.slack.wait_for(answered)[-1]["text"]


@pytest.fixture
def taken(bot):
    case_id = new_case(bot.rt.engine, START)
    bring_to(bot.rt.engine, case_id, CaseState.coordination, START, lead="shogai")
    return case_id


def test_status_for_the_team_shows_the_case_in_coarse_facts(bot, taken):
    text = command(bot, "U0WIN1", "status R8-0001")
    assert "R8-0001" in text and "重層推進室で調整中" in text
    assert "障がい福祉係" in text and "高齢" in text
    for value in PERSONAL:
        assert value not in text


def test_status_for_the_referrer_is_a_status_word_only(bot, taken):
    text = command(bot, "U0PARTNER1", "status r8-0001")
    assert "R8-0001" in text and "引き受け済み" in text
    for word in ("重層推進室", "障がい福祉係", "高齢", "緊急", "通常"):
        assert word not in text


def test_a_status_answer_decrypts_nothing(bot, taken, monkeypatch):
    """A status shows no personal detail, so it reads none: nothing encrypted is opened for it
    (summary() reads columns, not the memo's rows)."""
    opened = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: opened.append(1) or real(token))
    for user in ("U0WIN1", "U0PARTNER1"):
        assert "R8-0001" in command(bot, user, "status R8-0001")
    assert opened == []


@pytest.mark.parametrize("spelling", ["ｒ８－０００１", "R8ー0001", " R8-0001 "])
def test_status_accepts_how_people_type_numbers(bot, taken, spelling):
    assert "重層推進室で調整中" in command(bot, "U0COORD", f"status {spelling}")


@pytest.mark.parametrize("user", ["U0KODOMO1", "U0SUPPORT1", "U0DEPT1", "U0ADMIN1", "U0STRANGER"])
def test_status_refused_outside_ones_rights_is_audited(bot, taken, user):
    text = command(bot, user, "status R8-0001")
    assert "重層推進室" in text  # who to ask
    assert "調整中" not in text and "引き受け済み" not in text
    [entry] = [a for a in audits(bot.rt.engine) if a.actor_slack_id == user]
    assert (entry.action, entry.allowed, entry.case_id) == ("view_case_status", False, taken)


def test_status_of_a_deactivated_member_is_refused(bot, taken):
    add_deactivated(bot.rt.engine)
    bot.slack.add_user("U0GONE")  # gone from tsunagi, still in Slack: the answer reaches them
    text = command(bot, "U0GONE", "status R8-0001")
    assert "登録" in text
    assert [a.allowed for a in audits(bot.rt.engine) if a.actor_slack_id == "U0GONE"] == [False]


def test_status_without_or_with_a_wrong_number(bot, taken):
    assert "例：" in command(bot, "U0COORD", "status")
    assert "例：" in command(bot, "U0COORD", "status hello")
    text = command(bot, "U0COORD", "status R8-0999")
    assert "見つからないか" in text and "R8-0999" not in text
    [entry] = [a for a in audits(bot.rt.engine) if a.action == "view_case_status"]
    assert (entry.allowed, entry.detail, entry.case_id) == (False, "case.not_found", None)


def test_mine_lists_what_is_mine_per_role(bot, taken):
    new_case(bot.rt.engine, START, urgency="urgent")  # R8-0002, waiting at houkatsu
    window = command(bot, "U0WIN1", "mine")
    assert "引き受けを待っているつなぎメモ（1件）" in window and "R8-0002" in window
    assert "扱っているケース（1件）" in window and "R8-0001" in window
    partner = command(bot, "U0PARTNER1", "mine")
    assert "送ったつなぎメモ（2件）" in partner and "引き受け待ち" in partner
    assert "緊急" not in partner
    assert "リンクネット" in command(bot, "U0DEPT1", "mine")
    assert "登録" in command(bot, "U0STRANGER", "mine")
    for text in (window, partner):
        for value in PERSONAL:
            assert value not in text


def test_help_names_the_new_subcommands(bot):
    text = command(bot, "U0WIN1", "help")
    assert "/tsunagi status R8-0001" in text and "/tsunagi mine" in text
