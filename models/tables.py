"""Imports every table module, so the metadata (and migrations) see the whole schema."""

from models import linknet  # noqa: F401
from models.base import dedup, numbering  # noqa: F401
from models.cases import assessment, consent, records  # noqa: F401
from models.meetings import schedule as meetings  # noqa: F401
from models.ops import audit, retention  # noqa: F401
from models.org import roster  # noqa: F401
from models.outreach import outreach  # noqa: F401
from models.plans import tasks as plans  # noqa: F401
from models.queues import outbox, reminders  # noqa: F401
