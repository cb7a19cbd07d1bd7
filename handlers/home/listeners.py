"""App Home: the member's desk, published when the Home tab opens and after their actions."""

from __future__ import annotations

import logging
import re
import threading

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from handlers.common import ids, slots
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


class _Drawings:
    """One Home drawing per person at a time. The Home opened again while it is drawn (a person
    moving between tabs) is folded into one more drawing after it, not one drawing each: the
    person sees the desk as it is at the end, and a burst of opens costs two drawings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asked_again: dict[str, bool] = {}  # the person -> opened again while drawn

    def start(self, user: str) -> bool:
        """True: draw now. False: a drawing is under way; it will run once more."""
        with self._lock:
            if user in self._asked_again:
                self._asked_again[user] = True
                return False
            self._asked_again[user] = False
            return True

    def again(self, user: str) -> bool:
        """After a drawing: True to draw once more; False ends this person's drawing."""
        with self._lock:
            if self._asked_again.get(user):
                self._asked_again[user] = False
                return True
            self._asked_again.pop(user, None)
            return False

    def abandon(self, user: str) -> None:
        with self._lock:
            self._asked_again.pop(user, None)


_drawings = _Drawings()


def publish_home(event: dict, body: dict, client: WebClient, context: dict) -> None:
    """app_home_opened: Bolt has acknowledged the event before this runs (events are
    acknowledged first), so the retry check and the desk's reads wait for no HTTP answer."""
    user = event.get("user")
    if event.get("tab") not in (None, "home") or not user:
        return
    slots.acknowledged()  # acknowledged by Bolt already: the drawing goes in turns
    # The retry check comes before folding: Slack may retry the very event being drawn (its
    # answer came late), and folded in, that retry would draw the Home once more.
    if not first_delivery_of(context, body):
        return
    if not _drawings.start(user):
        return  # folded into the drawing under way, which runs once more
    try:
        refresh_home(client, context, user)
        while _drawings.again(user):
            refresh_home(client, context, user)
    except BaseException:
        _drawings.abandon(user)
        raise


def turn_page(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
    """前へ / 次へ: the same desk, one list moved to another page."""
    ack()
    section, _, page = (body["actions"][0].get("value") or "").partition(":")
    pages = read_pages((body.get("view") or {}).get("private_metadata"))
    if section in PAGED and page.isdigit():
        pages[section] = int(page)
    refresh_home(client, context, body["user"]["id"], pages)
