"""Posting the monthly figures: one publication per month, through the outbox.

`post(...)` is what the monthly job (reminders/linknet_job.py), `tsunagi linknet post` and the
tests call, in one transaction: record the acknowledgement deadlines, make the draft, publish it
into the ledger and queue two notices — the message, then the chart (which waits for the
message). Idempotent per month: the publication key `post:YYYY-MM` exists once; `again=True`
makes a new publication (`post:YYYY-MM:again:N`) with the same frozen counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from models.base.errors import DomainError
from models.linknet import (
    acks,
    figures,  # by the module's name: tests replace make_draft
    ledger,
)
from models.linknet.figures import linknet_k, post_layout, publish, report_layout
from models.linknet.periods import Month
from models.org.roster import channel_for
from models.queues import outbox
from models.queues.tables import Notice

if TYPE_CHECKING:
    from models.linknet.figures import Draft

log = logging.getLogger("tsunagi.linknet")

POST_KIND = "linknet_post"  # rendered by handlers/linknet/notices.py
CHART_KIND = "linknet_chart"


def post_key(publication_id: int) -> str:
    return f"linknet:{publication_id}:post"


def chart_key(publication_id: int) -> str:
    return f"linknet:{publication_id}:chart"


def publication_key(month: Month) -> str:
    return f"post:{month}"


def post_notice(session: Session, publication_id: int) -> Notice | None:
    """The outbox notice of a publication's message (its chart goes out only after it)."""
    return session.exec(select(Notice).where(Notice.key == post_key(publication_id))).first()


@dataclass(frozen=True)
class PostResult:
    publication_id: int
    created: bool  # False: this month was posted already (nothing queued)
    channel: str
    withheld: frozenset[str]


def linknet_channel(session: Session) -> str:

    channel = channel_for(session, "linknet")
    if not channel:
        raise DomainError("linknet.no_channel")
    return channel


def post(
    session: Session,
    *,
    month: Month,
    now: datetime,
    deadline: acks.Deadline,
    again: bool = False,
    by_id: int | None = None,
    draft: Draft | None = None,
) -> PostResult:
    """Publish the month's figures and queue the post. `draft`: made beforehand (prepare_post,
    in a read-only transaction, so writers do not wait for the disclosure audit); used if the
    ledger has not changed since, else the figures are decided again here."""

    channel = linknet_channel(session)
    key = publication_key(month)
    existing = ledger.publication_by_key(session, key)
    if existing is not None and not again:
        return PostResult(existing.id, False, channel, frozenset())
    if existing is not None:
        runs = ledger.publications_for(session, kind="post", first=month.index, last=month.index)
        key = f"{key}:again:{len(runs)}"
    acks.record_ack_deadlines(session, deadline=deadline, until=now)
    layout = post_layout(month)
    if draft is None or draft.layout != layout or draft.ledger_head != ledger.head(session):
        draft = figures.make_draft(session, layout, k=linknet_k(session), now=now)
    if draft.inherited:  # counts only: how many, never which
        log.warning(
            "%d small counts already followed from earlier publications", len(draft.inherited)
        )
    publication = publish(session, draft, key=key, at=now, by_id=by_id)
    payload = {"publication_id": publication.id}
    outbox.enqueue(
        session,
        key=post_key(publication.id),
        kind=POST_KIND,
        target=channel,
        payload=payload,
        at=now,
    )
    outbox.enqueue(
        session,
        key=chart_key(publication.id),
        kind=CHART_KIND,
        target=channel,
        payload=payload,
        at=now,
    )
    return PostResult(publication.id, True, channel, frozenset(draft.withheld))


def prepare_post(session: Session, *, month: Month, now: datetime) -> Draft:
    """The month's figures, decided without writing (the slow part of post)."""

    return figures.make_draft(session, post_layout(month), k=linknet_k(session), now=now)


def posted_month(session: Session, month: Month) -> int | None:
    """The publication id of the month's first post, if it was posted."""
    row = ledger.publication_by_key(session, publication_key(month))
    return row.id if row is not None else None


def report(
    session: Session,
    *,
    fy: int,
    now: datetime,
    deadline: acks.Deadline,
    by_id: int | None = None,
) -> int:
    """The yearly report under disclosure control, recorded in the ledger (same cells again for
    the same period: the report for a period is made once and then read back)."""

    layout = report_layout(fy, now=now)
    key = f"report:{fy}:{layout.period.last}"
    existing = ledger.publication_by_key(session, key)
    if existing is not None:
        return existing.id
    acks.record_ack_deadlines(session, deadline=deadline, until=now)
    draft = figures.make_draft(session, layout, k=linknet_k(session), now=now)
    return publish(session, draft, key=key, at=now, by_id=by_id).id
