"""Turning an outbox notice into a Slack message, from the current state of the database.

Rendering at send time means a message that waited (outage, 429) still tells the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from handlers.common.blocks import section
from handlers.common.mrkdwn import escape
from handlers.common.texts import t
from handlers.desk.case_views import case_card
from models.cases.records import case_by_id, summary
from models.queues.tables import Notice, NoticeState


@dataclass(frozen=True)
class Upload:
    """A file the notice shares instead of posting a message (files_upload_v2)."""

    content: bytes
    filename: str
    title: str
    alt_text: str  # read aloud by screen readers; Slack keeps at most 1000 characters


@dataclass(frozen=True)
class Rendered:
    text: str
    blocks: list[dict]
    update_ts: str | None = None  # set: chat.update of this message instead of a new post
    channel: str | None = None  # for updates: the channel of the original message
    file: Upload | None = None  # set: upload this file to the target (text: its comment, if any)


class NotReady(Exception):
    """The notice depends on another that has not been sent yet; try again shortly."""


class Obsolete(Exception):
    """Nothing to send any more (e.g. the message to update was never posted)."""


Renderer = Callable[[Session, Notice, datetime | None], Rendered]
RENDERERS: dict[str, Renderer] = {}


def renders(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the renderer of a notice kind (feature modules are listed in notice_kinds.py)."""

    def register(fn: Renderer) -> Renderer:
        if kind in RENDERERS:
            raise ValueError(f"two renderers for notice kind {kind}")
        RENDERERS[kind] = fn
        return fn

    return register


def render(session: Session, notice: Notice, *, late_due: datetime | None) -> Rendered:
    renderer = RENDERERS.get(notice.kind)
    if renderer is None:
        raise Obsolete(f"unknown notice kind {notice.kind}")
    return renderer(session, notice, late_due)


@renders("case_card")
def _case_card(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    case = case_by_id(session, notice.payload["case_id"])
    text, blocks = case_card(summary(session, case), late_due=late_due)
    return Rendered(text=text, blocks=blocks)


def posted(session: Session, notice_id: int) -> Notice:
    """The sent notice whose message an update is for (NotReady / Obsolete until it is)."""
    message = session.get(Notice, notice_id)
    if message is None or message.state in (NoticeState.failed, NoticeState.cancelled):
        raise Obsolete("the message to update was never posted")
    if message.state != NoticeState.sent:
        raise NotReady("the message to update is not posted yet")
    return message


@renders("case_card_refresh")
def _case_card_refresh(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    card = posted(session, notice.payload["card_notice_id"])
    case = case_by_id(session, notice.payload["case_id"])
    text, blocks = case_card(summary(session, case))
    return Rendered(text=text, blocks=blocks, update_ts=card.result_ts, channel=card.result_channel)


@renders("memo_receipt")
def _memo_receipt(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    s = summary(session, case_by_id(session, notice.payload["case_id"]))
    body = t("receipt.body", number=s.number, agency=escape(s.routed_agency))
    return Rendered(text=t("receipt.text", number=s.number), blocks=[section(body).to_dict()])


@renders("referrer_update")
def _referrer_update(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    s = summary(session, case_by_id(session, notice.payload["case_id"]))
    event = notice.payload["event"]
    body = t(f"referrer.{event}", number=s.number, agency=escape(s.routed_agency))
    text = t(f"referrer.{event}_text", number=s.number)
    return Rendered(text=text, blocks=[section(body).to_dict()])


@renders("delivery_failed")
def _delivery_failed(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    p = notice.payload
    body = t("alert.delivery_failed", kind=p["kind"], target=p["target"], error=escape(p["error"]))
    return Rendered(
        text=t("alert.delivery_failed_text", kind=p["kind"]), blocks=[section(body).to_dict()]
    )
