"""What every notice reader shares: the signature of a renderer, `posted` (the sent message an
update is for), and this package's own notices: the answer to a click, the delivery failure
alert, and the Socket Mode connection down (and back) alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from handlers.notices.views import (
    NotReady,
    Obsolete,
    Rendered,
    click_answer,
    delivery_failed,
    socket_alert,
)
from models.queues.tables import Notice, NoticeState

# A notice kind's reader: (session, notice, late_due) -> what to send, read at send time.
Renderer = Callable[[Session, Notice, datetime | None], Rendered]


def posted(session: Session, notice_id: int) -> Notice:
    """The sent notice whose message an update is for (NotReady / Obsolete until it is)."""
    message = session.get(Notice, notice_id)
    if message is None or message.state in (NoticeState.failed, NoticeState.cancelled):
        raise Obsolete("the message to update was never posted")
    if message.state != NoticeState.sent:
        raise NotReady("the message to update is not posted yet")
    return message


def _delivery_failed(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    p = notice.payload
    return delivery_failed(kind=p["kind"], target=p["target"], error=p["error"])


def _socket_alert(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    p = notice.payload  # queued by bot/socket_mode.py (Alarm)
    back = notice.kind == "socket_back"
    return socket_alert(back=back, since=p["since"], minutes=p["minutes"])


def _click_reply(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    p = notice.payload  # queued with the action (handlers/common/click_reply.py)
    return click_answer(
        text=p["text"],
        user=notice.target,
        way=p["way"],
        channel=p["channel"],
        blocks=p.get("blocks"),
    )


NOTICES: dict[str, Renderer] = {
    "click_reply": _click_reply,
    "delivery_failed": _delivery_failed,
    "socket_down": _socket_alert,
    "socket_back": _socket_alert,
}
