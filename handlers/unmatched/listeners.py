"""What no other listener takes: a button, form, shortcut or option list this version does not
know. A message posted by an earlier version keeps its buttons in Slack after an upgrade, and
anyone can send a forged one. Without an answer Slack shows the person a warning sign and
nothing else (Bolt answers 404); here they are told in words, and one line is logged with the
kind of request only. Registered last (bot/app.py), so it takes only what the others left.
"""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.common.blocks import notice_modal
from handlers.common.replies import tell
from handlers.common.texts import t

log = logging.getLogger("tsunagi.handlers")

ANY = re.compile(".*")


def register(app: App) -> None:
    app.action(ANY)(stale_button)
    app.view(ANY)(stale_form)
    app.view_closed(ANY)(_ack_only)
    app.shortcut(ANY)(stale_shortcut)
    app.options(ANY)(no_options)


def stale_button(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    log.warning("a button no listener knows was pressed (an old message, or forged)")
    tell(client, body, t("unmatched.button"), context=context)


def stale_form(ack: Ack) -> None:
    log.warning("a form no listener knows was sent (opened before an upgrade, or forged)")
    ack(response_action="update", view=notice_modal(t("unmatched.title"), t("unmatched.form")))


def stale_shortcut(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    ack()
    log.warning("a shortcut no listener knows was used (forged, or an old manifest)")
    try:
        client.views_open(
            trigger_id=body["trigger_id"],
            view=notice_modal(t("unmatched.title"), t("unmatched.button")),
        )
    except SlackApiError:
        tell(client, body, t("unmatched.button"), context=context)


def no_options(ack: Ack) -> None:
    log.warning("an option list no listener knows was asked for")
    ack(options=[])


def _ack_only(ack: Ack) -> None:
    ack()
