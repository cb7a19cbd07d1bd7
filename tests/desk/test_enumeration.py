"""No enumeration: "no such number" and "not yours" are answered in the same words."""

from __future__ import annotations

import sqlite3

from handlers.common.texts import t
from tests.conftest import START
from tests.desk.test_case_desk_commands import command
from tests.linknet.test_linknet_e2e import answers_to
from tests.support.desk import audits, new_case


def test_a_partner_cannot_tell_a_foreign_case_from_a_missing_one(bot):
    # R8-0001 is sent by U0SUPPORT1's agency, not by U0PARTNER1's.
    new_case(bot.rt.engine, START, referrer="U0SUPPORT1", concerns=["kosodate"])
    foreign = command(bot, "U0PARTNER1", "status R8-0001")
    missing = command(bot, "U0PARTNER1", "status R8-0002")
    assert foreign.replace("R8-0001", "R8-XXXX") == missing.replace("R8-0002", "R8-XXXX")
    assert "見つからないか" in foreign
    # Both lookups leave the same trace: one refused audit row each.
    rows = [a for a in audits(bot.rt.engine) if a.actor_slack_id == "U0PARTNER1"]
    assert [(a.action, a.allowed) for a in rows] == [("view_case_status", False)] * 2


def test_the_referrer_still_sees_their_own_case(bot):
    new_case(bot.rt.engine, START, referrer="U0SUPPORT1", concerns=["kosodate"])
    assert "見つからないか" not in command(bot, "U0SUPPORT1", "status R8-0001")


def test_buttons_say_the_same_for_a_missing_and_a_foreign_case_or_target():
    """Every button that carries a case or target id answers with these texts (handlers.replies
    turns both refusals into them), so the words cannot tell the two apart."""
    assert t("case.not_found") == t("access.not_your_case")
    assert t("outreach.not_found") == t("access.not_your_target")


def test_status_answers_while_another_connection_holds_the_write_lock(bot, db_url):
    """`/tsunagi status` only reads: a writer elsewhere (a backup, a report) does not delay it."""
    if not db_url.startswith("sqlite"):
        return  # PostgreSQL readers never wait for writers
    new_case(bot.rt.engine, START, referrer="U0SUPPORT1", concerns=["kosodate"])
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held until the test lets go
        # The worker cannot take the question now (it would be stored): the door answers it.
        before = len(answers_to(bot, "U0SUPPORT1"))
        bot.signed.command("U0SUPPORT1", "status R8-0001", trigger_id="t-lock")
        said = bot.slack.wait_for(lambda: answers_to(bot, "U0SUPPORT1")[before:])
        text = said[-1]["text"]
        assert "R8-0001" in text and "見つからないか" not in text and "混み合って" not in text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
