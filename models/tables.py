"""Imports every table module, so the metadata (and migrations) see the whole schema."""

from models import audit, cases, dedup, numbering, org, outbox  # noqa: F401
