"""Every outbox notice kind and every reminder rule, with the reader that renders it: the one
table bot/delivery.py renders from.

Each feature lists its own in handlers/<feature>/notices.py — NOTICES (notice kind -> renderer)
and REMINDERS (reminder rule -> what its message says) — and this module puts them together.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.desk import notices as desk
from handlers.intake import notices as intake
from handlers.linknet import notices as linknet
from handlers.meetings import notices as meetings
from handlers.notices import readers as own
from handlers.notices.readers import Renderer
from handlers.notices.views import Obsolete, Rendered
from handlers.outreach import notices as outreach
from handlers.partners import notices as partners
from handlers.plans import notices as plans
from handlers.reminders import notices as reminders
from handlers.reminders.notices import ContentReader
from models.queues.tables import Notice


def _one_table(*tables: dict) -> dict:
    joined: dict = {}
    for table in tables:
        for key, reader in table.items():
            if key in joined:
                raise ValueError(f"two renderers for {key}")
            joined[key] = reader
    return joined


REMINDER_CONTENTS: dict[str, ContentReader] = _one_table(
    reminders.REMINDERS,
    meetings.REMINDERS,
    outreach.REMINDERS,
    plans.REMINDERS,
)
RENDERERS: dict[str, Renderer] = _one_table(
    desk.NOTICES,
    intake.NOTICES,
    linknet.NOTICES,
    meetings.NOTICES,
    own.NOTICES,
    outreach.NOTICES,
    partners.NOTICES,
    plans.NOTICES,
    reminders.notices(REMINDER_CONTENTS),
)


def render(session: Session, notice: Notice, *, late_due: datetime | None) -> Rendered:
    renderer = RENDERERS.get(notice.kind)
    if renderer is None:
        raise Obsolete(f"unknown notice kind {notice.kind}")
    return renderer(session, notice, late_due)
