"""The review-date reminder, once the plan is evaluated: the posted message is rewritten (a
chat.update through the outbox) to one text — what happened, who, when — with no button left.
Read back from the stand-in."""

from __future__ import annotations

import json

from tests.plans.test_plans_e2e import evaluation_form, planned, world
from tests.support.meetings import COORD, submit

__all__ = ["planned", "world"]  # the fixtures


def test_an_evaluated_plan_rewrites_its_review_reminder(bot, planned, clock):
    form = evaluation_form(bot, clock)  # 2027-02-01 08:30: 【評価日】 posted, 評価する clicked
    [posted] = [m for m in bot.slack.messages("C0COORD") if m["text"].startswith("【評価日】")]
    assert any(b["type"] == "actions" for b in posted["blocks"])
    clock.at = clock.at.replace(hour=9, minute=40)
    answer = submit(
        bot, COORD, form, {"result": "partly", "note": "一部達成", "decision": "replan"}
    )
    assert answer["response_action"] == "update", answer
    bot.deliver()
    [now] = [m for m in bot.slack.messages("C0COORD") if m["ts"] == posted["ts"]]
    expected = (
        "✅ 支援プラン第1版（ケース *R8-0001*）の評価：2/1 09:40に<@U0COORD>さんが"
        "評価を記録しました。"
    )
    assert now["blocks"][0]["text"]["text"] == expected
    assert now["text"] == expected.replace("*", "")
    assert all(b["type"] != "actions" for b in now["blocks"])
    assert "button" not in json.dumps(now["blocks"]) and "お願いします" not in json.dumps(now)
    [update] = [c for c in bot.slack.calls_to("chat.update") if c.args.get("ts") == posted["ts"]]
    assert update.args["text"] == expected.replace("*", "")
