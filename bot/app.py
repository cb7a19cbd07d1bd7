"""create_app(): the Bolt app with every listener, the services injected, events deduplicated."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from bot import failures
from bot.logging_safety import install as install_safe_logging
from handlers.common import commands, slots
from handlers.common.services import CONTEXT_KEY, Services
from handlers.common.timely import answer_in_time
from handlers.desk import listeners as case_desk
from handlers.home import listeners as home
from handlers.intake import listeners as intake
from handlers.linknet import listeners as linknet
from handlers.meetings import listeners as meetings
from handlers.outreach import listeners as outreach
from handlers.partners import listeners as partners
from handlers.plans import listeners as plans
from handlers.reminders import listeners as reminders
from handlers.unmatched import listeners as unmatched
from models.base.db import admit_with

log = logging.getLogger("tsunagi.app")

LISTENER_THREADS = 24  # listeners at once, acknowledged or still working after their ack

# Every listener package, each wired by its register(app): Bolt listeners and /tsunagi subcommands.
# partners first: its middleware checks who acts (team, user) before any listener runs.
FEATURES = (
    partners,
    commands,
    intake,
    home,
    case_desk,
    reminders,
    linknet,
    outreach,
    meetings,
    plans,
    unmatched,  # last: what no other listener takes (a stale or forged button, form, shortcut)
)


@contextmanager
def _quiet_token_warning():
    """Bolt warns in English that SLACK_BOT_TOKEN from the environment is unused once a client
    is given; the client holds that very token, so the warning says nothing to an operator."""
    noise = warning_client_prioritized_and_token_skipped()
    bolt_log = logging.getLogger("slack_bolt.App")
    drop = logging.Filter()
    drop.filter = lambda record: record.getMessage() != noise
    bolt_log.addFilter(drop)
    try:
        yield
    finally:
        bolt_log.removeFilter(drop)


def create_app(
    *, services: Services, client: WebClient, signing_secret: str, verify_token: bool = True
) -> App:
    install_safe_logging()
    # A listener's transactions after its acknowledgement go in turns (handlers/common/slots.py).
    admit_with(slots.turn)
    with _quiet_token_warning():
        app = App(
            client=client,
            signing_secret=signing_secret,
            token_verification_enabled=verify_token,
            raise_error_for_unhandled_request=False,
            # Verified in bot/door.py before the body is parsed; Bolt's check logs the body.
            request_verification_enabled=False,
            # Bolt's default pool has 5 threads, and a listener keeps its thread for the work it
            # does after ack() (a reply, a Slack call): under a burst the next request's listener
            # queued behind that work and its acknowledgement waited (`tsunagi bench`: status
            # p99 3x a bare app). Threads are cheap while they wait; the work after the ack
            # runs a few at a time (handlers/common/slots.py).
            listener_executor=slots.ListenerPool(
                max_workers=LISTENER_THREADS, thread_name_prefix="tsunagi-listener"
            ),
        )

    @app.middleware
    def provide_services(context, next):
        context[CONTEXT_KEY] = services
        # Bolt builds a fresh WebClient for every request, which opens a new connection for
        # every call; ours keeps one per thread (bot/slack.py). The token never changes.
        context["client"] = client
        return next()

    # A form's answer within Slack's 3 s, even when its work stalls (handlers/common/timely.py).
    app.middleware(answer_in_time)

    # Slack retries events it thinks we missed: the retry check is a database write, so it runs
    # in the event's listener after the acknowledgement (handlers.services.first_delivery_of),
    # never here, where every request waits for it before Slack gets its answer.

    @app.error
    def on_error(error, body, client, response, context):
        # The person is told, under a reference code that is also in the log line; as every
        # answer, it reaches a person of another organisation too (context: their door).
        return failures.answer(error, body, client, response, context)

    for feature in FEATURES:
        feature.register(app)
    return app
