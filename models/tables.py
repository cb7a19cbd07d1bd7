"""Imports every table module, so the metadata (and migrations) see the whole schema."""

from models.base import dedup, numbering  # noqa: F401
from models.cases import tables as cases  # noqa: F401
from models.linknet import acks, ledger  # noqa: F401
from models.meetings import tables as meetings  # noqa: F401
from models.ops import tables as ops  # noqa: F401
from models.org import tables as org  # noqa: F401
from models.outreach import tables as outreach  # noqa: F401
from models.plans import tables as plans  # noqa: F401
from models.queues import tables as queues  # noqa: F401
