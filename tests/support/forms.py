"""A form's answer as the person finally sees it.

When a form's work outlasts Slack's wait (a stalled disk on a busy CI machine, say), the bot
acknowledges with the 「処理しています」 screen and sends the real answer by views.update
(handlers/common/timely.py). Tests that submit a form and read its answer take that answer
instead of the interim screen, so a slow moment does not turn into a false failure."""

from __future__ import annotations

import json

from handlers.common.texts import t


def _interim(body: dict) -> bool:
    blocks = (body.get("view") or {}).get("blocks")
    return t("form.working") in json.dumps(blocks or [], ensure_ascii=False)


def settled(slack, view_id: str, body: dict, updates_before: int) -> dict:
    """`body` (the acknowledgement's answer), or, if it was the interim screen, the view the
    bot then put in its place, in the acknowledgement's shape. `updates_before`: how many
    views.update calls the stand-in had seen before the submission."""
    if not _interim(body):
        return body

    def replaced():
        calls = slack.calls_to("views.update")[updates_before:]
        return [c for c in calls if c.args.get("view_id") == view_id and c.ok]

    view = slack.wait_for(replaced, timeout=35)[-1].args["view"]
    return {
        "response_action": "update",
        "view": json.loads(view) if isinstance(view, str) else view,
    }
