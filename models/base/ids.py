"""Ids that come from outside (a button's value, a form's metadata, a typed number)."""

from __future__ import annotations

ID_MAX = 2**31 - 1  # PostgreSQL's integer key: a larger number would fail in the query


def id_or_none(value: object) -> int | None:
    """A whole number that can be a row's id, else None (anyone can forge a button's value)."""
    if isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= ID_MAX else None
