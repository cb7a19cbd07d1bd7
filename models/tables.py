"""Imports every table module, so the metadata (and migrations) see the whole schema."""

from models import (  # noqa: F401
    audit,
    cases,
    dedup,
    meetings,
    numbering,
    org,
    outbox,
    outreach,
    plans,
)
