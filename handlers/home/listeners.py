"""App Home: the member's desk, published when the Home tab opens and after their actions."""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from handlers.common import ids
from handlers.common.services import first_delivery_of, services
from handlers.home.views import PAGED, home_view, read_pages
from models.base.db import transaction
from models.desk import sections as desks
from models.desk.lines import DeadlineOf
from models.org.roster import member_by_slack_id
from reminders.deadlines import ack_deadline, calendar_for, reminder_settings

log = logging.getLogger("tsunagi.handlers")


def register(app: App) -> None:
    app.event("app_home_opened")(publish_home)
    app.action(re.compile(f"^{ids.ACTION_HOME_PAGE}"))(turn_page)


def deadline_rule(session: Session) -> DeadlineOf:
    """When a memo must be taken by: the reminders' rule (business calendar, per urgency)."""
    calendar = calendar_for(session)
    rules = reminder_settings(session).ack

    def deadline_of(sent_at, urgency):
        return ack_deadline(calendar, received_at=sent_at, urgency=urgency, rules=rules)

    return deadline_of


def build_desk(session: Session, member, *, now, pages: dict[str, int] | None = None, **kw):
    return desks.build(
        session, member, now=now, deadline_of=deadline_rule(session), pages=pages, **kw
    )


def refresh_home(
    client: WebClient, context: dict, user: str, pages: dict[str, int] | None = None
) -> None:
    """Publish the user's desk as it is now (strangers get a short note)."""
    svc = services(context)
    now = svc.clock()
    with transaction(svc.engine, write=False) as session:  # a read: never waits behind writers
        member = member_by_slack_id(session, user)
        desk = build_desk(session, member, now=now, pages=pages) if member else None
        view = home_view(desk, now=now)
    try:
        client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        log.warning("could not publish the Home tab: %s", exc.response.get("error"))


def publish_home(event: dict, body: dict, client: WebClient, context: dict) -> None:
    """app_home_opened: Bolt has acknowledged the event before this runs (events are
    acknowledged first), so the retry check and the desk's reads wait for no HTTP answer."""
    if event.get("tab") not in (None, "home"):
        return
    if not first_delivery_of(context, body):
        return
    refresh_home(client, context, event["user"])


def turn_page(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """前へ / 次へ: the same desk, one list moved to another page."""
    ack()
    section, _, page = (body["actions"][0].get("value") or "").partition(":")
    pages = read_pages((body.get("view") or {}).get("private_metadata"))
    if section in PAGED and page.isdigit():
        pages[section] = int(page)
    refresh_home(client, context, body["user"]["id"], pages)
