"""The memo's receipt at send time: the case as it is then, drawn by handlers/intake/views.py."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.intake.views import receipt
from handlers.notices.readers import Renderer
from handlers.notices.views import Rendered
from models.cases.records import case_by_id, summary
from models.queues.tables import Notice


def _memo_receipt(session: Session, notice: Notice, late_due: datetime | None) -> Rendered:
    return receipt(summary(session, case_by_id(session, notice.payload["case_id"])))


NOTICES: dict[str, Renderer] = {"memo_receipt": _memo_receipt}
