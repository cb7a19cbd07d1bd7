"""App Home: published when a member opens the bot's Home tab."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from handlers.services import services
from handlers.views.home import home_view
from models.db import transaction
from models.desk import waiting_count
from models.org import member_by_slack_id


def register(app: App) -> None:
    app.event("app_home_opened")(publish_home)


def publish_home(event: dict, client: WebClient, context: dict) -> None:
    if event.get("tab") not in (None, "home"):
        return
    svc = services(context)
    user = event["user"]
    with transaction(svc.engine) as session:
        member = member_by_slack_id(session, user)
        waiting = waiting_count(session, member) if member else None
    client.views_publish(
        user_id=user, view=home_view(registered=member is not None, waiting=waiting)
    )
