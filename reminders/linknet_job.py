"""The monthly Link-net post, as a periodic job of the reminder engine (reminders/jobs.py).

The job runs every minute of office hours (and when the bot starts). From the first business day
of a month at the posting time (default 9:00; the org file's [linknet] post_time = "HH:MM"
changes it) the previous month is due; the job posts it unless it was posted already, and two
processes never post twice (the publication key `post:YYYY-MM` is unique). A bot that was down
on that morning catches up when it is back — but like the reminders, only while the office is
open: started at night or on a closed day, it waits for the next business day's posting time.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, time

from sqlmodel import Session

from models.base.clock import TOKYO
from models.base.db import transaction
from models.base.errors import DomainError
from models.linknet import acks
from models.linknet.periods import Month
from models.linknet.posting import linknet_channel, post, posted_month, prepare_post
from models.org.roster import setting
from reminders.deadlines import ack_deadline, calendar_for, reminder_settings
from reminders.jobs import JobContext, periodic

log = logging.getLogger("tsunagi.linknet")

DEFAULT_POST_TIME = time(9, 0)
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def ack_deadline_function(session: Session) -> acks.Deadline:
    """The town's acknowledgement deadline rule (business calendar, [reminders] settings)."""
    calendar = calendar_for(session)
    rules = reminder_settings(session).ack

    def deadline(received_at: datetime, urgency: str) -> datetime:
        return ack_deadline(calendar, received_at=received_at, urgency=urgency, rules=rules)

    return deadline


def post_time(session: Session) -> time:
    value = (setting(session, "linknet", {}) or {}).get("post_time")
    found = _HHMM.match(value) if isinstance(value, str) else None
    return time(int(found.group(1)), int(found.group(2))) if found else DEFAULT_POST_TIME


def posting_moment(session: Session, month: Month) -> datetime:
    """The first business day of `month` at the posting time (Tatsuno time)."""
    calendar = calendar_for(session)
    day = datetime(month.year, month.month, 1, tzinfo=TOKYO).date()
    if not calendar.is_business_day(day):
        day = calendar.next_business_day(day)
    return datetime.combine(day, post_time(session), tzinfo=TOKYO)


def may_post_at(session: Session, now: datetime) -> bool:
    """A business day, from the posting time until the office closes (Tatsuno time)."""
    calendar = calendar_for(session)
    local = now.astimezone(TOKYO)
    start = post_time(session)
    end = calendar.closes if start < calendar.closes else time(23, 59, 59)
    return calendar.is_business_day(local.date()) and start <= local.time() < end


def due_month(session: Session, now: datetime) -> Month | None:
    """The month whose post is due at `now`: the previous month, from its posting moment, and
    only at a moment a post may go out (a catch-up waits for the next business day's posting
    time, never at night or on a closed day)."""
    this = Month.of(now)
    if now < posting_moment(session, this) or not may_post_at(session, now):
        return None
    return this.plus(-1)


@periodic("linknet_monthly", cron="* * * * *")
def post_linknet_figures(ctx: JobContext) -> None:
    # Three steps, so memos being sent never wait for the disclosure audit (a second or more):
    # record the deadlines (short write), decide the figures (read only), publish (short write;
    # post() decides again if another post changed the ledger meanwhile).
    with transaction(ctx.engine, write=False) as session:  # every minute: a read, no lock
        month = due_month(session, ctx.now)
        if month is None or posted_month(session, month) is not None:
            return
    try:
        with transaction(ctx.engine) as session:
            if posted_month(session, month) is not None:
                return
            linknet_channel(session)  # none in the org file: say so before any work
            deadline = ack_deadline_function(session)
            acks.record_ack_deadlines(session, deadline=deadline, until=ctx.now)
        with transaction(ctx.engine, write=False) as session:
            draft = prepare_post(session, month=month, now=ctx.now)
        with transaction(ctx.engine) as session:
            result = post(session, month=month, now=ctx.now, deadline=deadline, draft=draft)
    except DomainError as exc:  # e.g. no Link-net channel in the org file
        log.info("Link-net post for %s not made: %s", month, exc.code)
        return
    if result.created:
        ctx.kick_delivery()
