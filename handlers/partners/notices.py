"""`referrer_reach`: a referrer's receipt or status notice, sent where they can see it when a DM
to them cannot be opened (bot/delivery.py reroutes it here). Read at send time: the case's
receipt number and its status word, nothing else."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.notices.readers import Renderer
from handlers.notices.views import Obsolete, Rendered
from handlers.partners.views import reach
from models.cases.records import summary
from models.cases.tables import Case
from models.queues.tables import Notice

RECEIPT_KINDS = ("memo_receipt",)  # the rest (referrer_update, referrer_status) carry a status


def _referrer_reach(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    p = notice.payload
    case = session.get(Case, p["case_id"])
    if case is None:  # erased (retention) before it could be sent
        raise Obsolete("the case is gone")
    s = summary(session, case)
    return reach(
        number=s.number,
        status=None if p["of"] in RECEIPT_KINDS else s.referrer_status,
        user=p["user"],
        thread_ts=p.get("thread_ts"),
        ephemeral=p["mode"] == "ephemeral",
    )


NOTICES: dict[str, Renderer] = {"referrer_reach": _referrer_reach}
