"""A case's messages at send time: the team's card (posted, then refreshed in place) and what the
referrer hears. Read from the database as it is then, drawn by the desk's views."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.desk.case_views import case_card
from handlers.desk.views import referrer_status, referrer_update
from handlers.notices.readers import Renderer, posted
from handlers.notices.views import Rendered
from models.cases.records import CaseSummary, case_by_id, summary
from models.queues.tables import Notice


def _summary(session: Session, notice: Notice) -> CaseSummary:
    return summary(session, case_by_id(session, notice.payload["case_id"]))


def _case_card(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    text, blocks = case_card(_summary(session, notice), late_due=late_due)
    return Rendered(text=text, blocks=blocks)


def _case_card_refresh(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    card = posted(session, notice.payload["card_notice_id"])
    text, blocks = case_card(_summary(session, notice))
    return Rendered(text=text, blocks=blocks, update_ts=card.result_ts, channel=card.result_channel)


def _referrer_update(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    return referrer_update(_summary(session, notice), notice.payload["event"])


def _referrer_status(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    return referrer_status(_summary(session, notice), notice.payload["event"])


NOTICES: dict[str, Renderer] = {
    "case_card": _case_card,
    "case_card_refresh": _case_card_refresh,
    "referrer_update": _referrer_update,  # the closed loop: receipt number and status
    "referrer_status": _referrer_status,
}
