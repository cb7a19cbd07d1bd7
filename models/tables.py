"""Imports every table module, so the metadata (and migrations) see the whole schema."""

from models import (  # noqa: F401
    assessment,
    audit,
    cases,
    consent,
    dedup,
    linknet,
    meetings,
    numbering,
    org,
    outbox,
    outreach,
    plans,
    reminders,
    retention,
)
