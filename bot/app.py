"""create_app(): the Bolt app with every listener, the services injected, events deduplicated."""

from __future__ import annotations

import logging
import traceback

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from handlers import (
    case_desk,
    case_records,
    commands,
    home,
    intake,
    linknet,
    meetings,
    outreach,
    plans,
    reminders,
)
from handlers.services import CONTEXT_KEY, Services
from models.db import transaction
from models.dedup import first_delivery

log = logging.getLogger("tsunagi.app")


def create_app(
    *, services: Services, client: WebClient, signing_secret: str, verify_token: bool = True
) -> App:
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=verify_token,
        raise_error_for_unhandled_request=False,
        request_verification_enabled=True,
    )

    @app.middleware
    def provide_services(context, next):
        context[CONTEXT_KEY] = services
        return next()

    @app.middleware
    def once_per_event(body, next):
        # Slack retries events it thinks we missed; the database remembers which we handled,
        # so a retry is answered but not handled again — across restarts and processes too.
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id:
            with transaction(services.engine) as session:
                fresh = first_delivery(session, event_id, services.clock())
            if not fresh:
                return BoltResponse(status=200, body="")
        return next()

    @app.error
    def on_error(error, body):
        # Only the type and where: exception messages may carry user input.
        kind = body.get("type") if isinstance(body, dict) else None
        log.error(
            "listener failed (%s, request %s)\n%s",
            type(error).__name__,
            kind,
            "".join(traceback.format_tb(error.__traceback__)),
        )

    commands.register(app)
    intake.register(app)
    home.register(app)
    case_desk.register(app)
    case_records.register(app)
    reminders.register(app)
    linknet.register(app)
    outreach.register(app)
    meetings.register(app)
    plans.register(app)
    return app
